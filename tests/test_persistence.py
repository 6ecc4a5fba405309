"""`--state-file`: an SQLite database saved change by change — what survives a restart, what a
reset does to tokens, and the clear errors for a file that is not ours."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator

import jwt
import pytest
from server_process import ServerProcess, admin_headers, run_mockserver

from mockserver import MockConfig, persistence
from mockserver.apis.ufdl.options import UfdlOptions
from mockserver.persistence import SCHEMA_VERSION, GroupCommit, StateDatabase, stored_form
from mockserver.service import MockService

KEY = {"X-Api-Key": "testiny-mock-demo-key"}


def stored_names(state) -> set[str]:
    """The names of the Testiny projects in the state file, as another program reads them."""
    with contextlib.closing(sqlite3.connect(state)) as db:
        return {json.loads(row[0])["name"] for row in db.execute("SELECT data FROM records WHERE api = 'testiny'")}


@contextlib.contextmanager
def write_locked(state) -> Iterator[None]:
    """Another program holds a write transaction on the state file meanwhile."""
    with contextlib.closing(sqlite3.connect(state, isolation_level=None)) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            db.execute("ROLLBACK")


def start_error(path) -> subprocess.CompletedProcess:
    return run_mockserver("--port", "0", "--state-file", str(path))


def test_a_logged_in_client_stays_logged_in_across_a_restart(tmp_path):
    state = tmp_path / "state.db"
    with ServerProcess("--empty", "--api", "ufdl", "--state-file", str(state)) as server:
        headers = admin_headers(server)
        server.post("/v1/teams/create", headers=headers, json={"name": "kept"})
        server.stop(signal.SIGTERM)
    with ServerProcess("--empty", "--api", "ufdl", "--state-file", str(state)) as server:
        listed = server.post("/v1/teams/list", headers=headers)
        assert listed.status_code == 200 and [t["name"] for t in listed.json()] == ["kept"]


def test_the_state_file_is_written_before_the_answer(tmp_path):
    state = tmp_path / "state.db"
    with ServerProcess("--empty", "--api", "testiny", "--state-file", str(state)) as server:
        created = server.post("/api/v1/project", headers=KEY, json={"name": "Saved now"}).json()
        assert "Saved now" in stored_names(state), "not in the file when the answer came"
        assert server.get(f"/api/v1/project/{created['id']}", headers=KEY).status_code == 200


@pytest.mark.parametrize("secret", [None, "a-known-secret-of-at-least-32-bytes!!"], ids=["own key", "--ufdl-jwt-secret"])
async def test_a_reset_or_a_seed_refuses_tokens_of_the_world_before(make_mock, secret):
    client = await make_mock(apis=("ufdl",), api_options={"ufdl": UfdlOptions(jwt_secret=secret)})

    async def login() -> dict[str, str]:
        pair = await (await client.post("/v1/auth/obtain", json={"username": "admin", "password": "admin"})).json()
        return {"Authorization": "Bearer " + pair["access"]}

    before = await login()
    assert (await client.post("/v1/users/create", headers=before, json={"username": "u4", "password": "pw"})).status == 201
    assert (await client.post("/__mock__/reset")).status == 200
    refused = await client.post("/v1/users/list", headers=before)
    assert refused.status == 401 and (await refused.json())["code"] == "token_not_valid"
    after = await login()
    assert (await client.post("/v1/users/list", headers=after)).status == 200
    assert (await client.post("/__mock__/seed", json={"ufdl": {"users": [{"username": "evil"}]}})).status == 200
    assert (await client.post("/v1/users/list", headers=after)).status == 401
    merged = await client.post("/__mock__/seed?mode=merge", json={"ufdl": {"users": [{"username": "more"}]}})
    assert merged.status == 200  # a merge keeps the world: pks go on, tokens stay good
    assert (await client.post("/v1/users/list", headers=await login())).status == 200


async def test_a_token_minted_with_the_configured_secret_is_accepted(make_mock):
    secret = "a-known-secret-of-at-least-32-bytes!!"
    client = await make_mock(apis=("ufdl",), api_options={"ufdl": UfdlOptions(jwt_secret=secret)})
    forged = jwt.encode({"jtt": "access", "exp": 2**33, "iat": 0, "jti": "j", "upk": "1"}, secret, algorithm="HS256")
    assert (await client.post("/v1/users/list", headers={"Authorization": "Bearer " + forged})).status == 200


def test_a_json_state_file_of_the_old_format_is_refused_clearly(tmp_path):
    old = tmp_path / "state.json"
    old.write_text('{"version": 1, "apis": {}}')
    result = start_error(old)
    assert result.returncode == 2
    assert "JSON state file of mockserver 0.1" in result.stderr and "Traceback" not in result.stderr
    assert old.read_text() == '{"version": 1, "apis": {}}'  # left as it was


def test_an_sqlite_database_of_someone_else_is_refused_untouched(tmp_path):
    other = tmp_path / "app.db"
    sqlite3.connect(other).execute("CREATE TABLE things (x)").connection.commit()
    result = start_error(other)
    assert result.returncode == 2 and "not a mockserver state file" in result.stderr
    tables = [r[0] for r in sqlite3.connect(other).execute("SELECT name FROM sqlite_master")]
    assert tables == ["things"]


def test_a_state_file_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "state.db"
    StateDatabase(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    result = start_error(path)
    assert result.returncode == 2 and f"schema version {SCHEMA_VERSION + 1}" in result.stderr


def test_some_other_file_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    result = start_error(path)
    assert result.returncode == 2 and "not an SQLite database" in result.stderr


def test_a_new_api_is_added_to_an_existing_state_file(tmp_path):
    path = tmp_path / "state.db"
    MockService(MockConfig(apis=("ufdl",), demo_data=False, access_log=False, state_file=path)).close()
    service = MockService(MockConfig(demo_data=True, access_log=False, state_file=path))
    testiny = next(r for r in service.runtimes if r.name == "testiny")
    assert stored_form(testiny.state)[0]["project"]  # the demo projects, saved as the API started
    service.close()
    again = MockService(MockConfig(demo_data=False, access_log=False, state_file=path))
    assert stored_form(next(r for r in again.runtimes if r.name == "testiny").state) == stored_form(testiny.state)
    again.close()


async def test_a_purge_and_a_merged_seed_reach_the_state_file(make_mock, tmp_path):
    path = tmp_path / "state.db"
    client = await make_mock(demo_data=True, state_file=path)
    merged = await client.post("/__mock__/seed?mode=merge", json={"ufdl": {"users": [{"username": "cf-x-carol"}]},
                                                                 "testiny": {"projects": [{"name": "cf-x-one"}]}})
    assert merged.status == 200
    assert (await client.post("/__mock__/purge?prefix=Alp")).status == 200  # UFDL's Alpha goes
    service = client.server.service
    saved = StateDatabase(path)
    for runtime in service.runtimes:
        tables, meta = saved.load(runtime.name)
        assert stored_form(runtime.definition.restore(runtime.options, tables, meta)) == stored_form(runtime.state)
    saved.close()
    assert "cf-x-carol" in [u["username"] for u in (await (await client.get("/__mock__/state")).json())["ufdl"]["users"]]


def test_the_wal_stays_bounded_under_commits_without_a_pause(tmp_path):
    """A passive checkpoint never catches up with commits that never pause; without the restart
    the WAL grew by every commit's pages (19 MB/s under a stream of creates) for as long as the
    stream lasted."""
    service = MockService(MockConfig(apis=("testiny",), demo_data=False, state_file=tmp_path / "state.db"))
    service.plane.store.close()
    store = StateDatabase(tmp_path / "state.db", checkpoint_interval=0.02, restart_frames=256, wal_size_limit=2**20)
    state = next(r for r in service.runtimes if r.name == "testiny").state
    wal, largest, commits = tmp_path / "state.db-wal", 0, 20_000  # each writes a page or more: 80+ MiB
    try:
        for n in range(commits):
            state.create([{"name": f"stream {n}"}], 0, bulk=False)
            store.save_changes([("testiny", state)])
            if n % 20 == 0:
                largest = max(largest, wal.stat().st_size)
    finally:
        store.close()
    assert largest < 32 * 2**20, f"the WAL grew to {largest / 2**20:.1f} MiB over {commits} commits"
    reopened = StateDatabase(tmp_path / "state.db")
    try:
        tables, _meta = reopened.load("testiny")
        assert len(tables["project"]) == commits
    finally:
        reopened.close()


async def test_a_commit_waits_for_a_locked_file_without_stopping_the_server(make_mock, tmp_path):
    state = tmp_path / "state.db"
    client = await make_mock(apis=("testiny",), state_file=state)
    with write_locked(state):
        create = asyncio.ensure_future(client.post("/api/v1/project", headers=KEY, json={"name": "Waits"}))
        slowest = 0.0
        for _ in range(10):  # the server (on this event loop) keeps answering meanwhile
            started = time.monotonic()
            assert (await client.get("/__mock__/health")).status == 200
            await asyncio.sleep(0.03)
            slowest = max(slowest, time.monotonic() - started)
        assert slowest < 0.25, f"the event loop stood still for {slowest:.2f} s while the file was locked"
        assert not create.done(), "answered before its change could be committed"
    created = await create
    assert created.status == 200
    assert "Waits" in stored_names(state)


async def test_a_file_locked_for_too_long_is_reported_and_the_change_kept(make_mock, tmp_path, monkeypatch):
    monkeypatch.setattr(GroupCommit, "give_up_after", 0.2)
    state = tmp_path / "state.db"
    client = await make_mock(apis=("testiny",), state_file=state)
    with write_locked(state):
        refused = await client.post("/api/v1/project", headers=KEY, json={"name": "Kept for later"})
        assert refused.status == 503 and "locked" in (await refused.json())["detail"]
    assert (await client.post("/api/v1/project", headers=KEY, json={"name": "Next"})).status == 200
    assert {"Kept for later", "Next"} <= stored_names(state), "the refused change was not written with the next commit"


@pytest.mark.parametrize("error", [sqlite3.InterfaceError("unsupported type"), RuntimeError("a defect")],
                         ids=["sqlite error", "other error"])
async def test_a_commit_that_fails_before_writing_is_answered_and_the_file_stays_usable(make_mock, tmp_path,
                                                                                       monkeypatch, error):
    state = tmp_path / "state.db"
    client = await make_mock(apis=("testiny",), state_file=state)
    real = persistence._row_bytes

    def fails_once(*args: object) -> bytes:
        monkeypatch.setattr(persistence, "_row_bytes", real)
        raise error

    monkeypatch.setattr(persistence, "_row_bytes", fails_once)
    refused = await asyncio.wait_for(client.post("/api/v1/project", headers=KEY, json={"name": "Kept"}), 10)
    assert refused.status == 503
    assert (await client.post("/api/v1/project", headers=KEY, json={"name": "Next"})).status == 200
    assert {"Kept", "Next"} <= stored_names(state)
