"""Testiny single-project calls: create, read, update (etag, force, partial), soft delete, undelete,
project_key uniqueness, field rules, metadata and timestamps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from testiny_helpers import (
    ARCHIVED,
    DEMO,
    KEY,
    MOBILE,
    OTHER_KEY,
    call,
    check_error,
    check_ok,
    check_project,
    create,
    read,
    start_mock,
    use_clock,
)


async def test_create_returns_the_full_project_with_new_id_etag_and_creation_metadata(make_mock):
    client = await start_mock(make_mock)
    use_clock(client)
    response, project = await call(client, "POST", "/project", {"name": "Sandbox"})
    check_ok(response)
    check_project(project, id=4, is_deleted=False, created_at="2024-05-01T10:00:00.000Z", created_by=1,
                  owner_user_id=0, name="Sandbox", project_key=None, description="",
                  modified_at="<absent>", deleted_at="<absent>")


async def test_create_ignores_server_managed_fields_and_unknown_keys(make_mock):
    client = await start_mock(make_mock, {})
    use_clock(client)
    sent = {"id": 77, "name": "Managed", "_etag": "mine", "is_deleted": True, "created_at": "1999-01-01",
            "created_by": 9, "modified_at": None, "modified_by": 9, "deleted_at": "x", "deleted_by": 9,
            "owner_user_id": 5, "colour": "blue"}
    project = await create(client, **sent)
    check_project(project, id=1, is_deleted=False, created_by=1, owner_user_id=0, created_at="2024-05-01T10:00:00.000Z")
    assert project["_etag"] != "mine"
    assert "colour" not in project and "colour" not in await read(client, 1)


async def test_ids_are_never_reused_and_a_refused_create_uses_no_id(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "POST", "/project", {"name": "Clash", "project_key": "DP"})
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT")
    first = await create(client, name="First")
    await call(client, "DELETE", f"/project/{first['id']}")
    second = await create(client, name="Second")
    assert (first["id"], second["id"]) == (4, 5)


async def test_read_unknown_id_is_404_data_not_found(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "GET", "/project/99")
    check_error(response, body, 404, "API_DATA_NOT_FOUND", r"project 99 not found")


async def test_read_soft_deleted_project_returns_it_marked_deleted(make_mock):
    client = await start_mock(make_mock)
    project = await read(client, ARCHIVED)
    check_project(project, is_deleted=True, deleted_by=0, name="Archived Web Shop", project_key="WEB")


async def test_update_is_partial_renews_etag_and_sets_modified_metadata(make_mock):
    client = await start_mock(make_mock)
    clock = use_clock(client)
    before = await read(client, DEMO)
    clock.advance(minutes=5, microseconds=123_456)
    response, after = await call(client, "PUT", f"/project/{DEMO}", {"_etag": before["_etag"], "name": "Renamed"})
    check_ok(response)
    check_project(after, name="Renamed", project_key="DP", description=before["description"],
                  created_at=before["created_at"], created_by=0, modified_at="2024-05-01T10:05:00.123Z",
                  modified_by=1)
    assert after["_etag"] != before["_etag"]
    assert await read(client, DEMO) == after


async def test_update_with_stale_etag_is_refused_and_changes_nothing(make_mock):
    client = await start_mock(make_mock)
    stale = (await read(client, DEMO))["_etag"]
    await call(client, "PUT", f"/project/{DEMO}", {"_etag": stale, "description": "first"})
    current = await read(client, DEMO)
    response, body = await call(client, "PUT", f"/project/{DEMO}", {"_etag": stale, "description": "second"})
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT", r"^_etag: does not match .* project 1")
    assert await read(client, DEMO) == current


@pytest.mark.parametrize("etag", ["<missing>", "", "0" * 32])
async def test_update_without_the_current_etag_is_refused_unless_forced(make_mock, etag):
    client = await start_mock(make_mock)
    before = await read(client, DEMO)
    body = {"name": "Changed"} if etag == "<missing>" else {"name": "Changed", "_etag": etag}
    response, error = await call(client, "PUT", f"/project/{DEMO}", body)
    check_error(response, error, 400, "API_INPUT_DATA_CONFLICT", r"_etag: (missing|does not match)")
    assert await read(client, DEMO) == before
    response, forced = await call(client, "PUT", f"/project/{DEMO}", body, params={"force": "true"})
    check_ok(response)
    check_project(forced, name="Changed")


@pytest.mark.parametrize(("force", "forces"), [("1", True), ("true", True), ("0", False), ("false", False)])
async def test_force_values_one_and_true_force_zero_and_false_do_not(make_mock, force, forces):
    client = await start_mock(make_mock)
    response, body = await call(client, "PUT", f"/project/{DEMO}", {"name": "Forced?"}, params={"force": force})
    if forces:
        check_ok(response)
        check_project(body, name="Forced?")
    else:
        check_error(response, body, 400, "API_INPUT_DATA_CONFLICT")


@pytest.mark.parametrize("force", ["yes", "TRUE", "2", ""])
async def test_force_with_an_unknown_value_is_an_invalid_request(make_mock, force):
    client = await start_mock(make_mock)
    response, body = await call(client, "PUT", f"/project/{DEMO}", {"name": "x y z"}, params={"force": force})
    check_error(response, body, 400, "API_INVALID_REQUEST", r"^force: must be 1, true, 0 or false")


async def test_update_with_a_body_id_other_than_the_path_id_is_invalid_input_data(make_mock):
    client = await start_mock(make_mock)
    etag = (await read(client, DEMO))["_etag"]
    response, body = await call(client, "PUT", f"/project/{DEMO}", {"id": MOBILE, "_etag": etag, "name": "Nope"})
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", r"^id: 2 in the body differs from 1 in the path")
    response, body = await call(client, "PUT", f"/project/{DEMO}", {"id": DEMO, "_etag": etag, "name": "Yes"})
    check_ok(response)
    check_project(body, id=DEMO, name="Yes")


async def test_update_of_an_unknown_id_is_404(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "PUT", "/project/42", {"name": "Ghost"}, params={"force": "1"})
    check_error(response, body, 404, "API_DATA_NOT_FOUND", r"project 42 not found")


async def test_update_with_null_project_key_removes_it_and_frees_the_key(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "PUT", f"/project/{DEMO}", {"project_key": None}, params={"force": "1"})
    check_ok(response)
    check_project(body, project_key=None)
    check_project(await create(client, name="New owner", project_key="DP"), project_key="DP")


async def test_update_of_a_deleted_project_keeps_it_deleted(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "PUT", f"/project/{ARCHIVED}", {"description": "still gone"},
                                params={"force": "1"})
    check_ok(response)
    check_project(body, is_deleted=True, description="still gone", modified_by=1, deleted_by=0)


async def test_project_key_is_unique_among_live_projects_only(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "POST", "/project", {"name": "Second DP", "project_key": "DP"})
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT", r"^project_key: 'DP' is already used by project 1$")
    response, body = await call(client, "PUT", f"/project/{MOBILE}", {"project_key": "DP"}, params={"force": "1"})
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT", r"project_key: 'DP' is already used by project 1")
    check_project(await create(client, name="New shop", project_key="WEB"), project_key="WEB")  # WEB is deleted


async def test_undelete_is_refused_while_a_live_project_holds_the_key(make_mock):
    client = await start_mock(make_mock)
    await create(client, name="New shop", project_key="WEB")
    before = await read(client, ARCHIVED)
    response, body = await call(client, "POST", f"/project/undelete/{ARCHIVED}")
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT", r"^project_key: 'WEB' is already used by project 4")
    assert await read(client, ARCHIVED) == before


async def test_keeping_its_own_key_in_an_update_is_not_a_clash(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "PUT", f"/project/{DEMO}", {"project_key": "DP", "name": "Same key"},
                                params={"force": "1"})
    check_ok(response)
    check_project(body, project_key="DP", name="Same key")


@pytest.mark.parametrize("key", ["A", "ABCDEF", "ab", "Ab1", "A-B", "A B", "", 12, True, ["DP"]])
async def test_project_key_must_be_2_to_5_upper_case_letters_or_digits(make_mock, key):
    client = await start_mock(make_mock)
    response, body = await call(client, "POST", "/project", {"name": "Keyed", "project_key": key})
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", r"^project_key: must be null or 2 to 5 upper-case")


@pytest.mark.parametrize("key", ["AB", "ABCDE", "A1", "12345", None])
async def test_valid_project_keys_are_accepted(make_mock, key):
    client = await start_mock(make_mock, {})
    check_project(await create(client, name="Keyed", project_key=key), project_key=key)


@pytest.mark.parametrize("name", ["ab", "  ab  ", "\u200bab\u200b", "\ufeffab\u00a0", "x" * 41, "", 123, None, True,
                                  {"first": "name"}])
async def test_name_needs_3_to_40_characters_after_trimming(make_mock, name):
    client = await start_mock(make_mock)
    response, body = await call(client, "POST", "/project", {"name": name})
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", r"^name: must be a string of at most 40 characters")
    response, body = await call(client, "PUT", f"/project/{DEMO}", {"name": name}, params={"force": "1"})
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", r"^name: ")


@pytest.mark.parametrize("name", ["abc", " abc ", "x" * 40, "Ünïcødé ✓", "a b"])
async def test_names_of_3_to_40_characters_are_stored_as_sent(make_mock, name):
    client = await start_mock(make_mock, {})
    check_project(await create(client, name=name), name=name)


async def test_name_is_required_on_create_and_names_need_not_be_unique(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "POST", "/project", {"description": "no name"})
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", r"^name: is required$")
    check_project(await create(client, name="Demo Project"), name="Demo Project", id=4)


@pytest.mark.parametrize(("field", "value"), [("description", 5), ("description", None), ("_etag", "x" * 33),
                                              ("_etag", 7), ("id", 0), ("id", "1"), ("is_deleted", "yes"),
                                              ("created_by", "me"), ("modified_at", 5)])
async def test_a_field_of_the_wrong_type_is_invalid_input_data_naming_it(make_mock, field, value):
    client = await start_mock(make_mock)
    response, body = await call(client, "PUT", f"/project/{DEMO}", {field: value}, params={"force": "1"})
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", rf"^{field}: must be")


async def test_every_write_renews_the_etag_and_reads_do_not(make_mock):
    client = await start_mock(make_mock)
    etags = [(await read(client, DEMO))["_etag"], (await read(client, DEMO))["_etag"]]
    assert etags[0] == etags[1]
    for method, path, params in [("PUT", f"/project/{DEMO}", {"force": "1"}), ("DELETE", f"/project/{DEMO}", {}),
                                 ("POST", f"/project/undelete/{DEMO}", {})]:
        response, body = await call(client, method, path, {} if method == "PUT" else None, params=params)
        check_ok(response)
        assert body["_etag"] not in etags
        etags.append(body["_etag"])


async def test_delete_soft_deletes_and_sets_deleted_metadata_without_touching_modified(make_mock):
    client = await start_mock(make_mock, keys=(OTHER_KEY,))
    clock = use_clock(client)
    clock.advance(hours=1)
    response, body = await call(client, "DELETE", f"/project/{MOBILE}", key=OTHER_KEY)
    check_ok(response)
    check_project(body, is_deleted=True, deleted_at="2024-05-01T11:00:00.000Z", deleted_by=2,
                  modified_at="<absent>", name="Mobile App")
    assert await read(client, MOBILE) == body


async def test_delete_of_a_deleted_project_is_an_idempotent_200(make_mock):
    client = await start_mock(make_mock)
    before = await read(client, ARCHIVED)
    response, body = await call(client, "DELETE", f"/project/{ARCHIVED}")
    check_ok(response)
    assert body == before


async def test_delete_and_undelete_of_an_unknown_id_are_404(make_mock):
    client = await start_mock(make_mock)
    for method, path in [("DELETE", "/project/50"), ("POST", "/project/undelete/50")]:
        response, body = await call(client, method, path)
        check_error(response, body, 404, "API_DATA_NOT_FOUND", r"^project 50 not found$")


async def test_undelete_restores_sets_modified_and_removes_deleted_metadata(make_mock):
    client = await start_mock(make_mock, keys=(OTHER_KEY,))
    clock = use_clock(client)
    clock.advance(days=1)
    response, body = await call(client, "POST", f"/project/undelete/{ARCHIVED}", key=OTHER_KEY)
    check_ok(response)
    check_project(body, is_deleted=False, deleted_at="<absent>", deleted_by="<absent>",
                  modified_at="2024-05-02T10:00:00.000Z", modified_by=2, project_key="WEB")
    response, clash = await call(client, "POST", "/project", {"name": "Web again", "project_key": "WEB"})
    check_error(response, clash, 400, "API_INPUT_DATA_CONFLICT")


async def test_undelete_of_a_live_project_changes_nothing(make_mock):
    client = await start_mock(make_mock)
    before = await read(client, DEMO)
    response, body = await call(client, "POST", f"/project/undelete/{DEMO}", {"ignored": "body"})
    check_ok(response)
    assert body == before


async def test_created_by_and_modified_by_are_the_user_of_the_api_key(make_mock):
    client = await start_mock(make_mock, {}, keys=(OTHER_KEY,))
    project = await create(client, name="Mine")
    assert project["created_by"] == 1
    response, body = await call(client, "PUT", "/project/1", {"_etag": project["_etag"]}, key=OTHER_KEY)
    check_ok(response)
    check_project(body, created_by=1, modified_by=2)


async def test_timestamps_are_utc_with_milliseconds_in_24_characters(make_mock):
    client = await start_mock(make_mock, {})
    use_clock(client, datetime(2024, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-2))))
    project = await create(client, name="Late")
    assert project["created_at"] == "2025-01-01T01:59:59.999Z"
    assert len(project["created_at"]) == 24


async def test_head_of_a_project_answers_like_get_without_a_body(make_mock):
    client = await start_mock(make_mock)
    response = await client.head(f"/api/v1/project/{DEMO}", headers={"X-Api-Key": KEY})
    assert response.status == 200
    assert response.headers["X-Request-Id"]
    assert await response.read() == b""
