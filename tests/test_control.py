"""The control API under /__mock__/: health, reset, seeds, state, journal, faults, token, CORS."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

ADMIN = {"username": "admin", "password": "admin"}


async def token(client) -> dict[str, str]:
    response = await client.post("/v1/auth/obtain", json=ADMIN)
    return {"Authorization": f"Bearer {(await response.json())['access']}"}


async def project_names(client) -> list[str]:
    response = await client.post("/v1/projects/list", headers=await token(client), json={"include_inactive": True})
    return [p["name"] for p in await response.json()]


async def test_health_names_the_served_apis(make_mock):
    client = await make_mock(apis=("ufdl",))
    response = await client.get("/__mock__/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "version": "0.2.0", "apis": {"ufdl": "/v1/"}}


async def test_reset_goes_back_to_the_start_up_data(make_mock):
    client = await make_mock(apis=("ufdl",), demo_data=True)
    before = await project_names(client)
    headers = await token(client)
    created = await client.post("/v1/projects/create", headers=headers, json={"name": "scratch", "team": 1})
    assert created.status == 201
    assert "scratch" in await project_names(client)
    response = await client.post("/__mock__/reset")
    assert response.status == 200 and await response.json() == {"reset": ["ufdl"]}
    assert await project_names(client) == before


async def test_reset_of_an_unknown_api_is_404(make_mock):
    client = await make_mock(apis=("ufdl",))
    response = await client.post("/__mock__/reset?api=nope")
    assert response.status == 404
    assert "nope" in (await response.json())["detail"]


async def test_seed_replace_then_merge(make_mock):
    client = await make_mock(apis=("ufdl",), demo_data=True)
    seed = {"ufdl": {"teams": [{"name": "vision"}], "projects": [{"name": "Cats", "team": "vision"}]}}
    response = await client.post("/__mock__/seed", json=seed)
    assert response.status == 200 and await response.json() == {"seeded": ["ufdl"]}
    assert await project_names(client) == ["Cats"]
    more = {"ufdl": {"projects": [{"name": "Dogs", "team": "vision", "deleted": True}]}}
    assert (await client.post("/__mock__/seed?mode=merge", json=more)).status == 200
    assert await project_names(client) == ["Cats", "Dogs"]


async def test_a_seed_that_breaks_the_schema_is_refused_with_the_place_of_each_error(make_mock):
    client = await make_mock(apis=("ufdl",), demo_data=True)
    seed = {"ufdl": {"projects": [{"name": "x"}], "teams": "vision"}, "other": {}}
    response = await client.post("/__mock__/seed", json=seed)
    assert response.status == 400
    errors = (await response.json())["errors"]
    assert any("ufdl.teams" in e for e in errors)
    assert any("ufdl.projects.0" in e and "'team' is a required property" in e for e in errors)
    assert any("no API named 'other'" in e for e in errors)
    assert await project_names(client) != []  # nothing changed


async def test_a_seed_naming_an_unknown_team_is_refused(make_mock):
    client = await make_mock(apis=("ufdl",))
    response = await client.post("/__mock__/seed", json={"ufdl": {"projects": [{"name": "x", "team": "ghost"}]}})
    assert response.status == 400
    assert "ghost" in (await response.json())["detail"]


async def test_state_dump_shows_every_record(make_mock):
    client = await make_mock(apis=("ufdl",), demo_data=True)
    state = await (await client.get("/__mock__/state")).json()
    assert {u["username"] for u in state["ufdl"]["users"]} >= {"admin", "alice", "bob"}
    deleted = [p for p in state["ufdl"]["projects"] if p["deletion_time"]]
    assert [p["name"] for p in deleted] == ["Old experiments"]


async def test_journal_records_requests_newest_first_with_the_reasons_of_rejections(make_mock):
    client = await make_mock(apis=("ufdl",))
    headers = await token(client)
    await client.post("/v1/projects/list", headers=headers,
                      json={"expressions": [{"type": "exact", "field": "name"}]})
    await client.get("/v1/projects/1", headers=headers)
    entries = (await (await client.get("/__mock__/journal")).json())["entries"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/v1/projects/1", 404), ("POST", "/v1/projects/list", 400), ("POST", "/v1/auth/obtain", 200)]
    rejected = entries[1]
    assert rejected["operation"] == "projects_list" and rejected["api"] == "ufdl"
    assert '"type": "exact"' in rejected["request_body"]
    assert rejected["errors"] and "Unable to parse JSON" in rejected["errors"][0]
    assert entries[2]["errors"] == []
    failed = (await (await client.get("/__mock__/journal?failed=true&limit=1")).json())["entries"]
    assert [e["status"] for e in failed] == [404]
    assert (await client.delete("/__mock__/journal")).status == 204
    assert (await (await client.get("/__mock__/journal")).json())["entries"] == []


async def test_fault_with_a_status_answers_in_the_api_envelope_and_runs_out_after_count(make_mock):
    client = await make_mock(apis=("ufdl",))
    headers = await token(client)
    rule = await client.post("/__mock__/faults", json={"method": "POST", "path": "/v1/projects/*", "status": 503,
                                                        "count": 1})
    assert rule.status == 201
    first = await client.post("/v1/projects/list", headers=headers)
    assert first.status == 503
    assert await first.json() == {"detail": "Fault injected by the mock's control API."}
    assert first.headers["Allow"] == "POST, OPTIONS"
    assert (await client.post("/v1/projects/list", headers=headers)).status == 200
    assert await (await client.get("/__mock__/faults")).json() == []


async def test_fault_latency_delays_matching_requests_only(make_mock):
    client = await make_mock(apis=("ufdl",))
    headers = await token(client)
    await client.post("/__mock__/faults", json={"path": "/v1/projects/list", "latency_ms": 300})
    started = time.perf_counter()
    assert (await client.post("/v1/projects/list", headers=headers)).status == 200
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    await client.get("/v1/projects/1", headers=headers)
    assert time.perf_counter() - started < 0.3


async def test_fault_drop_closes_the_connection_and_rules_can_be_deleted(make_mock):
    client = await make_mock(apis=("ufdl",))
    rule = await (await client.post("/__mock__/faults", json={"path": "/v1/*", "drop": True})).json()
    with pytest.raises(aiohttp.ClientError):
        await client.post("/v1/projects/list")
    assert (await client.delete(f"/__mock__/faults/{rule['id']}")).status == 204
    assert (await client.delete(f"/__mock__/faults/{rule['id']}")).status == 404
    assert (await client.post("/v1/projects/list")).status == 401


async def test_fault_with_probability_zero_never_fires(make_mock):
    client = await make_mock(apis=("ufdl",))
    await client.post("/__mock__/faults", json={"status": 500, "probability": 0})
    statuses = {(await client.post("/v1/projects/list")).status for _ in range(20)}
    assert statuses == {401}


async def test_invalid_fault_rule_is_refused(make_mock):
    client = await make_mock(apis=("ufdl",))
    response = await client.post("/__mock__/faults", json={"path": "/v1/*"})  # no effect given
    assert response.status == 400
    assert (await client.post("/__mock__/faults", json={"status": 200})).status == 400


async def test_control_token_is_required_when_configured(make_mock):
    client = await make_mock(apis=("ufdl",), control_token="s3cret")
    assert (await client.get("/__mock__/health")).status == 200  # readiness checks need no token
    assert (await client.get("/__mock__/state")).status == 401
    assert (await client.get("/__mock__/state", headers={"X-Mock-Token": "wrong"})).status == 401
    assert (await client.get("/__mock__/state", headers={"X-Mock-Token": "s3cret"})).status == 200
    assert (await client.get("/__mock__/state?token=s3cret")).status == 401  # a header only: queries get logged


async def test_control_api_can_be_switched_off(make_mock):
    client = await make_mock(apis=("ufdl",), control=False)
    response = await client.get("/__mock__/health")
    assert response.status == 404
    assert await response.json() == {"detail": "Not found."}


async def test_cors_preflight_allows_the_methods_of_the_path_and_authorization(make_mock):
    client = await make_mock(apis=("ufdl",))
    response = await client.options("/v1/projects/5", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"  # named: pages may send cookies
    assert response.headers["Access-Control-Allow-Methods"] == "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


async def test_dashboard_page_is_served(make_mock):
    client = await make_mock(apis=("ufdl",))
    response = await client.get("/__mock__/")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "mockserver" in await response.text()


async def test_many_concurrent_requests_are_all_journaled(make_mock):
    client = await make_mock(apis=("ufdl",))
    await asyncio.gather(*(client.get(f"/v1/projects/{i}") for i in range(1, 51)))
    entries = (await (await client.get("/__mock__/journal")).json())["entries"]
    assert len(entries) == 50 and len({e["id"] for e in entries}) == 50


async def test_purge_removes_for_good_only_the_records_named_with_the_prefix(make_mock):
    client = await make_mock(apis=("ufdl", "testiny"), demo_data=True)
    headers = await token(client)
    team = await (await client.post("/v1/teams/create", headers=headers, json={"name": "cf-run1-team"})).json()
    await client.post("/v1/users/create", headers=headers, json={"username": "cf-run1-user", "password": "pw"})
    await client.patch(f"/v1/teams/{team['pk']}/memberships", headers=headers,
                       json={"username": "cf-run1-user", "method": "add", "permissions": "W"})
    project = await (await client.post("/v1/projects/create", headers=headers,
                                       json={"name": "cf-run1-p", "team": team["pk"]})).json()
    await client.delete(f"/v1/teams/{team['pk']}", headers=headers)
    key = {"X-Api-Key": "testiny-mock-demo-key"}
    await client.post("/api/v1/project", headers=key, json={"name": "cf-run1-testiny"})
    response = await client.post("/__mock__/purge?prefix=cf-run1-")
    assert response.status == 200
    assert await response.json() == {"purged": {"ufdl": {"projects": 1, "teams": 1, "users": 1},
                                                 "testiny": {"projects": 1}}}
    state = await (await client.get("/__mock__/state")).json()
    names = [u["username"] for u in state["ufdl"]["users"]] + [t["name"] for t in state["ufdl"]["teams"]]
    names += [p["name"] for p in state["ufdl"]["projects"]] + [p["name"] for p in state["testiny"]["projects"]]
    assert not [n for n in names if n.startswith("cf-run1-")]
    assert {"alice", "bob", "demo-team", "Alpha", "Demo Project"} <= set(names)  # others untouched
    assert all(m["team"] != team["pk"] for m in state["ufdl"]["memberships"])
    again = await client.get(f"/v1/projects/{project['pk']}", headers=headers)
    assert again.status == 404
    recreated = await client.post("/v1/projects/create", headers=headers, json={"name": "later", "team": 1})
    assert (await recreated.json())["pk"] > project["pk"]  # pks are never reused


async def test_purge_needs_a_prefix_of_three_characters_or_more(make_mock):
    client = await make_mock(apis=("ufdl",))
    assert (await client.post("/__mock__/purge")).status == 400
    assert (await client.post("/__mock__/purge?prefix=c")).status == 400


async def test_a_seed_may_hold_a_soft_deleted_team_and_a_deactivated_user(make_mock):
    client = await make_mock(apis=("ufdl",))
    seed = {"ufdl": {"users": [{"username": "gone", "is_active": False}],
                     "teams": [{"name": "old-team", "deleted": True, "members": [{"username": "admin"}]}]}}
    assert (await client.post("/__mock__/seed", json=seed)).status == 200
    state = (await (await client.get("/__mock__/state?api=ufdl")).json())["ufdl"]
    team = next(t for t in state["teams"] if t["name"] == "old-team")
    assert team["deletion_time"] is not None and team["members"] == []
    assert [m["deletion_time"] is not None for m in state["memberships"]] == [True]
    assert next(u for u in state["users"] if u["username"] == "gone")["is_active"] is False


async def test_health_names_the_version_and_where_each_api_lives(make_mock):
    client = await make_mock()
    health = await (await client.get("/__mock__/health")).json()
    assert health == {"status": "ok", "version": "0.2.0", "apis": {"testiny": "/api/v1/", "ufdl": "/v1/"}}


async def test_fault_rules_compose_as_the_readme_recipe_shows(make_mock):
    """The README's recipe: a latency rule on every project call, then a 503 on the next 3 creates."""
    client = await make_mock(apis=("ufdl",), demo_data=True)
    headers = await token(client)
    await client.post("/__mock__/faults", json={"path": "/v1/projects/*", "latency_ms": 150})
    await client.post("/__mock__/faults", json={"method": "POST", "path": "/v1/projects/create", "status": 503,
                                                "count": 3})
    started = time.monotonic()
    failed = await client.post("/v1/projects/create", headers=headers, json={"name": "slow and failing", "team": 1})
    assert failed.status == 503 and time.monotonic() - started >= 0.15  # both rules applied
    rules = await (await client.get("/__mock__/faults")).json()
    assert [(r["hits"], r.get("count")) for r in rules] == [(1, None), (1, 2)]
    started = time.monotonic()
    assert (await client.get("/v1/projects/1", headers=headers)).status == 200 and time.monotonic() - started >= 0.15
    journal = (await (await client.get("/__mock__/journal?limit=2")).json())["entries"]
    assert "#1" in journal[1]["fault"] and "#2" in journal[1]["fault"]


