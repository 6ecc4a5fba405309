"""Sessions: a request naming a session (X-Mock-Session header, mock_session cookie) works on a
world of its own, made from the start-up data on first use; ids, tokens and etags never cross
between worlds; the control API resets, seeds, dumps, journals and purges per session; sessions
are bounded in number and idle time, refused in each API's own envelope."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from mockserver.testing import RunningMock

KEY = {"X-Api-Key": "testiny-mock-demo-key"}


def session(name: str) -> dict[str, str]:
    return {"X-Mock-Session": name}


async def ufdl_token(client, headers: dict[str, str] | None = None) -> dict[str, str]:
    answer = await client.post("/v1/auth/obtain", json={"username": "admin", "password": "admin"}, headers=headers)
    assert answer.status == 200, await answer.text()
    return {"Authorization": "Bearer " + (await answer.json())["access"], **(headers or {})}


# -- the acceptance test: parallel workers, one mock ---------------------------------------------


def worker_run(url: str, worker: int) -> dict:
    """One end-to-end worker: create → rename → delete → list on both APIs, in its own session."""
    http = requests.Session()
    http.headers.update(session(f"worker-{worker}"))
    token = http.post(url + "/v1/auth/obtain", json={"username": "admin", "password": "admin"}, timeout=10).json()
    ufdl = {"Authorization": "Bearer " + token["access"]}
    first = http.post(url + "/v1/projects/create", json={"name": f"w{worker} first", "team": 1}, headers=ufdl).json()
    second = http.post(url + "/v1/projects/create", json={"name": f"w{worker} second", "team": 1}, headers=ufdl).json()
    renamed = http.patch(url + f"/v1/projects/{first['pk']}", json={"name": f"w{worker} renamed"},
                         headers=ufdl)
    assert renamed.status_code == 200, renamed.text
    assert http.delete(url + f"/v1/projects/{second['pk']}", headers=ufdl).status_code == 204
    ufdl_names = [p["name"] for p in http.post(url + "/v1/projects/list", headers=ufdl).json()]

    made = http.post(url + "/api/v1/project", json={"name": f"w{worker} board"}, headers=KEY).json()
    doomed = http.post(url + "/api/v1/project", json={"name": f"w{worker} doomed"}, headers=KEY).json()
    put = http.put(url + f"/api/v1/project/{made['id']}", json={"name": f"w{worker} renamed", "_etag": made["_etag"]},
                   headers=KEY)
    assert put.status_code == 200, put.text
    assert http.delete(url + f"/api/v1/project/{doomed['id']}", headers=KEY).status_code == 200
    found = http.post(url + "/api/v1/project/find", json={}, headers=KEY).json()["data"]
    return {"ufdl_pks": (first["pk"], second["pk"]), "ufdl_names": ufdl_names,
            "testiny_ids": (made["id"], doomed["id"]),
            "testiny_live": [p["name"] for p in found if not p["is_deleted"]]}


def test_eight_parallel_workers_each_see_only_their_own_world_starting_from_the_same_data():
    with RunningMock(demo_data=True) as mock:
        before = mock.state()
        demo_ufdl = [p["name"] for p in before["ufdl"]["projects"] if p["deletion_time"] is None]
        demo_testiny = [p["name"] for p in before["testiny"]["projects"] if not p["is_deleted"]]
        with ThreadPoolExecutor(8) as pool:
            runs = list(pool.map(lambda worker: worker_run(mock.url, worker), range(8)))
        for worker, run in enumerate(runs):
            assert run["ufdl_names"] == [*demo_ufdl, f"w{worker} renamed"]
            assert run["testiny_live"] == [*demo_testiny, f"w{worker} renamed"]
        # every world started from the same start-up state, so every worker got the same ids
        assert len({run["ufdl_pks"] for run in runs}) == 1 and runs[0]["ufdl_pks"][0] == before["ufdl"]["next_pk"]["project"]
        assert len({run["testiny_ids"] for run in runs}) == 1 and runs[0]["testiny_ids"][0] == before["testiny"]["next_id"]
        assert mock.state() == before  # the default world saw none of it
        assert sorted(s["name"] for s in mock.sessions()) == [f"worker-{n}" for n in range(8)]
        assert mock.count_requests(session="worker-3", method="DELETE") == 2


# -- nothing crosses between worlds ------------------------------------------------------------


async def test_a_token_holds_only_in_the_world_that_minted_it(make_mock):
    client = await make_mock(apis=("ufdl",), demo_data=True)
    default = await ufdl_token(client)
    in_a = await ufdl_token(client, session("a"))
    assert (await client.post("/v1/projects/list", headers=in_a)).status == 200
    assert (await client.post("/v1/projects/list", headers={**in_a, **session("b")})).status == 401
    assert (await client.post("/v1/projects/list", headers={"Authorization": in_a["Authorization"]})).status == 401
    refused = await client.post("/v1/projects/list", headers={**default, **session("a")})
    assert refused.status == 401 and (await refused.json())["code"] == "token_not_valid"


async def test_tokens_do_not_cross_worlds_with_a_fixed_jwt_secret_either(make_mock):
    from mockserver.apis.ufdl.options import UfdlOptions

    client = await make_mock(apis=("ufdl",), api_options={"ufdl": UfdlOptions(jwt_secret="s" * 32)})
    in_a = await ufdl_token(client, session("a"))
    assert (await client.post("/v1/projects/list", headers={**in_a, **session("b")})).status == 401


async def test_an_etag_read_in_one_session_is_stale_in_another(make_mock):
    client = await make_mock(apis=("testiny",), demo_data=True)
    one = await (await client.get("/api/v1/project/1", headers={**KEY, **session("one")})).json()
    other = await client.put("/api/v1/project/1", json={"name": "Taken over", "_etag": one["_etag"]},
                             headers={**KEY, **session("other")})
    assert other.status == 400 and (await other.json())["code"] == "API_INPUT_DATA_CONFLICT"
    same = await client.put("/api/v1/project/1", json={"name": "Mine", "_etag": one["_etag"]},
                            headers={**KEY, **session("one")})
    assert same.status == 200


async def test_the_session_cookie_carries_a_session_and_the_header_wins_over_it(make_mock):
    client = await make_mock(apis=("testiny",))
    await client.post("/api/v1/project", json={"name": "In cookie world"}, headers={**KEY, "Cookie": "mock_session=c1"})
    names = await _testiny_names(client, {"Cookie": "theme=dark; mock_session=c1"})
    assert names == ["In cookie world"]
    assert await _testiny_names(client, {"Cookie": "mock_session=c1", **session("h1")}) == []
    assert await _testiny_names(client, {}) == []  # the default world


async def _testiny_names(client, headers: dict[str, str]) -> list[str]:
    found = await client.post("/api/v1/project/find", json={}, headers={**KEY, **headers})
    assert found.status == 200, await found.text()
    return [p["name"] for p in (await found.json())["data"]]


# -- the control API per session -------------------------------------------------------------


async def test_reset_seed_state_and_purge_act_on_the_named_session_only(make_mock):
    client = await make_mock(apis=("testiny",))
    seed = {"testiny": {"projects": [{"name": "Seeded one"}, {"name": "cf-run-x"}]}}
    assert (await client.post("/__mock__/seed?session=s1", json=seed)).status == 200
    assert await _testiny_names(client, session("s1")) == ["Seeded one", "cf-run-x"]
    assert await _testiny_names(client, {}) == []
    merged = await client.post("/__mock__/seed?session=s1&mode=merge", json={"testiny": {"projects": [{"name": "Added"}]}})
    assert merged.status == 200
    purged = await (await client.post("/__mock__/purge?prefix=cf-run&session=s1")).json()
    assert purged == {"purged": {"testiny": {"projects": 1}}}
    dump = await (await client.get("/__mock__/state?session=s1")).json()
    assert [p["name"] for p in dump["testiny"]["projects"]] == ["Seeded one", "Added"]
    assert (await (await client.get("/__mock__/state")).json())["testiny"]["projects"] == []
    assert (await client.post("/__mock__/reset?session=s1")).status == 200
    assert await _testiny_names(client, session("s1")) == []


async def test_control_calls_on_a_session_that_is_not_open_say_so(make_mock):
    client = await make_mock(apis=("testiny",))
    for call in (client.get("/__mock__/state?session=nobody"), client.post("/__mock__/purge?prefix=abc&session=nobody"),
                 client.delete("/__mock__/sessions/nobody")):
        answer = await call
        assert answer.status == 404 and "nobody" in (await answer.json())["detail"]
    assert (await client.get("/__mock__/state?session=bad%20name")).status == 400


async def test_the_journal_names_each_requests_session_and_filters_and_clears_by_it(make_mock):
    client = await make_mock(apis=("testiny",))
    for name in ("j1", "j1", "j2"):
        await client.get("/api/v1/account/me", headers={**KEY, **session(name)})
    await client.get("/api/v1/account/me", headers=KEY)
    journal = await (await client.get("/__mock__/journal?session=j1")).json()
    assert journal["count"] == 2 and {e["session"] for e in journal["entries"]} == {"j1"}
    everything = await (await client.get("/__mock__/journal")).json()
    assert [e["session"] for e in everything["entries"]] == [None, "j2", "j1", "j1"]
    assert (await client.delete("/__mock__/journal?session=j1")).status == 204
    left = await (await client.get("/__mock__/journal")).json()
    assert [e["session"] for e in left["entries"]] == [None, "j2"]


async def test_an_ended_session_starts_afresh_and_the_list_shows_what_is_open(make_mock):
    client = await make_mock(apis=("testiny",))
    await client.post("/api/v1/project", json={"name": "Short lived"}, headers={**KEY, **session("e1")})
    listed = await (await client.get("/__mock__/sessions")).json()
    assert [(s["name"], s["requests"]) for s in listed["sessions"]] == [("e1", 1)]
    assert listed["limit"] == 100 and listed["idle_seconds"] == 1800
    assert (await client.delete("/__mock__/sessions/e1")).status == 204
    assert await _testiny_names(client, session("e1")) == []
    assert (await (await client.delete("/__mock__/sessions")).json()) == {"ended": 1}


async def test_a_fault_rule_for_one_session_leaves_the_others_alone(make_mock):
    client = await make_mock(apis=("testiny",))
    await client.post("/__mock__/faults", json={"session": "flaky", "status": 503})
    assert (await client.get("/api/v1/account/me", headers={**KEY, **session("flaky")})).status == 503
    assert (await client.get("/api/v1/account/me", headers={**KEY, **session("calm")})).status == 200
    assert (await client.get("/api/v1/account/me", headers=KEY)).status == 200


# -- bounds and refusals -------------------------------------------------------------------------


async def test_a_session_beyond_the_limit_is_refused_in_each_apis_envelope(make_mock):
    client = await make_mock(max_sessions=2)
    for name in ("s1", "s2"):
        assert (await client.get("/api/v1/account/me", headers={**KEY, **session(name)})).status == 200
    testiny = await client.get("/api/v1/account/me", headers={**KEY, **session("s3")})
    body = await testiny.json()
    assert testiny.status == 503 and body["code"] == "API_SERVICE_UNAVAILABLE" and "--max-sessions" in body["message"]
    ufdl = await client.post("/v1/auth/obtain", json={"username": "admin", "password": "admin"}, headers=session("s3"))
    assert ufdl.status == 503 and "maximum of 2 sessions" in (await ufdl.json())["detail"]
    assert (await client.get("/api/v1/account/me", headers={**KEY, **session("s1")})).status == 200  # open ones work
    await client.delete("/__mock__/sessions/s1")
    assert (await client.get("/api/v1/account/me", headers={**KEY, **session("s3")})).status == 200


async def test_an_idle_session_ends_after_the_idle_time(make_mock):
    client = await make_mock(apis=("testiny",), session_idle=60)
    sessions = client.server.service.sessions
    now = [1000.0]
    sessions.clock = lambda: now[0]
    await client.post("/api/v1/project", json={"name": "Remembered"}, headers={**KEY, **session("idle")})
    now[0] += 59
    assert await _testiny_names(client, session("idle")) == ["Remembered"]  # used: the idle time starts again
    now[0] += 61
    assert (await (await client.get("/__mock__/sessions")).json())["sessions"] == []
    assert await _testiny_names(client, session("idle")) == []  # a new world


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "-leading-dash", "ünï", "a/b"])
async def test_a_bad_session_name_is_a_400_in_each_apis_envelope(make_mock, name):
    client = await make_mock()
    testiny = await client.get("/api/v1/account/me", headers={**KEY, "X-Mock-Session": name})
    assert testiny.status == 400 and (await testiny.json())["code"] == "API_INVALID_REQUEST"
    ufdl = await client.post("/v1/projects/list", headers={"X-Mock-Session": name})
    assert ufdl.status == 400 and "session name" in (await ufdl.json())["detail"]


async def test_with_sessions_off_the_header_is_ignored(make_mock):
    client = await make_mock(apis=("testiny",), max_sessions=0)
    await client.post("/api/v1/project", json={"name": "Shared"}, headers={**KEY, **session("ignored")})
    assert await _testiny_names(client, {}) == ["Shared"]
    assert (await client.post("/__mock__/reset?session=x")).status == 400


async def test_a_page_sending_credentials_may_read_answers_of_its_session(make_mock):
    client = await make_mock(apis=("testiny",))
    answer = await client.get("/api/v1/account/me", headers={**KEY, "Origin": "http://localhost:5173",
                                                             "Cookie": "mock_session=web"})
    assert answer.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert answer.headers["Access-Control-Allow-Credentials"] == "true" and "Origin" in answer.headers["Vary"]
    preflight = await client.options("/api/v1/project", headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-api-key, x-mock-session, content-type"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "x-mock-session" in preflight.headers["Access-Control-Allow-Headers"]


# -- sessions and the state file ----------------------------------------------------------------


async def test_sessions_start_from_the_state_file_with_new_credentials_and_are_never_saved(make_mock, tmp_path):
    state_file = tmp_path / "state.db"
    client = await make_mock(state_file=state_file)
    default_token = await ufdl_token(client)
    kept = await (await client.post("/api/v1/project", json={"name": "Kept"}, headers=KEY)).json()
    await client.close()

    client = await make_mock(state_file=state_file)
    assert (await client.post("/v1/projects/list", headers=default_token)).status == 200  # a restart keeps tokens
    assert await _testiny_names(client, session("from-file")) == ["Kept"]  # the start-up data: the file's
    stale = await client.put(f"/api/v1/project/{kept['id']}", json={"name": "x" * 5, "_etag": kept["_etag"]},
                             headers={**KEY, **session("from-file")})
    # a new world: the file's etags do not hold in it
    assert stale.status == 400 and (await stale.json())["code"] == "API_INPUT_DATA_CONFLICT"
    assert (await client.post("/v1/projects/list", headers={**default_token, **session("from-file")})).status == 401
    await client.post("/api/v1/project", json={"name": "Session only"}, headers={**KEY, **session("from-file")})
    await client.close()

    client = await make_mock(state_file=state_file)
    assert await _testiny_names(client, {}) == ["Kept"]  # the session's project was never saved


async def test_idle_sessions_end_on_time_without_any_request(make_mock):
    client = await make_mock(apis=("testiny",), session_idle=0.2)
    await client.post("/api/v1/project", json={"name": "Forgotten"}, headers={**KEY, **session("gone")})
    sessions = client.server.service.sessions
    assert len(sessions) == 1
    await asyncio.sleep(0.5)  # nothing touches the sessions meanwhile
    assert len(sessions) == 0  # its world is gone, memory back
