"""Testiny bulk calls: all-or-nothing, items named by index, order kept, the 1000-item cap, and the
three input forms of bulk delete."""

from __future__ import annotations

import json

import pytest
from testiny_helpers import (
    ARCHIVED,
    DEMO,
    MOBILE,
    call,
    check_error,
    check_ok,
    check_project,
    find,
    ids,
    read,
    start_mock,
    store_of,
)


async def _snapshot(client) -> list[dict]:
    return (await find(client, {"includeDeleted": True}))["data"]


async def test_bulk_create_returns_the_projects_in_request_order(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "POST", "/project/bulk",
                                [{"name": "Zeta", "project_key": "ZZ"}, {"name": "Alpha", "description": "a"}])
    check_ok(response)
    assert ids(body) == [4, 5]
    check_project(body[0], name="Zeta", project_key="ZZ", created_by=1)
    check_project(body[1], name="Alpha", project_key=None, description="a", created_at=body[0]["created_at"])


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_bulk_create_and_update_of_an_empty_array_return_an_empty_list(make_mock, method):
    client = await start_mock(make_mock)
    response, body = await call(client, method, "/project/bulk", [])
    check_ok(response)
    assert body == []


async def test_bulk_create_with_one_invalid_item_names_its_index_and_creates_nothing(make_mock):
    client = await start_mock(make_mock)
    before = await _snapshot(client)
    items = [{"name": "Fine one"}, {"name": "Fine two"}, {"name": "no", "project_key": "bad"}, {"name": "x"}]
    response, body = await call(client, "POST", "/project/bulk", items)
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", r"^item 2: (name|project_key): must be")
    assert await _snapshot(client) == before
    response, body = await call(client, "POST", "/project/bulk", [{"name": "Next"}])
    assert ids(body) == [4]  # the refused call used up no id


async def test_bulk_create_item_that_is_not_an_object_names_its_index(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "POST", "/project/bulk", [{"name": "Fine"}, "Not an object"])
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", r"^item 1: ")


async def test_bulk_create_key_clash_inside_the_call_names_the_later_item(make_mock):
    client = await start_mock(make_mock)
    before = await _snapshot(client)
    items = [{"name": "One", "project_key": "NEW"}, {"name": "Two"}, {"name": "Three", "project_key": "NEW"}]
    response, body = await call(client, "POST", "/project/bulk", items)
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT",
                r"^item 2: project_key: 'NEW' is already used by item 0 of this call$")
    assert await _snapshot(client) == before


async def test_bulk_create_key_clash_with_a_live_project_names_the_item(make_mock):
    client = await start_mock(make_mock)
    items = [{"name": "One", "project_key": "WEB"}, {"name": "Two", "project_key": "MOB"}]
    response, body = await call(client, "POST", "/project/bulk", items)
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT", r"^item 1: project_key: 'MOB' is already used by project 2")


async def test_bulk_create_over_1000_items_is_refused_and_creates_nothing(make_mock):
    client = await start_mock(make_mock, {})
    response, body = await call(client, "POST", "/project/bulk", [{"name": f"P {n:04d}"} for n in range(1001)])
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", r"1001 items; at most 1000")
    assert store_of(client).projects == {}


@pytest.mark.parametrize("path", ["/project/bulk", "/project/bulk/undelete"])
@pytest.mark.parametrize("body", [{"name": "Not an array"}, "text", 5, None])
async def test_a_bulk_body_that_is_not_an_array_is_invalid_input(make_mock, path, body):
    client = await start_mock(make_mock)
    response, error = await call(client, "POST", path, data=json.dumps(body),
                                 headers={"Content-Type": "application/json"})
    check_error(response, error, 400, "API_INVALID_INPUT", r"must be a JSON array")


async def test_bulk_update_applies_partial_updates_in_request_order(make_mock):
    client = await start_mock(make_mock)
    demo, mobile = await read(client, DEMO), await read(client, MOBILE)
    items = [{"id": MOBILE, "_etag": mobile["_etag"], "description": "phones"},
             {"id": DEMO, "_etag": demo["_etag"], "name": "Demo 2"}]
    response, body = await call(client, "PUT", "/project/bulk", items)
    check_ok(response)
    assert ids(body) == [MOBILE, DEMO]
    check_project(body[0], name="Mobile App", description="phones", modified_by=1)
    check_project(body[1], name="Demo 2", description=demo["description"], modified_by=1)
    assert body[0]["_etag"] != mobile["_etag"] and body[1]["_etag"] != demo["_etag"]


async def test_bulk_update_with_one_stale_etag_names_its_index_and_changes_nothing(make_mock):
    client = await start_mock(make_mock)
    before = await _snapshot(client)
    items = [{"id": DEMO, "_etag": before[0]["_etag"], "name": "Changed"},
             {"id": MOBILE, "_etag": "stale", "name": "Changed too"}]
    response, body = await call(client, "PUT", "/project/bulk", items)
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT", r"^item 1: _etag: does not match .* project 2")
    assert await _snapshot(client) == before
    response, body = await call(client, "PUT", "/project/bulk", items, params={"force": "1"})
    check_ok(response)
    assert [p["name"] for p in body] == ["Changed", "Changed too"]


