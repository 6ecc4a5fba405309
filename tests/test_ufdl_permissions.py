"""UFDL permissions: R/X/W/A team members, non-members, anonymous callers and admins on every
project action, moves between teams, revoked memberships, and the order of the checks
(406 → view permission → body parsing → 404 → object permission → validation)."""

from __future__ import annotations

import pytest
from ufdl_helpers import (
    ALLOW_COLLECTION,
    ALLOW_DETAIL,
    ALLOW_MEMBERSHIPS,
    ALLOW_SOFT,
    FORBIDDEN,
    NO_PROJECT,
    NO_TEAM,
    NOT_PROVIDED,
    REQUIRED,
    call,
    check,
    check_project,
    list_names,
    token,
    ufdl,
)

# team-a members and their levels; erin is in no team, staff is is_staff (an admin)
READERS = ["bob", "xena", "alice", "dave", "admin", "staff"]
WRITERS = ["alice", "dave", "admin", "staff"]
NOT_WRITERS = ["bob", "xena", "erin"]
ADMINS = ["admin", "staff"]
NOT_ADMINS = ["alice", "bob", "xena", "dave", "erin"]


@pytest.mark.parametrize(("user", "names"), [
    ("admin", ["Alpha", "Beta", "Gamma"]), ("staff", ["Alpha", "Beta", "Gamma"]),
    ("alice", ["Alpha", "Beta", "Gamma"]), ("bob", ["Alpha", "Beta"]), ("xena", ["Alpha", "Beta"]),
    ("dave", ["Alpha", "Beta"]), ("erin", []),
])
async def test_list_shows_admins_everything_and_members_their_teams_projects(make_mock, user, names):
    client = await ufdl(make_mock)
    assert await list_names(client, user=user) == names


async def test_list_and_create_are_401_for_anonymous_callers(make_mock):
    client = await ufdl(make_mock)
    check(await call(client, "POST", "/v1/projects/list"), 401, NOT_PROVIDED, allow=ALLOW_COLLECTION)
    check(await call(client, "POST", "/v1/projects/create", json_body={"name": "x", "team": 1}), 401, NOT_PROVIDED,
          allow=ALLOW_COLLECTION)


@pytest.mark.parametrize("user", READERS)
async def test_any_member_level_or_admin_may_retrieve(make_mock, user):
    client = await ufdl(make_mock)
    check_project(await call(client, "GET", "/v1/projects/1", user=user), name="Alpha")


async def test_non_members_get_403_on_retrieve_and_anonymous_401(make_mock):
    client = await ufdl(make_mock)
    check(await call(client, "GET", "/v1/projects/1", user="erin"), 403, FORBIDDEN, allow=ALLOW_DETAIL)
    check(await call(client, "GET", "/v1/projects/3", user="bob"), 403, FORBIDDEN, allow=ALLOW_DETAIL)
    check(await call(client, "GET", "/v1/projects/1"), 401, NOT_PROVIDED, allow=ALLOW_DETAIL)


@pytest.mark.parametrize("user", WRITERS)
async def test_writers_team_admins_and_admins_may_create(make_mock, user):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user=user, json_body={"name": f"by {user}", "team": 1})
    check_project(answer, 201, allow=ALLOW_COLLECTION, name=f"by {user}")


@pytest.mark.parametrize("user", NOT_WRITERS)
async def test_readers_executors_and_non_members_may_not_create(make_mock, user):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user=user, json_body={"name": "nope", "team": 1})
    check(answer, 403, FORBIDDEN, allow=ALLOW_COLLECTION)


async def test_create_needs_write_on_the_target_team(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user="alice", json_body={"name": "x", "team": 2})
    check(answer, 403, FORBIDDEN, allow=ALLOW_COLLECTION)


