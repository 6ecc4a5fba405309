"""UFDL users (create/list/retrieve), teams (create/list/retrieve/destroy), memberships
(add/update/remove and their errors) and the permissions endpoint."""

from __future__ import annotations

import re

import pytest
from ufdl_helpers import (
    ALLOW_COLLECTION,
    ALLOW_DETAIL,
    ALLOW_MEMBERSHIPS,
    ALLOW_READ,
    FORBIDDEN,
    MEMBERSHIP_KEYS,
    NO_TEAM,
    NO_USER,
    NOT_PROVIDED,
    REQUIRED,
    TEAM_KEYS,
    TIMESTAMP,
    USER_KEYS,
    call,
    check,
    list_names,
    token,
    tokens,
    ufdl,
)

MEMBERSHIPS = "/v1/teams/1/memberships"
TEAM_A_MEMBERS = [{"pk": 2, "username": "alice"}, {"pk": 3, "username": "bob"}, {"pk": 4, "username": "xena"},
                  {"pk": 5, "username": "dave"}]


def parse_failure(body, message: str) -> dict:
    return {"detail": f"Unable to parse JSON: Error deserialising raw JSON {body!r}: "
                      f"Error validating raw JSON element {body!r}: {message}"}


# -- users ----------------------------------------------------------------------------------------

async def test_admin_creates_a_user_201_in_key_order_without_password_staff_as_asked(make_mock):
    client = await ufdl(make_mock)
    body = {"username": "  frank ", "password": "pw", "first_name": "Frank", "last_name": "Lee",
            "email": "frank@example.com", "is_superuser": True, "is_staff": True, "pk": 99, "foo": 1}
    user = check(await call(client, "POST", "/v1/users/create", user="admin", json_body=body), 201,
                 allow=ALLOW_COLLECTION, keys=USER_KEYS)
    assert re.fullmatch(TIMESTAMP, user.pop("date_joined"))
    assert user == {"username": "frank", "pk": 8, "last_login": None, "is_superuser": False, "first_name": "Frank",
                    "last_name": "Lee", "email": "frank@example.com", "is_staff": True, "is_active": True}
    assert (await tokens(client, "frank", "pw"))["access"]