async def test_bulk_update_with_an_unknown_id_is_404_naming_its_index_and_changes_nothing(make_mock):
    client = await start_mock(make_mock)
    before = await _snapshot(client)
    items = [{"id": DEMO, "name": "Changed"}, {"id": 999, "name": "Ghost"}]
    response, body = await call(client, "PUT", "/project/bulk", items, params={"force": "1"})
    check_error(response, body, 404, "API_DATA_NOT_FOUND", r"^item 1: project 999 not found$")
    assert await _snapshot(client) == before


async def test_bulk_update_listing_an_id_twice_is_refused(make_mock):
    client = await start_mock(make_mock)
    items = [{"id": DEMO, "name": "One"}, {"id": MOBILE, "name": "Two"}, {"id": DEMO, "name": "Three"}]
    response, body = await call(client, "PUT", "/project/bulk", items, params={"force": "1"})
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", r"^item 2: id: project 1 is already listed as item 0$")


async def test_bulk_update_items_need_an_id(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "PUT", "/project/bulk", [{"id": DEMO}, {"name": "No id"}],
                                params={"force": "1"})
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", r"^item 1: id: is required$")


async def test_bulk_update_may_swap_keys_between_projects(make_mock):
    client = await start_mock(make_mock)
    items = [{"id": DEMO, "project_key": "MOB"}, {"id": MOBILE, "project_key": "DP"}]
    response, body = await call(client, "PUT", "/project/bulk", items, params={"force": "1"})
    check_ok(response)
    assert [p["project_key"] for p in body] == ["MOB", "DP"]
    response, clash = await call(client, "POST", "/project", {"name": "Third", "project_key": "MOB"})
    check_error(response, clash, 400, "API_INPUT_DATA_CONFLICT", r"already used by project 1")


async def test_bulk_update_key_clash_names_the_index_and_changes_nothing(make_mock):
    client = await start_mock(make_mock)
    before = await _snapshot(client)
    items = [{"id": DEMO, "project_key": "NEW"}, {"id": MOBILE, "project_key": "NEW"}]
    response, body = await call(client, "PUT", "/project/bulk", items, params={"force": "1"})
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT", r"^item 1: project_key: 'NEW' is already used by item 0")
    items = [{"id": MOBILE, "project_key": "DP"}]  # DEMO keeps DP: a clash with a project outside the call
    response, body = await call(client, "PUT", "/project/bulk", items, params={"force": "1"})
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT", r"^item 0: project_key: 'DP' is already used by project 1")
    assert await _snapshot(client) == before


async def test_bulk_delete_takes_ids_from_the_query(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "DELETE", "/project/bulk", params={"ids": f"{MOBILE},{DEMO}"})
    check_ok(response)
    assert ids(body) == [MOBILE, DEMO]
    for project in body:
        check_project(project, is_deleted=True, deleted_by=1)
    assert ids(await find(client, {})) == []


@pytest.mark.parametrize("body", [[DEMO, MOBILE], [{"id": DEMO}, {"id": MOBILE, "extra": 1}], [DEMO, {"id": MOBILE}]])
async def test_bulk_delete_takes_ids_or_id_objects_from_a_body(make_mock, body):
    client = await start_mock(make_mock)
    response, deleted = await call(client, "DELETE", "/project/bulk", body)
    check_ok(response)
    assert ids(deleted) == [DEMO, MOBILE]
    assert all(p["is_deleted"] for p in deleted)


async def test_bulk_delete_lists_query_ids_before_body_ids(make_mock):
    client = await start_mock(make_mock)
    response, deleted = await call(client, "DELETE", "/project/bulk", [DEMO], params={"ids": str(MOBILE)})
    check_ok(response)
    assert ids(deleted) == [MOBILE, DEMO]


async def test_bulk_delete_with_an_unknown_id_is_404_and_deletes_nothing(make_mock):
    client = await start_mock(make_mock)
    before = await _snapshot(client)
    response, body = await call(client, "DELETE", "/project/bulk", params={"ids": "1,77,2"})
    check_error(response, body, 404, "API_DATA_NOT_FOUND", r"project 77 not found")
    assert await _snapshot(client) == before


async def test_bulk_delete_without_ids_returns_an_empty_list(make_mock):
    client = await start_mock(make_mock)
    for body in (None, []):
        response, deleted = await call(client, "DELETE", "/project/bulk", body)
        check_ok(response)
        assert deleted == []


async def test_bulk_delete_returns_repeated_and_already_deleted_projects_unchanged(make_mock):
    client = await start_mock(make_mock)
    archived = await read(client, ARCHIVED)
    response, body = await call(client, "DELETE", "/project/bulk", params={"ids": f"{DEMO},{ARCHIVED},{DEMO}"})
    check_ok(response)
    assert ids(body) == [DEMO, ARCHIVED, DEMO]
    assert body[1] == archived
    assert body[0] == body[2]