@pytest.mark.parametrize("user", WRITERS)
async def test_writers_may_update_patch_and_destroy(make_mock, user):
    client = await ufdl(make_mock)
    access = await token(client, user)
    check_project(await call(client, "PUT", "/v1/projects/1", access=access, json_body={"name": "P", "team": 1}),
                  name="P")
    check_project(await call(client, "PATCH", "/v1/projects/1", access=access, json_body={"name": "Q"}), name="Q")
    check(await call(client, "DELETE", "/v1/projects/1", access=access), 204, allow=ALLOW_DETAIL)


@pytest.mark.parametrize("user", NOT_WRITERS)
async def test_readers_executors_and_non_members_may_not_change_projects(make_mock, user):
    client = await ufdl(make_mock)
    access = await token(client, user)
    for method in ("PUT", "PATCH", "DELETE"):
        answer = await call(client, method, "/v1/projects/1", access=access, json_body={"name": "P", "team": 1})
        check(answer, 403, FORBIDDEN, allow=ALLOW_DETAIL)
    check_project(await call(client, "GET", "/v1/projects/1", user="admin"), name="Alpha", deletion_time=None)


async def test_anonymous_callers_get_401_on_existing_projects(make_mock):
    client = await ufdl(make_mock)
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        check(await call(client, method, "/v1/projects/1", json_body={"name": "P", "team": 1}), 401, NOT_PROVIDED,
              allow=ALLOW_DETAIL)


@pytest.mark.parametrize("user", ADMINS)
async def test_admins_may_hard_delete_and_reinstate(make_mock, user):
    client = await ufdl(make_mock)
    access = await token(client, user)
    check_project(await call(client, "DELETE", "/v1/projects/4/reinstate", access=access), allow=ALLOW_SOFT,
                  deletion_time=None)
    check_project(await call(client, "DELETE", "/v1/projects/4/hard", access=access), allow=ALLOW_SOFT, pk=None)


@pytest.mark.parametrize("user", NOT_ADMINS)
async def test_hard_delete_and_reinstate_are_admin_only_even_for_missing_pks(make_mock, user):
    client = await ufdl(make_mock)
    access = await token(client, user)
    for pk in (4, 99):
        for action in ("hard", "reinstate"):
            answer = await call(client, "DELETE", f"/v1/projects/{pk}/{action}", access=access)
            check(answer, 403, FORBIDDEN, allow=ALLOW_SOFT)
    for action in ("hard", "reinstate"):
        check(await call(client, "DELETE", f"/v1/projects/99/{action}"), 401, NOT_PROVIDED, allow=ALLOW_SOFT)
    assert await list_names(client, {"include_inactive": True}) == ["Alpha", "Beta", "Gamma", "Old"]


async def test_a_move_needs_write_only_on_the_current_team_then_the_new_rights_apply(make_mock):
    client = await ufdl(make_mock)
    alice = await token(client, "alice")  # W in team-a, only R in team-b
    check_project(await call(client, "PATCH", "/v1/projects/1", access=alice, json_body={"team": 2}), team=2)
    check_project(await call(client, "GET", "/v1/projects/1", access=alice), team=2)
    check(await call(client, "PATCH", "/v1/projects/1", access=alice, json_body={"team": 1}), 403, FORBIDDEN,
          allow=ALLOW_DETAIL)
    # a move into a team the user is not a member of at all works too
    admin = await token(client)
    check(await call(client, "POST", "/v1/teams/create", access=admin, json_body={"name": "team-c"}), 201)
    check_project(await call(client, "PUT", "/v1/projects/2", access=alice, json_body={"name": "Beta", "team": 3}),
                  team=3)
    check(await call(client, "GET", "/v1/projects/2", access=alice), 403, FORBIDDEN, allow=ALLOW_DETAIL)
    assert await list_names(client, user="alice") == ["Alpha", "Gamma"]


