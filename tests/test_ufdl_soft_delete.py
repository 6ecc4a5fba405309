"""UFDL soft delete, reinstate and hard delete: deletion_time semantics, pks never reused, and the
uniqueness of names per team among active projects (create, rename, move and reinstate)."""

from __future__ import annotations

from ufdl_helpers import (
    ALLOW_COLLECTION,
    ALLOW_DETAIL,
    ALLOW_SOFT,
    NO_PROJECT,
    UNIQUE,
    call,
    check,
    check_project,
    list_names,
    token,
    ufdl,
)


async def test_destroy_is_204_without_body_or_content_type_and_sets_deletion_time(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    answer = await call(client, "DELETE", "/v1/projects/1", access=admin)
    check(answer, 204, allow=ALLOW_DETAIL)
    project = check_project(await call(client, "GET", "/v1/projects/1", access=admin), pk=1, name="Alpha")
    assert project["deletion_time"] is not None
    assert project["deletion_time"] >= project["creation_time"]


async def test_soft_delete_twice_is_a_noop_and_keeps_deletion_time(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "DELETE", "/v1/projects/1", access=admin), 204)
    first = check_project(await call(client, "GET", "/v1/projects/1", access=admin))["deletion_time"]
    check(await call(client, "DELETE", "/v1/projects/1", access=admin), 204, allow=ALLOW_DETAIL)
    assert check_project(await call(client, "GET", "/v1/projects/1", access=admin))["deletion_time"] == first


async def test_soft_deleted_projects_leave_the_list_unless_include_inactive(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "DELETE", "/v1/projects/2", access=admin), 204)
    assert await list_names(client) == ["Alpha", "Gamma"]
    assert await list_names(client, {"include_inactive": True}) == ["Alpha", "Beta", "Gamma", "Old"]


async def test_reinstate_clears_deletion_time_and_relists_the_project(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    answer = await call(client, "DELETE", "/v1/projects/4/reinstate", access=admin)
    check_project(answer, allow=ALLOW_SOFT, pk=4, name="Old", deletion_time=None,
                  creation_time="2026-01-01T00:00:04.000004Z")
    check_project(await call(client, "GET", "/v1/projects/4", access=admin), deletion_time=None)
    assert await list_names(client) == ["Alpha", "Beta", "Gamma", "Old"]


async def test_reinstating_an_active_project_is_a_noop_200(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    before = check_project(await call(client, "GET", "/v1/projects/1", access=admin))
    after = check_project(await call(client, "DELETE", "/v1/projects/1/reinstate", access=admin), allow=ALLOW_SOFT)
    assert after == before


async def test_hard_delete_returns_the_project_with_pk_null_and_a_fresh_deletion_time(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    before = check_project(await call(client, "GET", "/v1/projects/1", access=admin))
    gone = check_project(await call(client, "DELETE", "/v1/projects/1/hard", access=admin), allow=ALLOW_SOFT,
                         pk=None, name="Alpha", team=1, creator=before["creator"],
                         creation_time=before["creation_time"])
    assert gone["deletion_time"] is not None


async def test_hard_delete_of_a_soft_deleted_project_keeps_its_deletion_time(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    deleted = check_project(await call(client, "GET", "/v1/projects/4", access=admin))["deletion_time"]
    check_project(await call(client, "DELETE", "/v1/projects/4/hard", access=admin), allow=ALLOW_SOFT, pk=None,
                  deletion_time=deleted)


async def test_after_hard_delete_every_call_on_the_pk_is_404(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "DELETE", "/v1/projects/2/hard", access=admin), 200)
    for method, path, allow in [("GET", "/v1/projects/2", ALLOW_DETAIL), ("PUT", "/v1/projects/2", ALLOW_DETAIL),
                                ("PATCH", "/v1/projects/2", ALLOW_DETAIL), ("DELETE", "/v1/projects/2", ALLOW_DETAIL),
                                ("DELETE", "/v1/projects/2/hard", ALLOW_SOFT),
                                ("DELETE", "/v1/projects/2/reinstate", ALLOW_SOFT)]:
        answer = await call(client, method, path, access=admin, json_body={"name": "x", "team": 1})
        check(answer, 404, NO_PROJECT, allow=allow)
    assert await list_names(client, {"include_inactive": True}) == ["Alpha", "Gamma", "Old"]


async def test_pks_are_never_reused_after_hard_delete(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    created = await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "Five", "team": 1})
    check_project(created, 201, allow=ALLOW_COLLECTION, pk=5)
    check(await call(client, "DELETE", "/v1/projects/5/hard", access=admin), 200)
    again = await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "Five", "team": 1})
    check_project(again, 201, allow=ALLOW_COLLECTION, pk=6)