async def test_a_bad_fault_rule_is_told_what_is_wrong_and_only_that(make_mock):
    client = await make_mock(apis=("ufdl",))
    low = await (await client.post("/__mock__/faults", json={"path": "/x", "status": 200})).json()
    assert low["errors"] == ["body status: 200 is less than the minimum of 400"]
    empty = await (await client.post("/__mock__/faults", json={"path": "/x"})).json()
    assert empty["errors"] == ["body <root>: a fault rule needs at least one of latency_ms, status, drop"]


async def test_the_journal_says_why_in_words_not_in_a_regex_dump(make_mock):
    client = await make_mock(apis=("testiny",))
    await client.post("/api/v1/project", json={"name": ""}, headers={"X-Api-Key": "testiny-mock-demo-key"})
    errors = (await (await client.get("/__mock__/journal")).json())["entries"][0]["errors"]
    assert errors == ["body name: '' is too short", "body name: '' does not match the pattern the spec gives this field"]


async def test_the_journal_filters_by_method_path_glob_and_status_and_counts(make_mock):
    client = await make_mock(apis=("ufdl",), demo_data=True)
    headers = await token(client)
    for pk in (1, 2, 999, 998):
        await client.get(f"/v1/projects/{pk}", headers=headers)
    await client.post("/v1/teams/create", json={"name": "counted"}, headers=headers)

    async def journal(query: str) -> dict:
        return await (await client.get("/__mock__/journal?" + query)).json()

    assert (await journal("path=/v1/projects/*&method=get"))["count"] == 4
    missing = await journal("path=/v1/projects/*&status=404&limit=1")
    assert missing["count"] == 2 and [e["path"] for e in missing["entries"]] == ["/v1/projects/998"]
    assert (await journal("status=2xx&method=POST"))["count"] == 2  # the login and the team
    assert (await journal("path=/v1/teams/create&status=201"))["count"] == 1
    refused = await client.get("/__mock__/journal?status=42")
    assert refused.status == 400