@pytest.mark.parametrize("value", ["a", "1,,2", "0", "1, 2", "-1", "2147483648", "1;2", ""])
async def test_bulk_delete_with_malformed_ids_is_an_invalid_request(make_mock, value):
    client = await start_mock(make_mock)
    response, body = await call(client, "DELETE", "/project/bulk", params={"ids": value})
    check_error(response, body, 400, "API_INVALID_REQUEST", r"^ids: must be comma-separated project ids")


@pytest.mark.parametrize("body", [[0], ["1"], [{"id": "1"}], [{}], [None], {"ids": [1]}])
async def test_bulk_delete_with_a_malformed_body_is_refused(make_mock, body):
    client = await start_mock(make_mock)
    response, error = await call(client, "DELETE", "/project/bulk", body)
    code = "API_INVALID_INPUT" if isinstance(body, dict) else "API_INVALID_INPUT_DATA"
    check_error(response, error, 400, code, None if isinstance(body, dict) else r"^item 0: ")


async def test_bulk_undelete_restores_in_request_order(make_mock):
    client = await start_mock(make_mock)
    await call(client, "DELETE", f"/project/{DEMO}")
    response, body = await call(client, "POST", "/project/bulk/undelete",
                                [{"id": ARCHIVED}, {"id": DEMO, "name": "ignored"}, {"id": MOBILE}])
    check_ok(response)
    assert ids(body) == [ARCHIVED, DEMO, MOBILE]
    check_project(body[0], is_deleted=False, modified_by=1, deleted_at="<absent>")
    check_project(body[1], is_deleted=False, name="Demo Project")
    check_project(body[2], modified_at="<absent>")  # was live: unchanged


async def test_bulk_undelete_with_an_unknown_id_is_404_naming_its_index(make_mock):
    client = await start_mock(make_mock)
    before = await _snapshot(client)
    response, body = await call(client, "POST", "/project/bulk/undelete", [{"id": ARCHIVED}, {"id": 12}])
    check_error(response, body, 404, "API_DATA_NOT_FOUND", r"^item 1: project 12 not found$")
    assert await _snapshot(client) == before


async def test_bulk_undelete_key_clash_names_the_index_and_changes_nothing(make_mock):
    client = await start_mock(make_mock)
    await call(client, "PUT", f"/project/{DEMO}", {"project_key": "WEB"}, params={"force": "1"})
    before = await _snapshot(client)
    response, body = await call(client, "POST", "/project/bulk/undelete", [{"id": MOBILE}, {"id": ARCHIVED}])
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT", r"^item 1: project_key: 'WEB' is already used by project 1")
    assert await _snapshot(client) == before


async def test_bulk_undelete_of_two_deleted_projects_with_the_same_key_names_the_later(make_mock):
    client = await start_mock(make_mock)
    await call(client, "DELETE", f"/project/{DEMO}")
    await call(client, "PUT", f"/project/{DEMO}", {"project_key": "WEB"}, params={"force": "1"})
    response, body = await call(client, "POST", "/project/bulk/undelete", [{"id": ARCHIVED}, {"id": DEMO}])
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT", r"^item 1: project_key: 'WEB' is already used by item 0")
    response, body = await call(client, "POST", "/project/bulk/undelete", [{"id": DEMO}, {"id": DEMO}])
    check_ok(response)
    assert body[0] == body[1]


@pytest.mark.parametrize("body", [[1], [{"id": 0}], [{"name": "no id"}]])
async def test_bulk_undelete_needs_objects_with_an_id(make_mock, body):
    client = await start_mock(make_mock)
    response, error = await call(client, "POST", "/project/bulk/undelete", body)
    check_error(response, error, 400, "API_INVALID_INPUT_DATA", r"^item 0: ")


async def test_bulk_ids_written_as_integral_floats_name_the_projects_as_integers(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "PUT", "/project/bulk", [{"id": 1.0, "project_key": "ONE"}],
                                params={"force": "1"})
    check_ok(response)
    assert body[0]["id"] == 1 and body[0]["project_key"] == "ONE"
    response, body = await call(client, "PUT", "/project/bulk", [{"id": 2.0, "project_key": "ONE"}],
                                params={"force": "1"})
    check_error(response, body, 400, "API_INPUT_DATA_CONFLICT", r"^item 0: project_key: 'ONE' is already used by project 1$")
    response, body = await call(client, "DELETE", "/project/bulk", [2.0, {"id": 9.0}])
    check_error(response, body, 404, "API_DATA_NOT_FOUND", r"^project 9 not found$")
    response, body = await call(client, "POST", "/project/bulk/undelete", [{"id": 3.0}])
    check_ok(response)
    assert ids(body) == [3]