async def test_removing_a_membership_revokes_access_at_once(make_mock):
    client = await ufdl(make_mock)
    bob = await token(client, "bob")
    check_project(await call(client, "GET", "/v1/projects/1", access=bob))
    admin = await token(client)
    removed = await call(client, "PATCH", "/v1/teams/1/memberships", access=admin,
                         json_body={"username": "bob", "method": "remove"})
    check(removed, 200, allow=ALLOW_MEMBERSHIPS)
    check(await call(client, "GET", "/v1/projects/1", access=bob), 403, FORBIDDEN, allow=ALLOW_DETAIL)
    assert await list_names(client, user="bob") == []


async def test_upgrading_a_membership_grants_write_at_once(make_mock):
    client = await ufdl(make_mock)
    bob = await token(client, "bob")
    check(await call(client, "PATCH", "/v1/projects/1", access=bob, json_body={"name": "x"}), 403)
    check(await call(client, "PATCH", "/v1/teams/1/memberships", user="dave",
                     json_body={"username": "bob", "method": "update", "permissions": "W"}), 200)
    check_project(await call(client, "PATCH", "/v1/projects/1", access=bob, json_body={"name": "x"}), name="x")


# -- the order of the checks ----------------------------------------------------------------------

async def test_406_comes_before_authentication(make_mock):
    client = await ufdl(make_mock)
    xml = {"Accept": "application/xml"}
    not_acceptable = {"detail": "Could not satisfy the request Accept header."}
    check(await call(client, "POST", "/v1/projects/list", headers=xml), 406, not_acceptable, allow=ALLOW_COLLECTION)
    check(await call(client, "GET", "/v1/projects/99", headers=xml), 406, not_acceptable, allow=ALLOW_DETAIL)
    check(await call(client, "GET", "/v1/projects/1", access="garbage", headers=xml), 406, not_acceptable)


async def test_anonymous_gets_404_for_a_missing_pk_on_detail_routes_but_401_on_list(make_mock):
    client = await ufdl(make_mock)
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        check(await call(client, method, "/v1/projects/99"), 404, NO_PROJECT, allow=ALLOW_DETAIL)
    check(await call(client, "POST", "/v1/projects/list", json_body={"expressions": 5}), 401, NOT_PROVIDED)
    check(await call(client, "DELETE", "/v1/projects/99/hard"), 401, NOT_PROVIDED, allow=ALLOW_SOFT)


async def test_body_parsing_comes_before_the_lookup_and_the_object_permission(make_mock):
    client = await ufdl(make_mock)
    malformed = {"data": b"{oops", "headers": {"Content-Type": "application/json"}}
    parse_error = {"detail": "JSON parse error - Expecting property name enclosed in double quotes: "
                             "line 1 column 2 (char 1)"}
    for user in (None, "erin", "bob"):
        for pk in (1, 99):
            check(await call(client, "PATCH", f"/v1/projects/{pk}", user=user, **malformed), 400, parse_error,
                  allow=ALLOW_DETAIL)
        answer = await call(client, "PUT", "/v1/projects/1", user=user, data=b"x", headers={"Content-Type": "text/csv"})
        check(answer, 415, {"detail": 'Unsupported media type "text/csv" in request.'}, allow=ALLOW_DETAIL)


async def test_an_unparsable_body_is_refused_before_authentication_on_list_and_create(make_mock):
    # the real server's request logging reads request.data first (observed: 400/415 for anonymous callers)
    client = await ufdl(make_mock)
    for path in ("/v1/projects/list", "/v1/projects/create", "/v1/teams/create"):
        answer = await call(client, "POST", path, data=b"{oops", headers={"Content-Type": "application/json"})
        check(answer, 400, {"detail": "JSON parse error - Expecting property name enclosed in double quotes: "
                                      "line 1 column 2 (char 1)"}, allow=ALLOW_COLLECTION)
        answer = await call(client, "POST", path, data=b"x", headers={"Content-Type": "text/plain"})
        check(answer, 415, {"detail": 'Unsupported media type "text/plain" in request.'}, allow=ALLOW_COLLECTION)
        answer = await call(client, "POST", path, json_body={})
        check(answer, 401, NOT_PROVIDED, allow=ALLOW_COLLECTION)


