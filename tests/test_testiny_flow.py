"""The Testiny acceptance flow, end to end over HTTP against a strict mock."""

from __future__ import annotations

from testiny_helpers import call, check_error, check_ok, check_project, find, ids, start_mock

TOTAL_BULK = 2500
WRITE_LIMIT = 1000


async def test_acceptance_flow_from_account_to_paging_through_2500_projects(make_mock):
    client = await start_mock(make_mock, {})

    response, me = await call(client, "GET", "/account/me")
    check_ok(response)
    assert me["loggedIn"] is True and me["userId"] == 1

    response, created = await call(client, "POST", "/project", {"name": "Acceptance", "project_key": "ACC"})
    check_ok(response)
    check_project(created, id=1, name="Acceptance", project_key="ACC", is_deleted=False, created_by=1)

    response, fetched = await call(client, "GET", "/project/1")
    check_ok(response)
    assert fetched == created

    response, updated = await call(client, "PUT", "/project/1", {"_etag": created["_etag"], "description": "v2"})
    check_ok(response)
    check_project(updated, description="v2", name="Acceptance", modified_by=1)
    assert updated["_etag"] != created["_etag"]

    response, refused = await call(client, "PUT", "/project/1", {"_etag": created["_etag"], "description": "v3"})
    check_error(response, refused, 400, "API_INPUT_DATA_CONFLICT", r"_etag")
    response, unchanged = await call(client, "GET", "/project/1")
    assert unchanged == updated

    response, forced = await call(client, "PUT", "/project/1", {"description": "v3"}, params={"force": "1"})
    check_ok(response)
    check_project(forced, description="v3")

    response, deleted = await call(client, "DELETE", "/project/1")
    check_ok(response)
    check_project(deleted, is_deleted=True, deleted_by=1)
    assert ids(await find(client, {})) == []
    assert ids(await find(client, {"includeDeleted": True})) == [1]

    response, restored = await call(client, "POST", "/project/undelete/1")
    check_ok(response)
    check_project(restored, is_deleted=False, deleted_at="<absent>")

    names = [{"name": f"Bulk project {n:04d}"} for n in range(TOTAL_BULK)]
    made: list[int] = []
    for start in range(0, TOTAL_BULK, WRITE_LIMIT):
        response, batch = await call(client, "POST", "/project/bulk", names[start:start + WRITE_LIMIT])
        check_ok(response)
        assert [p["name"] for p in batch] == [n["name"] for n in names[start:start + WRITE_LIMIT]]
        made.extend(ids(batch))
    assert len(made) == TOTAL_BULK

    seen: list[int] = []
    offset, pages = 0, 0
    while True:  # what Testiny's CLI does without explicit pagination
        page = await find(client, {"pagination": {"offset": offset}} if offset else {})
        pages += 1
        assert page["meta"]["offset"] == offset and page["meta"]["limit"] == 2000
        seen.extend(ids(page))
        offset = page["meta"]["offset"] + len(page["data"])
        if len(page["data"]) < page["meta"]["limit"]:
            break
        assert pages < 10, "paging does not terminate"
    assert pages == 2
    assert seen == [1, *made]
    assert len(set(seen)) == len(seen) == TOTAL_BULK + 1
