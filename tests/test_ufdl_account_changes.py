"""Changing users and teams as the real UFDL backend does (observed on a local build of it):
users by username, user update and deactivation, team rename, soft delete, reinstate and hard
delete with their cascades, and bodies on GET and DELETE parsed before anything else."""

from __future__ import annotations

import pytest
from ufdl_helpers import (
    ALLOW_COLLECTION,
    ALLOW_DETAIL,
    ALLOW_READ,
    ALLOW_SOFT,
    ALPHA,
    BOB,
    FORBIDDEN,
    NO_TEAM,
    NO_USER,
    NOT_PROVIDED,
    TEAM_A,
    TEAM_B,
    TEAM_KEYS,
    USER_KEYS,
    call,
    check,
    check_project,
    token,
    tokens,
    ufdl,
)

PARSE_ERROR = {"detail": "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}
NO_ACCOUNT = {"detail": "No active account found with the given credentials"}
NAME_TAKEN = {"name": ["team with this name already exists."]}
MEMBER_LEVELS = {"alice": "W", "bob": "R", "xena": "X", "dave": "A"}  # of team-a in the seed


# -- users by username ---------------------------------------------------------------------------

async def test_a_user_looks_up_only_itself_by_name_as_a_one_element_array(make_mock):
    client = await ufdl(make_mock)
    mine = check(await call(client, "GET", "/v1/users/bob", user="bob"), 200, allow=ALLOW_READ)
    assert [list(u) for u in mine] == [USER_KEYS] and mine[0]["pk"] == BOB
    for name in ("alice", "nobody", "BOB"):
        check(await call(client, "GET", f"/v1/users/{name}", user="bob"), 403, FORBIDDEN, allow=ALLOW_READ)
    check(await call(client, "GET", "/v1/users/bob"), 401, NOT_PROVIDED, allow=ALLOW_READ)


async def test_an_admin_looks_up_anyone_by_name_and_gets_an_empty_array_for_nobody(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    assert [u["username"] for u in check(await call(client, "GET", "/v1/users/alice", access=admin), 200,
                                         allow=ALLOW_READ)] == ["alice"]
    for name in ("nobody", "ALICE", "alice/"):  # exact names; the slash is part of the name there
        check(await call(client, "GET", f"/v1/users/{name}", access=admin), 200, [], allow=ALLOW_READ)
    check(await call(client, "GET", "/v1/users/bob/", user="bob"), 403, FORBIDDEN, allow=ALLOW_READ)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_only_get_is_served_under_a_username(make_mock, method):
    client = await ufdl(make_mock)
    answer = await call(client, method, "/v1/users/alice", user="admin", json_body={"first_name": "x"})
    check(answer, 405, {"detail": f'Method "{method}" not allowed.'}, allow=ALLOW_READ)  # the real server: 500


# -- user update -----------------------------------------------------------------------------------

async def test_only_admins_change_users_checked_before_the_lookup(make_mock):
    client = await ufdl(make_mock)
    for method in ("PUT", "PATCH", "DELETE"):
        for pk in (BOB, 99):
            check(await call(client, method, f"/v1/users/{pk}", user="bob", json_body={"first_name": "x"}), 403,
                  FORBIDDEN, allow=ALLOW_DETAIL)
            check(await call(client, method, f"/v1/users/{pk}", user="dave", json_body={}), 403, FORBIDDEN)
        check(await call(client, method, f"/v1/users/{BOB}", json_body={}), 401, NOT_PROVIDED, allow=ALLOW_DETAIL)
        check(await call(client, method, "/v1/users/99", user="admin", json_body={"username": "z", "password": "p"}),
              404, NO_USER, allow=ALLOW_DETAIL)


async def test_patch_changes_the_given_fields_and_ignores_read_only_ones(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    body = {"first_name": "Robert", "email": "bob@example.org", "is_superuser": True, "pk": 555,
            "date_joined": "2000-01-01T00:00:00Z", "foo": 1}
    user = check(await call(client, "PATCH", f"/v1/users/{BOB}", access=admin, json_body=body), 200,
                 allow=ALLOW_DETAIL, keys=USER_KEYS)
    assert (user["first_name"], user["email"], user["is_superuser"], user["pk"]) == ("Robert", "bob@example.org",
                                                                                       False, BOB)
    assert user["date_joined"] != "2000-01-01T00:00:00Z"
    assert check(await call(client, "PATCH", f"/v1/users/{BOB}", access=admin, json_body={}), 200) == user


async def test_a_rename_and_a_new_password_take_effect_at_once(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    old = await tokens(client, "bob")
    check(await call(client, "PATCH", f"/v1/users/{BOB}", access=admin, json_body={"username": "robert",
                                                                                    "password": "new-pw"}), 200)
    check(await call(client, "GET", "/v1/users/bob", access=admin), 200, [], allow=ALLOW_READ)
    assert [u["pk"] for u in check(await call(client, "GET", "/v1/users/robert", access=admin), 200)] == [BOB]
    answer = await call(client, "POST", "/v1/auth/obtain", json_body={"username": "robert", "password": "bob-pw"})
    check(answer, 401, NO_ACCOUNT)
    assert (await tokens(client, "robert", "new-pw"))["access"]
    check(await call(client, "POST", "/v1/projects/list", access=old["access"]), 200)  # earlier tokens keep working


async def test_put_needs_username_and_password_and_keeps_the_other_fields(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "PUT", f"/v1/users/{BOB}", access=admin, json_body={}), 400,
          {"username": ["This field is required."], "password": ["This field is required."]})
    check(await call(client, "PUT", f"/v1/users/{BOB}", access=admin, json_body={"username": "bob"}), 400,
          {"password": ["This field is required."]})
    check(await call(client, "PATCH", f"/v1/users/{BOB}", access=admin, json_body={"first_name": "KeepMe"}), 200)
    user = check(await call(client, "PUT", f"/v1/users/{BOB}", access=admin,
                            json_body={"username": "bob", "password": "pw2"}), 200)
    assert user["first_name"] == "KeepMe"


@pytest.mark.parametrize(("body", "errors"), [
    ({"username": ""}, {"username": ["This field may not be blank."]}),
    ({"username": None}, {"username": ["This field may not be null."]}),
    ({"username": "alice"}, {"username": ["A user with that username already exists."]}),
    ({"username": "bad name!"}, {"username": ["Enter a valid username. This value may contain only letters, "
                                              "numbers, and @/./+/-/_ characters."]}),
    ({"username": "x" * 151}, {"username": ["Ensure this field has no more than 150 characters."]}),
    ({"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
    ({"password": ""}, {"password": ["This field may not be blank."]}),
    ({"is_active": "notabool"}, {"is_active": ["Must be a valid boolean."]}),
])
async def test_user_field_errors(make_mock, body, errors):
    client = await ufdl(make_mock)
    check(await call(client, "PATCH", f"/v1/users/{BOB}", user="admin", json_body=body), 400, errors,
          allow=ALLOW_DETAIL)


async def test_usernames_are_unique_case_sensitively_and_a_user_keeps_its_own(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "PATCH", f"/v1/users/{BOB}", access=admin, json_body={"username": "ALICE"}), 200)
    check(await call(client, "PATCH", f"/v1/users/{BOB}", access=admin, json_body={"username": "ALICE"}), 200)


async def test_a_staff_flag_makes_an_admin_at_once_with_the_same_token(make_mock):
    client = await ufdl(make_mock)
    admin, bob = await token(client), await token(client, "bob")
    check(await call(client, "POST", "/v1/users/list", access=bob), 403, FORBIDDEN)
    check(await call(client, "PATCH", f"/v1/users/{BOB}", access=admin, json_body={"is_staff": True}), 200)
    check(await call(client, "POST", "/v1/users/list", access=bob), 200, allow=ALLOW_COLLECTION)
    check(await call(client, "PATCH", f"/v1/users/{BOB}", access=admin, json_body={"is_staff": "false"}), 200)
    check(await call(client, "POST", "/v1/users/list", access=bob), 403, FORBIDDEN)


# -- user deactivation -----------------------------------------------------------------------------

async def test_delete_deactivates_a_user_and_everything_that_follows(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    bob = await tokens(client, "bob")
    for _ in range(2):
        check(await call(client, "DELETE", f"/v1/users/{BOB}", access=admin), 204, allow=ALLOW_DETAIL)
    user = check(await call(client, "GET", f"/v1/users/{BOB}", access=admin), 200)
    assert user["is_active"] is False
    listed = check(await call(client, "POST", "/v1/users/list", access=admin), 200)
    assert BOB not in [u["pk"] for u in listed]
    listed = check(await call(client, "POST", "/v1/users/list", access=admin, json_body={"include_inactive": True}), 200)
    assert BOB in [u["pk"] for u in listed]
    check(await call(client, "POST", "/v1/auth/obtain", json_body={"username": "bob", "password": "bob-pw"}), 401,
          NO_ACCOUNT)
    check(await call(client, "POST", "/v1/projects/list", access=bob["access"]), 401,
          {"detail": "User is inactive", "code": "user_inactive"})
    check(await call(client, "POST", "/v1/auth/refresh", json_body={"refresh": bob["refresh"]}), 401,
          {"detail": "No active account found for the given token."})
    team = check(await call(client, "GET", f"/v1/teams/{TEAM_A}", access=admin), 200)
    assert "bob" in [m["username"] for m in team["members"]]  # its memberships stay
    assert check(await call(client, "GET", f"/v1/teams/{TEAM_A}/permissions/bob", access=admin), 200) == "R"
    for method in ("add", "update", "remove"):
        check(await call(client, "PATCH", f"/v1/teams/{TEAM_B}/memberships", access=admin,
                         json_body={"username": "bob", "method": method}), 400,
              {"detail": "Bad name 'bob': This user is no longer active"})
    check(await call(client, "PATCH", f"/v1/users/{BOB}", access=admin, json_body={"is_active": True}), 200)
    check(await call(client, "POST", "/v1/projects/list", access=bob["access"]), 200)  # the old token works again


async def test_a_staff_user_may_deactivate_itself(make_mock):
    client = await ufdl(make_mock)
    staff = await token(client, "staff")
    check(await call(client, "DELETE", "/v1/users/7", access=staff), 204)
    check(await call(client, "GET", "/v1/users/7", access=staff), 401, {"detail": "User is inactive",
                                                                        "code": "user_inactive"})


# -- team rename -----------------------------------------------------------------------------------

async def test_team_admins_and_admins_rename_a_team_with_put_and_patch(make_mock):
    client = await ufdl(make_mock)
    for method, user, name in (("PATCH", "dave", "renamed-by-a"), ("PUT", "admin", "renamed-by-admin")):
        team = check(await call(client, method, f"/v1/teams/{TEAM_A}", user=user, json_body={"name": name}), 200,
                     allow=ALLOW_DETAIL, keys=TEAM_KEYS)
        assert team["name"] == name and [m["username"] for m in team["members"]] == list(MEMBER_LEVELS)
    for user in ("alice", "bob", "xena", "erin"):
        check(await call(client, "PATCH", f"/v1/teams/{TEAM_A}", user=user, json_body={"name": "x"}), 403, FORBIDDEN)
    check(await call(client, "PATCH", f"/v1/teams/{TEAM_A}", json_body={"name": "x"}), 401, NOT_PROVIDED)
    for user in (None, "erin", "admin"):  # the lookup comes first
        check(await call(client, "PUT", "/v1/teams/99", user=user, json_body={"name": "x"}), 404, NO_TEAM)


async def test_team_rename_rules(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    path = f"/v1/teams/{TEAM_A}"
    check(await call(client, "PATCH", path, access=admin, json_body={"name": "team-b"}), 400, NAME_TAKEN)
    check(await call(client, "PUT", path, access=admin, json_body={"name": "team-a"}), 200)  # its own name
    check(await call(client, "PUT", path, access=admin, json_body={}), 400, {"name": ["This field is required."]})
    check(await call(client, "PATCH", path, access=admin, json_body={"name": ""}), 400,
          {"name": ["This field may not be blank."]})
    check(await call(client, "PATCH", path, access=admin, json_body={"name": "x" * 201}), 400,
          {"name": ["Ensure this field has no more than 200 characters."]})
    team = check(await call(client, "PATCH", path, access=admin,
                            json_body={"name": 123, "members": [], "pk": 9, "creator": 2, "foo": 1}), 200)
    assert (team["name"], team["pk"], team["creator"], len(team["members"])) == ("123", TEAM_A, 1, 4)
    check(await call(client, "PATCH", path, access=admin, json_body={}), 200, team)
    check(await call(client, "DELETE", f"/v1/teams/{TEAM_B}", access=admin), 204)
    check(await call(client, "PATCH", path, access=admin, json_body={"name": "team-b"}), 200)  # a deleted team's name


# -- team soft delete, reinstate -------------------------------------------------------------------

async def test_soft_deleting_a_team_ends_its_memberships_but_keeps_its_projects(make_mock):
    client = await ufdl(make_mock)
    admin, dave, alice = await token(client), await token(client, "dave"), await token(client, "alice")
    check(await call(client, "DELETE", f"/v1/teams/{TEAM_A}", access=dave), 204)
    check(await call(client, "DELETE", f"/v1/teams/{TEAM_A}", access=dave), 403, FORBIDDEN)  # no longer a member
    team = check(await call(client, "DELETE", f"/v1/teams/{TEAM_A}", access=admin), 204)
    team = check(await call(client, "GET", f"/v1/teams/{TEAM_A}", access=admin), 200)
    assert team["members"] == [] and team["deletion_time"] is not None
    check(await call(client, "GET", f"/v1/teams/{TEAM_A}", access=alice), 403, FORBIDDEN)
    check(await call(client, "GET", f"/v1/projects/{ALPHA}", access=alice), 403, FORBIDDEN)
    check_project(await call(client, "GET", f"/v1/projects/{ALPHA}", access=admin), deletion_time=None)
    created = await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "new", "team": TEAM_A})
    check_project(created, 201, allow=ALLOW_COLLECTION, team=TEAM_A)


async def test_reinstate_is_admin_only_and_does_not_bring_members_back(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "DELETE", f"/v1/teams/{TEAM_A}", access=admin), 204)
    for user in ("dave", "alice"):
        for pk in (TEAM_A, 99):  # before the lookup
            check(await call(client, "DELETE", f"/v1/teams/{pk}/reinstate", user=user), 403, FORBIDDEN,
                  allow=ALLOW_SOFT)
    check(await call(client, "DELETE", f"/v1/teams/{TEAM_A}/reinstate"), 401, NOT_PROVIDED, allow=ALLOW_SOFT)
    check(await call(client, "DELETE", "/v1/teams/99/reinstate", access=admin), 404, NO_TEAM)
    team = check(await call(client, "DELETE", f"/v1/teams/{TEAM_A}/reinstate", access=admin), 200, allow=ALLOW_SOFT,
                 keys=TEAM_KEYS)
    assert team["deletion_time"] is None and team["members"] == []
    check(await call(client, "DELETE", f"/v1/teams/{TEAM_A}/reinstate", access=admin), 200, team)  # a no-op
    check(await call(client, "GET", f"/v1/teams/{TEAM_A}", user="dave"), 403, FORBIDDEN)


async def test_reinstate_onto_a_taken_name_is_400_and_changes_nothing(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "DELETE", f"/v1/teams/{TEAM_B}", access=admin), 204)
    check(await call(client, "POST", "/v1/teams/create", access=admin, json_body={"name": "team-b"}), 201)
    check(await call(client, "DELETE", f"/v1/teams/{TEAM_B}/reinstate", access=admin), 400,
          {"detail": "UNIQUE constraint failed: simple_django_teams_team.name"})  # the real server: 500
    assert check(await call(client, "GET", f"/v1/teams/{TEAM_B}", access=admin), 200)["deletion_time"] is not None


# -- team hard delete ------------------------------------------------------------------------------

async def test_hard_delete_removes_a_team_nothing_refers_to(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    fresh = check(await call(client, "POST", "/v1/teams/create", access=admin, json_body={"name": "fresh"}), 201)
    path = f"/v1/teams/{fresh['pk']}/hard"
    for user in ("dave", "alice"):
        check(await call(client, "DELETE", path, user=user), 403, FORBIDDEN, allow=ALLOW_SOFT)
    check(await call(client, "DELETE", path), 401, NOT_PROVIDED)
    gone = check(await call(client, "DELETE", path, access=admin), 200, allow=ALLOW_SOFT, keys=TEAM_KEYS)
    assert gone["pk"] is None and gone["members"] == [] and gone["name"] == "fresh" and gone["deletion_time"]
    check(await call(client, "DELETE", path, access=admin), 404, NO_TEAM)
    check(await call(client, "GET", f"/v1/teams/{fresh['pk']}", access=admin), 404, NO_TEAM)
    again = check(await call(client, "POST", "/v1/teams/create", access=admin, json_body={"name": "fresh"}), 201)
    assert again["pk"] > fresh["pk"]  # the name is free, the pk is not reused


async def test_a_team_with_memberships_or_projects_cannot_be_hard_deleted(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    blocked = {"detail": "FOREIGN KEY constraint failed"}  # the real server: 500, after soft-deleting the team
    check(await call(client, "DELETE", f"/v1/teams/{TEAM_A}/hard", access=admin), 400, blocked)
    left = check(await call(client, "GET", f"/v1/teams/{TEAM_A}", access=admin), 200)
    assert left["deletion_time"] is not None and left["members"] == []  # soft-deleted, as the real server leaves it
    team = check(await call(client, "POST", "/v1/teams/create", access=admin, json_body={"name": "t"}), 201)
    project = check(await call(client, "POST", "/v1/projects/create", access=admin,
                               json_body={"name": "p", "team": team["pk"]}), 201)
    check(await call(client, "DELETE", f"/v1/projects/{project['pk']}", access=admin), 204)
    check(await call(client, "DELETE", f"/v1/teams/{team['pk']}/hard", access=admin), 400, blocked)  # soft-deleted counts
    check(await call(client, "DELETE", f"/v1/projects/{project['pk']}/hard", access=admin), 200)
    check(await call(client, "DELETE", f"/v1/teams/{team['pk']}/hard", access=admin), 200)
    member = check(await call(client, "POST", "/v1/teams/create", access=admin, json_body={"name": "m"}), 201)
    for method in ("add", "remove"):
        check(await call(client, "PATCH", f"/v1/teams/{member['pk']}/memberships", access=admin,
                         json_body={"username": "bob", "method": method}), 200)
    check(await call(client, "DELETE", f"/v1/teams/{member['pk']}/hard", access=admin), 400, blocked)  # removed counts


# -- bodies on GET and DELETE ----------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/teams/1"), ("GET", "/v1/users/2"), ("GET", "/v1/teams/99"),
                                              ("DELETE", "/v1/teams/1"), ("DELETE", "/v1/projects/1"),
                                              ("DELETE", "/v1/teams/1/hard"), ("OPTIONS", "/v1/projects/1"),
                                              ("POST", "/v1/projects/1")])
async def test_an_unparsable_body_is_refused_first_on_every_method(make_mock, method, path):
    client = await ufdl(make_mock)
    admin = await token(client)
    for access in (None, admin):
        answer = await call(client, method, path, access=access, data=b"{bad json",
                            headers={"Content-Type": "application/json"})
        check(answer, 400, PARSE_ERROR)
        answer = await call(client, method, path, access=access, data=b"hello", headers={"Content-Type": "text/plain"})
        check(answer, 415, {"detail": 'Unsupported media type "text/plain" in request.'})
    answer = await call(client, method, path, access=admin, data=b'{"a": 1}', headers={"Content-Type": ""})
    check(answer, 415, {"detail": 'Unsupported media type "" in request.'})
    check(await call(client, "GET", f"/v1/teams/{TEAM_A}", access=admin), 200)  # nothing was deleted
    check_project(await call(client, "GET", f"/v1/projects/{ALPHA}", access=admin), deletion_time=None)


async def test_a_parsable_body_on_get_and_delete_is_ignored(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "GET", f"/v1/teams/{TEAM_A}", access=admin, json_body={"a": 1}), 200)
    check(await call(client, "GET", f"/v1/teams/{TEAM_A}", user="erin", json_body={"a": 1}), 403, FORBIDDEN)
    check(await call(client, "DELETE", f"/v1/projects/{ALPHA}", access=admin, data=b"a=1&b=2",
                     headers={"Content-Type": "application/x-www-form-urlencoded"}), 204)
    assert check_project(await call(client, "GET", f"/v1/projects/{ALPHA}", access=admin))["deletion_time"]