async def test_a_user_needs_only_username_and_password(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/users/create", user="staff", json_body={"username": "g", "password": "p"})
    user = check(answer, 201, allow=ALLOW_COLLECTION, keys=USER_KEYS)
    assert (user["first_name"], user["last_name"], user["email"]) == ("", "", "")


async def test_user_fields_are_trimmed_before_their_length_is_checked(make_mock):
    client = await ufdl(make_mock)
    name = "u" * 150
    body = {"username": f"  {name}  ", "password": "  " + "p" * 128 + " ", "first_name": " " + "f" * 150 + " "}
    user = check(await call(client, "POST", "/v1/users/create", user="admin", json_body=body), 201)
    assert (user["username"], user["first_name"]) == (name, "f" * 150)
    assert (await tokens(client, name, "p" * 128))["access"]


async def test_users_can_be_created_from_a_form(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/users/create", user="admin", data="username=h&password=p&email=",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert check(answer, 201, allow=ALLOW_COLLECTION)["username"] == "h"


@pytest.mark.parametrize(("body", "errors"), [
    ({"username": "alice", "password": "p"}, {"username": ["A user with that username already exists."]}),
    ({"username": "new"}, {"password": REQUIRED}),
    ({}, {"username": REQUIRED, "password": REQUIRED}),
    ({"username": "", "password": ""},
     {"username": ["This field may not be blank."], "password": ["This field may not be blank."]}),
    ({"username": "bad name!", "password": "p"}, {"username": [
        "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."]}),
    ({"username": "u" * 151, "password": "p"}, {"username": ["Ensure this field has no more than 150 characters."]}),
    ({"username": "new", "password": "p", "email": "not-an-address"}, {"email": ["Enter a valid email address."]}),
    ({"username": "alice", "email": "x@"},
     {"username": ["A user with that username already exists."], "password": REQUIRED,
      "email": ["Enter a valid email address."]}),
    ({"username": "new", "password": "p", "first_name": None}, {"first_name": ["This field may not be null."]}),
    ([], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
])
async def test_user_create_field_errors(make_mock, body, errors):
    client = await ufdl(make_mock)
    check(await call(client, "POST", "/v1/users/create", user="admin", json_body=body), 400, errors,
          allow=ALLOW_COLLECTION)


@pytest.mark.parametrize("email", ["", "a@b.co", "first.last+tag@sub.example.org", "root@localhost"])
async def test_valid_or_blank_emails_are_accepted(make_mock, email):
    client = await ufdl(make_mock)
    body = {"username": "new", "password": "p", "email": email}
    assert check(await call(client, "POST", "/v1/users/create", user="admin", json_body=body), 201)["email"] == email


async def test_only_admins_create_users(make_mock):
    client = await ufdl(make_mock)
    body = {"username": "new", "password": "p"}
    check(await call(client, "POST", "/v1/users/create", json_body=body), 401, NOT_PROVIDED, allow=ALLOW_COLLECTION)
    for user in ("dave", "alice", "erin"):
        check(await call(client, "POST", "/v1/users/create", user=user, json_body=body), 403, FORBIDDEN,
              allow=ALLOW_COLLECTION)


async def test_admin_lists_every_user_by_pk_and_can_filter(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    users = check(await call(client, "POST", "/v1/users/list", access=admin), 200, allow=ALLOW_COLLECTION)
    assert [u["username"] for u in users] == ["admin", "alice", "bob", "xena", "dave", "erin", "staff"]
    assert all(list(u) == USER_KEYS for u in users)
    assert users[0]["email"] == "admin@admin.net" and users[0]["is_superuser"] is True
    body = {"expressions": [{"type": "contains", "field": "username", "sub_string": "A", "case_insensitive": True}],
            "order_by": [{"field": "username", "ascending": False}]}
    users = check(await call(client, "POST", "/v1/users/list", access=admin, json_body=body), 200)
    assert [u["username"] for u in users] == ["xena", "staff", "dave", "alice", "admin"]
    bad = await call(client, "POST", "/v1/users/list", access=admin, json_body={"bogus": 1})
    check(bad, 400, parse_failure({"bogus": 1}, "Additional properties are not allowed ('bogus' was unexpected)"),
          allow=ALLOW_COLLECTION)


async def test_only_admins_list_users(make_mock):
    client = await ufdl(make_mock)
    check(await call(client, "POST", "/v1/users/list"), 401, NOT_PROVIDED, allow=ALLOW_COLLECTION)
    check(await call(client, "POST", "/v1/users/list", user="dave"), 403, FORBIDDEN, allow=ALLOW_COLLECTION)


async def test_retrieve_user_is_admin_only_even_for_oneself(make_mock):
    client = await ufdl(make_mock)
    user = check(await call(client, "GET", "/v1/users/2", user="admin"), 200, allow=ALLOW_DETAIL, keys=USER_KEYS)
    assert user["username"] == "alice"
    check(await call(client, "GET", "/v1/users/99", user="admin"), 404, NO_USER, allow=ALLOW_DETAIL)
    check(await call(client, "GET", "/v1/users/2", user="alice"), 403, FORBIDDEN, allow=ALLOW_DETAIL)
    check(await call(client, "GET", "/v1/users/99", user="alice"), 403, FORBIDDEN, allow=ALLOW_DETAIL)
    check(await call(client, "GET", "/v1/users/2"), 401, NOT_PROVIDED, allow=ALLOW_DETAIL)


# -- teams ----------------------------------------------------------------------------------------

async def test_admin_creates_a_team_without_members(make_mock):
    client = await ufdl(make_mock)
    team = check(await call(client, "POST", "/v1/teams/create", user="admin", json_body={"name": " team-c "}), 201,
                 allow=ALLOW_COLLECTION, keys=TEAM_KEYS)
    assert re.fullmatch(TIMESTAMP, team.pop("creation_time"))
    assert team == {"pk": 3, "name": "team-c", "members": [], "creator": 1, "deletion_time": None}


async def test_team_create_errors_and_permissions(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "POST", "/v1/teams/create", access=admin, json_body={"name": "team-a"}), 400,
          {"name": ["team with this name already exists."]}, allow=ALLOW_COLLECTION)
    check(await call(client, "POST", "/v1/teams/create", access=admin, json_body={}), 400, {"name": REQUIRED})
    check(await call(client, "POST", "/v1/teams/create", access=admin, json_body={"name": ""}), 400,
          {"name": ["This field may not be blank."]})
    check(await call(client, "POST", "/v1/teams/create", json_body={"name": "x"}), 401, NOT_PROVIDED,
          allow=ALLOW_COLLECTION)
    check(await call(client, "POST", "/v1/teams/create", user="dave", json_body={"name": "x"}), 403, FORBIDDEN,
          allow=ALLOW_COLLECTION)


async def test_the_name_of_a_soft_deleted_team_can_be_reused(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "DELETE", "/v1/teams/2", access=admin), 204, allow=ALLOW_DETAIL)
    check(await call(client, "POST", "/v1/teams/create", access=admin, json_body={"name": "team-b"}), 201)


async def test_team_list_admin_sees_all_members_their_own(make_mock):
    client = await ufdl(make_mock)
    teams = check(await call(client, "POST", "/v1/teams/list", user="admin"), 200, allow=ALLOW_COLLECTION)
    assert [t["name"] for t in teams] == ["team-a", "team-b"]
    assert teams[0]["members"] == TEAM_A_MEMBERS and list(teams[0]) == TEAM_KEYS
    for user, names in (("alice", ["team-a", "team-b"]), ("bob", ["team-a"]), ("erin", [])):
        teams = check(await call(client, "POST", "/v1/teams/list", user=user), 200)
        assert [t["name"] for t in teams] == names
    check(await call(client, "POST", "/v1/teams/list"), 401, NOT_PROVIDED, allow=ALLOW_COLLECTION)


async def test_team_list_hides_soft_deleted_teams_unless_include_inactive_and_filters(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "DELETE", "/v1/teams/2", access=admin), 204)
    listed = check(await call(client, "POST", "/v1/teams/list", access=admin), 200)
    assert [t["name"] for t in listed] == ["team-a"]
    body = {"include_inactive": True, "order_by": [{"field": "name", "ascending": False}]}
    listed = check(await call(client, "POST", "/v1/teams/list", access=admin, json_body=body), 200)
    assert [t["name"] for t in listed] == ["team-b", "team-a"]
    body = {"expressions": [{"type": "exact", "field": "creator.username", "value": "admin"}]}
    assert len(check(await call(client, "POST", "/v1/teams/list", access=admin, json_body=body), 200)) == 1
    check(await call(client, "POST", "/v1/teams/list", access=admin, json_body={"expressions": 1}), 400,
          parse_failure({"expressions": 1}, "1 is not of type 'array'"), allow=ALLOW_COLLECTION)


async def test_team_retrieve_for_admins_and_members_of_any_level(make_mock):
    client = await ufdl(make_mock)
    for user in ("admin", "bob", "xena", "alice", "dave"):
        team = check(await call(client, "GET", "/v1/teams/1", user=user), 200, allow=ALLOW_DETAIL, keys=TEAM_KEYS)
        assert team["members"] == TEAM_A_MEMBERS and team["name"] == "team-a" and team["creator"] == 1
    check(await call(client, "GET", "/v1/teams/1", user="erin"), 403, FORBIDDEN, allow=ALLOW_DETAIL)
    check(await call(client, "GET", "/v1/teams/2", user="bob"), 403, FORBIDDEN, allow=ALLOW_DETAIL)
    check(await call(client, "GET", "/v1/teams/9", user="admin"), 404, NO_TEAM, allow=ALLOW_DETAIL)


async def test_team_destroy_soft_deletes_it_and_its_memberships_but_not_its_projects(make_mock):
    client = await ufdl(make_mock)
    check(await call(client, "DELETE", "/v1/teams/1", user="alice"), 403, FORBIDDEN, allow=ALLOW_DETAIL)
    dave = await token(client, "dave")
    check(await call(client, "DELETE", "/v1/teams/1", access=dave), 204, allow=ALLOW_DETAIL)
    admin = await token(client)
    team = check(await call(client, "GET", "/v1/teams/1", access=admin), 200, allow=ALLOW_DETAIL)
    assert team["members"] == [] and re.fullmatch(TIMESTAMP, team["deletion_time"])
    check(await call(client, "DELETE", "/v1/teams/1", access=admin), 204)
    again = check(await call(client, "GET", "/v1/teams/1", access=admin), 200)
    assert again["deletion_time"] == team["deletion_time"]
    check(await call(client, "GET", "/v1/teams/1", access=dave), 403, FORBIDDEN)
    assert await list_names(client) == ["Alpha", "Beta", "Gamma"]
    assert await list_names(client, user="dave") == []


# -- memberships ----------------------------------------------------------------------------------

async def test_add_membership_returns_the_membership_and_grants_access(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "PATCH", MEMBERSHIPS, user="dave",
                        json_body={"username": "erin", "method": "add", "permissions": "W"})
    membership = check(answer, 200, allow=ALLOW_MEMBERSHIPS, keys=MEMBERSHIP_KEYS)
    assert re.fullmatch(TIMESTAMP, membership.pop("creation_time"))
    assert membership == {"user": 6, "team": 1, "permissions": "W", "creator": 5, "deletion_time": None}
    team = check(await call(client, "GET", "/v1/teams/1", user="admin"), 200)
    assert team["members"] == [*TEAM_A_MEMBERS, {"pk": 6, "username": "erin"}]
    check(await call(client, "POST", "/v1/projects/create", user="erin", json_body={"name": "E", "team": 1}), 201)


async def test_add_without_permissions_defaults_to_read(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "PATCH", MEMBERSHIPS, user="admin", json_body={"username": "erin", "method": "add"})
    assert check(answer, 200)["permissions"] == "R"
    assert await list_names(client, user="erin") == ["Alpha", "Beta"]


async def test_update_changes_permissions_but_not_creator_or_creation_time(make_mock):
    client = await ufdl(make_mock)
    added = check(await call(client, "PATCH", MEMBERSHIPS, user="admin",
                             json_body={"username": "erin", "method": "add", "permissions": "X"}), 200)
    updated = check(await call(client, "PATCH", MEMBERSHIPS, user="dave",
                               json_body={"username": "erin", "method": "update", "permissions": "A"}), 200,
                    allow=ALLOW_MEMBERSHIPS, keys=MEMBERSHIP_KEYS)
    assert updated == {**added, "permissions": "A"}
    assert check(await call(client, "GET", "/v1/teams/1/permissions/erin", user="admin"), 200) == "A"


async def test_remove_soft_deletes_the_membership_and_re_adding_appends_a_new_one(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    removed = check(await call(client, "PATCH", MEMBERSHIPS, access=admin,
                               json_body={"username": "alice", "method": "remove", "permissions": "A"}), 200,
                    allow=ALLOW_MEMBERSHIPS, keys=MEMBERSHIP_KEYS)
    assert removed["user"] == 2 and removed["permissions"] == "W" and re.fullmatch(TIMESTAMP, removed["deletion_time"])
    team = check(await call(client, "GET", "/v1/teams/1", access=admin), 200)
    assert team["members"] == TEAM_A_MEMBERS[1:]
    again = check(await call(client, "PATCH", MEMBERSHIPS, access=admin,
                             json_body={"username": "alice", "method": "add", "permissions": "R"}), 200)
    assert again["deletion_time"] is None and again["creation_time"] >= removed["creation_time"]
    team = check(await call(client, "GET", "/v1/teams/1", access=admin), 200)
    assert team["members"] == [*TEAM_A_MEMBERS[1:], TEAM_A_MEMBERS[0]]


@pytest.mark.parametrize(("spec", "detail"), [
    ({"username": "zed", "method": "add"}, "Bad name 'zed': No user with this username exists"),
    ({"username": "erin", "method": "update", "permissions": "W"},
     "Bad name 'erin': This user is not a member of team team-a"),
    ({"username": "erin", "method": "remove"}, "Bad name 'erin': This user is not a member of team team-a"),
    ({"username": "bob", "method": "add", "permissions": "W"},
     "Bad name 'bob': This user is already a member of team team-a"),
])
async def test_membership_bad_names_are_400(make_mock, spec, detail):
    client = await ufdl(make_mock)
    check(await call(client, "PATCH", MEMBERSHIPS, user="admin", json_body=spec), 400, {"detail": detail},
          allow=ALLOW_MEMBERSHIPS)


async def test_membership_for_an_inactive_user_is_400(make_mock):
    seed = {"users": [{"username": "gone", "password": "pw", "is_active": False}], "teams": [{"name": "t"}]}
    client = await ufdl(make_mock, seed)
    check(await call(client, "PATCH", MEMBERSHIPS, user="admin", json_body={"username": "gone", "method": "add"}), 400,
          {"detail": "Bad name 'gone': This user is no longer active"}, allow=ALLOW_MEMBERSHIPS)


@pytest.mark.parametrize(("spec", "message"), [
    ({"username": "bob", "permissions": "W"}, "'method' is a required property"),
    ({"method": "add"}, "'username' is a required property"),
    ({"username": "bob", "method": "add", "extra": 1}, "Additional properties are not allowed ('extra' was unexpected)"),
    ({"username": 5, "method": "add"}, "5 is not of type 'string'"),
    ([], "[] is not of type 'object'"),
])
async def test_invalid_membership_specs_are_400_unable_to_parse(make_mock, spec, message):
    client = await ufdl(make_mock)
    check(await call(client, "PATCH", MEMBERSHIPS, user="admin", json_body=spec), 400, parse_failure(spec, message),
          allow=ALLOW_MEMBERSHIPS)


@pytest.mark.parametrize(("spec", "value", "choices"), [
    ({"username": "bob", "method": "update", "permissions": "Z"}, "'Z'", {"'R'", "'X'", "'W'", "'A'"}),
    ({"username": "bob", "method": "delete"}, "'delete'", {"'add'", "'remove'", "'update'"}),
])
async def test_membership_enum_failures_name_the_value_and_every_choice(make_mock, spec, value, choices):
    client = await ufdl(make_mock)
    answer = await call(client, "PATCH", MEMBERSHIPS, user="admin", json_body=spec)
    detail = check(answer, 400, allow=ALLOW_MEMBERSHIPS)["detail"]
    prefix = parse_failure(spec, f"{value} is not one of [")["detail"]
    assert detail.startswith(prefix), detail
    assert set(detail[len(prefix):].rstrip("]").split(", ")) == choices


async def test_membership_without_body_or_with_a_form_is_400_unable_to_parse(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "PATCH", MEMBERSHIPS, access=admin), 400,
          parse_failure({}, "'username' is a required property"), allow=ALLOW_MEMBERSHIPS)
    answer = await call(client, "PATCH", MEMBERSHIPS, access=admin, data="username=bob&method=add",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    detail = check(answer, 400, allow=ALLOW_MEMBERSHIPS)["detail"]
    assert detail.startswith(parse_failure({"username": ["bob"], "method": ["add"]}, "")["detail"]), detail


# -- permissions endpoint -------------------------------------------------------------------------

async def test_permissions_endpoint_answers_a_bare_json_string(make_mock):
    client = await ufdl(make_mock)
    for user in ("admin", "dave"):
        answer = await call(client, "GET", "/v1/teams/1/permissions/alice", user=user)
        assert check(answer, 200, allow=ALLOW_READ) == "W"
        assert answer.raw == b'"W"'
    # the real route has no optional slash there: it becomes part of the name (observed)
    check(await call(client, "GET", "/v1/teams/1/permissions/xena/", user="admin"), 400,
          {"detail": "Bad name 'xena/': No user with this username exists"})


async def test_permissions_endpoint_errors(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "GET", "/v1/teams/1/permissions/erin", access=admin), 400,
          {"detail": "Bad name 'erin': This user is not a current member of team team-a"}, allow=ALLOW_READ)
    no_user = {"detail": "Bad name 'zed': No user with this username exists"}
    for team in (1, 99):
        check(await call(client, "GET", f"/v1/teams/{team}/permissions/zed", access=admin), 400, no_user,
              allow=ALLOW_READ)
        check(await call(client, "GET", f"/v1/teams/{team}/permissions/zed"), 400, no_user)
    check(await call(client, "GET", "/v1/teams/99/permissions/bob", access=admin), 404, NO_TEAM, allow=ALLOW_READ)
    check(await call(client, "GET", "/v1/teams/1/permissions/bob"), 401, NOT_PROVIDED, allow=ALLOW_READ)
    for user in ("alice", "bob", "erin"):
        check(await call(client, "GET", "/v1/teams/1/permissions/bob", user=user), 403, FORBIDDEN, allow=ALLOW_READ)