async def test_failed_creates_use_up_no_pk(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    for body in ({"name": "", "team": 1}, {"name": "Alpha", "team": 1}, {"name": "x", "team": 999}):
        check(await call(client, "POST", "/v1/projects/create", access=admin, json_body=body), 400)
    answer = await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "ok", "team": 1})
    check_project(answer, 201, allow=ALLOW_COLLECTION, pk=5)


# -- names are unique per team among active projects ----------------------------------------------

async def test_a_duplicate_active_name_in_the_same_team_is_400(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    for name in ("Alpha", "  Alpha  "):
        answer = await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": name, "team": 1})
        check(answer, 400, UNIQUE, allow=ALLOW_COLLECTION)


async def test_the_same_name_in_another_team_or_in_another_case_is_allowed(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    for body in ({"name": "Alpha", "team": 2}, {"name": "ALPHA", "team": 1}, {"name": "alpha", "team": 1}):
        check_project(await call(client, "POST", "/v1/projects/create", access=admin, json_body=body), 201,
                      allow=ALLOW_COLLECTION, name=body["name"])


async def test_the_name_of_a_soft_deleted_project_can_be_reused(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    answer = await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "Old", "team": 1})
    check_project(answer, 201, allow=ALLOW_COLLECTION, name="Old", pk=5)
    check(await call(client, "DELETE", "/v1/projects/1", access=admin), 204)
    answer = await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "Alpha", "team": 1})
    check_project(answer, 201, allow=ALLOW_COLLECTION, name="Alpha", pk=6)


async def test_reinstating_into_a_duplicate_active_name_is_400_and_changes_nothing(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "Old", "team": 1}), 201)
    check(await call(client, "DELETE", "/v1/projects/4/reinstate", access=admin), 400, UNIQUE, allow=ALLOW_SOFT)
    assert check_project(await call(client, "GET", "/v1/projects/4", access=admin))["deletion_time"] is not None


async def test_hard_delete_frees_the_name(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "DELETE", "/v1/projects/1/hard", access=admin), 200)
    check(await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "Alpha", "team": 1}),
          201)


async def test_renaming_onto_an_active_name_is_400_for_put_and_patch(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "PUT", "/v1/projects/2", access=admin, json_body={"name": "Alpha", "team": 1}), 400,
          UNIQUE, allow=ALLOW_DETAIL)
    check(await call(client, "PATCH", "/v1/projects/2", access=admin, json_body={"name": " Alpha"}), 400, UNIQUE,
          allow=ALLOW_DETAIL)
    check_project(await call(client, "GET", "/v1/projects/2", access=admin), name="Beta")
    # the name is still free for others: nothing was claimed by the failed renames
    check(await call(client, "DELETE", "/v1/projects/2", access=admin), 204)
    check(await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "Beta", "team": 1}),
          201)


async def test_moving_into_a_team_where_the_name_is_taken_is_400(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "Gamma", "team": 1}),
          201)
    check(await call(client, "PATCH", "/v1/projects/5", access=admin, json_body={"team": 2}), 400, UNIQUE)
    check_project(await call(client, "PATCH", "/v1/projects/1", access=admin, json_body={"team": 2}), team=2)
    # the old (team, name) is free again, the new one is taken
    check(await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "Alpha", "team": 1}),
          201)
    check(await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "Alpha", "team": 2}),
          400, UNIQUE)


async def test_renaming_to_its_own_name_is_fine(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "PUT", "/v1/projects/1", user="admin", json_body={"name": "  Alpha ", "team": 1})
    check_project(answer, name="Alpha")


async def test_a_soft_deleted_project_may_take_an_active_name_but_not_be_reinstated(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check_project(await call(client, "PATCH", "/v1/projects/4", access=admin, json_body={"name": "Alpha"}),
                  name="Alpha")
    check(await call(client, "DELETE", "/v1/projects/4/reinstate", access=admin), 400, UNIQUE, allow=ALLOW_SOFT)
    check(await call(client, "DELETE", "/v1/projects/1", access=admin), 204)
    check_project(await call(client, "DELETE", "/v1/projects/4/reinstate", access=admin), allow=ALLOW_SOFT,
                  name="Alpha", deletion_time=None)
    check(await call(client, "DELETE", "/v1/projects/1/reinstate", access=admin), 400, UNIQUE, allow=ALLOW_SOFT)