async def test_object_permission_comes_before_validation(make_mock):
    client = await ufdl(make_mock)
    invalid = {"name": "", "team": "abc"}
    check(await call(client, "PUT", "/v1/projects/1", json_body=invalid), 401, NOT_PROVIDED, allow=ALLOW_DETAIL)
    check(await call(client, "PUT", "/v1/projects/1", user="erin", json_body=invalid), 403, FORBIDDEN)
    check(await call(client, "PATCH", "/v1/projects/1", user="bob", json_body=[]), 403, FORBIDDEN)
    check(await call(client, "PUT", "/v1/projects/1", user="alice", json_body=invalid), 400,
          {"name": ["This field may not be blank."], "team": ["Incorrect type. Expected pk value, received str."]})


async def test_non_members_get_400_before_403_on_create(make_mock):
    client = await ufdl(make_mock)
    erin = await token(client, "erin")
    check(await call(client, "POST", "/v1/projects/create", access=erin, json_body={"team": 1}), 400,
          {"name": REQUIRED}, allow=ALLOW_COLLECTION)
    check(await call(client, "POST", "/v1/projects/create", access=erin, json_body={"name": "x", "team": 999}), 400,
          {"team": ['Invalid pk "999" - object does not exist.']})
    check(await call(client, "POST", "/v1/projects/create", access=erin, json_body={"name": "Alpha", "team": 1}),
          403, FORBIDDEN)


async def test_a_bad_token_is_401_before_the_lookup_and_an_unparsable_body_before_both(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "PATCH", "/v1/projects/99", access="garbage", json_body={})
    assert answer.status == 401 and answer.body["code"] == "token_not_valid"
    answer = await call(client, "PATCH", "/v1/projects/99", access="garbage", data=b"{oops",
                        headers={"Content-Type": "application/json", "Accept": "application/xml"})
    assert answer.status == 400 and answer.body["detail"].startswith("JSON parse error - ")  # as the real server


async def test_team_routes_follow_the_same_order(make_mock):
    client = await ufdl(make_mock)
    check(await call(client, "GET", "/v1/teams/99"), 404, NO_TEAM, allow=ALLOW_DETAIL)
    check(await call(client, "GET", "/v1/teams/1"), 401, NOT_PROVIDED, allow=ALLOW_DETAIL)
    check(await call(client, "GET", "/v1/teams/1", user="erin"), 403, FORBIDDEN, allow=ALLOW_DETAIL)
    check(await call(client, "DELETE", "/v1/teams/99", user="erin"), 404, NO_TEAM, allow=ALLOW_DETAIL)
    check(await call(client, "DELETE", "/v1/teams/1", user="alice"), 403, FORBIDDEN, allow=ALLOW_DETAIL)
    bad_name = {"detail": "Bad name 'zed': No user with this username exists"}
    spec = {"username": "zed", "method": "add"}
    for team in (1, 99):
        check(await call(client, "PATCH", f"/v1/teams/{team}/memberships", json_body=spec), 400, bad_name,
              allow=ALLOW_MEMBERSHIPS)
    known = {"username": "erin", "method": "add"}
    check(await call(client, "PATCH", "/v1/teams/99/memberships", json_body=known), 404, NO_TEAM,
          allow=ALLOW_MEMBERSHIPS)
    check(await call(client, "PATCH", "/v1/teams/1/memberships", json_body=known), 401, NOT_PROVIDED,
          allow=ALLOW_MEMBERSHIPS)
    for user in ("bob", "alice", "erin"):
        check(await call(client, "PATCH", "/v1/teams/1/memberships", user=user, json_body=known), 403, FORBIDDEN,
              allow=ALLOW_MEMBERSHIPS)
