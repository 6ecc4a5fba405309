"""The conformance suite never changes a record it did not create: the whole suite runs (as a
user runs it against a staging server) against a mock holding records of others — active and
soft-deleted, users, teams, memberships, projects of both APIs, at the low ids a generated request
is most likely to name — and afterwards those records are exactly as before, and no request that
could change state named one of them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from urllib.parse import parse_qsl

import requests
from aiohttp import web
from broken_variants import ROOT, build_app, serve

from mockserver.apis.testiny import API as TESTINY
from mockserver.apis.ufdl import API as UFDL
from mockserver.keys import RUNTIMES
from mockserver.persistence import StateDatabase, stored_form

KEY = {"X-Api-Key": "testiny-mock-demo-key"}


def seed_foreign_records(url: str) -> dict:
    """Records of someone else, made through the APIs as their owner would make them."""
    token = requests.post(url + "/v1/auth/obtain", json={"username": "admin", "password": "admin"}, timeout=10).json()
    admin = {"Authorization": "Bearer " + token["access"]}

    def post(path, body, headers=admin):
        response = requests.post(url + path, json=body, headers=headers, timeout=10)
        assert response.status_code in (200, 201), (path, response.text)
        return response.json()

    users = [post("/v1/users/create", {"username": name, "password": name + "-pw"}) for name in ("alice", "bob")]
    teams = [post("/v1/teams/create", {"name": name}) for name in ("theirs", "theirs-too", "theirs-gone")]
    for user, team, level in ((users[0], teams[0], "W"), (users[1], teams[0], "R"), (users[1], teams[1], "A")):
        response = requests.patch(f"{url}/v1/teams/{team['pk']}/memberships", headers=admin, timeout=10,
                                  json={"username": user["username"], "method": "add", "permissions": level})
        assert response.status_code == 200, response.text
    projects = [post("/v1/projects/create", {"name": name, "team": team["pk"]})
                for name, team in (("Precious", teams[0]), ("Also theirs", teams[1]), ("Archived", teams[0]))]
    assert requests.delete(f"{url}/v1/projects/{projects[2]['pk']}", headers=admin, timeout=10).status_code == 204
    assert requests.delete(f"{url}/v1/teams/{teams[2]['pk']}", headers=admin, timeout=10).status_code == 204
    testiny = [post("/api/v1/project", {"name": name}, headers=KEY) for name in ("Their project", "Their other", "Gone")]
    assert requests.delete(f"{url}/api/v1/project/{testiny[2]['id']}", headers=KEY, timeout=10).status_code == 200
    return {"users": {u["pk"]: u["username"] for u in users}, "teams": {t["pk"] for t in teams},
            "projects": {p["pk"] for p in projects}, "testiny": {p["id"] for p in testiny}}


def foreign_state(url: str, foreign: dict) -> dict:
    state = requests.get(url + "/__mock__/state", timeout=30).json()
    ufdl, testiny = state["ufdl"], state["testiny"]
    return {
        # the suite's own account (admin) logs in: its last_login changes, nothing else of it
        "users": [{k: v for k, v in u.items() if not (u["username"] == "admin" and k == "last_login")}
                  for u in ufdl["users"] if u["pk"] in foreign["users"] or u["username"] == "admin"],
        "teams": [t for t in ufdl["teams"] if t["pk"] in foreign["teams"]],
        "memberships": [m for m in ufdl["memberships"] if m["team"] in foreign["teams"] or m["user"] in foreign["users"]],
        "projects": [p for p in ufdl["projects"] if p["pk"] in foreign["projects"] or p["team"] in foreign["teams"]],
        "testiny": [p for p in testiny["projects"] if p["id"] in foreign["testiny"]],
    }


class Recorder:
    """Every request the server received (method, path, query, body), for the write check."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, list[tuple[str, str]], bytes]] = []
        self.statuses: list[int] = []

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        body = await request.read() if request.can_read_body else b""
        self.requests.append((request.method, request.path, parse_qsl(request.query_string), body))
        self.statuses.append(0)
        index = len(self.statuses) - 1
        response = await handler(request)
        self.statuses[index] = response.status
        return response


class PersistenceCheck:
    """After every `every`-th request that may have changed something: the state file holds exactly
    what memory holds (so no write path forgets to note a change; a forgotten one stays visible
    until the record is written again). Each check costs O(state), hence the sampling."""

    every = 40

    def __init__(self, path) -> None:
        self.path = path
        self.runtimes: list = []
        self.mismatches: list[str] = []
        self.checked = self.writes = 0
        self._db: StateDatabase | None = None

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        response = await handler(request)
        if request.method not in READS and len(self.mismatches) < 5:
            self.writes += 1
            if self.writes % self.every:
                return response
            self._db = self._db or StateDatabase(self.path)
            self.checked += 1
            for runtime in self.runtimes:
                if _comparable(stored_form(runtime.state)) != _comparable(self._db.load(runtime.name)):
                    self.mismatches.append(f"{request.method} {request.path} -> {response.status}: {runtime.name}")
        return response


def _comparable(form) -> tuple:
    tables, meta = form
    return {kind: sorted(json.dumps(row, sort_keys=True) for row in rows) for kind, rows in tables.items() if rows}, meta


READS = {"GET", "HEAD", "OPTIONS", "TRACE"}  # the safe methods of RFC 9110
READ_POSTS = {"/v1/projects/list", "/v1/teams/list", "/v1/users/list", "/v1/auth/obtain", "/v1/auth/refresh",
              "/v1/auth/verify", "/api/v1/project/find"}


def is_read(method: str, path: str) -> bool:
    return method in READS or path.rstrip("/") in READ_POSTS or path.startswith("/__mock__/")


def leading_numbers(value) -> set[int]:
    """What a lenient server could read as an id (as conformance/safety.py assumes, written anew)."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return {1} if value is True else set()
    text = str(value).strip()
    found = {int(m.group()) for m in [re.match(r"[+-]?\d+", text)] if m}
    try:
        found.add(int(float(text)))
    except (ValueError, OverflowError):
        pass
    return found


def writes_to_foreign(recorded: list, foreign: dict) -> list[str]:
    kinds = {"/v1/projects/": foreign["projects"], "/v1/teams/": foreign["teams"], "/v1/users/": set(foreign["users"]),
             "/api/v1/project/": foreign["testiny"]}
    usernames = set(foreign["users"].values())
    bad = []
    for method, path, query, raw in recorded:
        if is_read(method, path):
            continue
        for prefix, ids in kinds.items():
            if path.startswith(prefix):
                for segment in path[len(prefix):].split("/"):
                    if leading_numbers(segment) & ids or segment in usernames:
                        bad.append(f"{method} {path}")
        for name, value in query:
            if name == "ids" and any(leading_numbers(part) & foreign["testiny"] for part in value.split(",")):
                bad.append(f"{method} {path}?{name}={value}")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            continue
        for item in body if isinstance(body, list) else [body]:
            if path.startswith("/api/v1/project") and (leading_numbers(item) if not isinstance(item, (dict, list))
                                                       else leading_numbers(item.get("id")) if isinstance(item, dict)
                                                       else set()) & foreign["testiny"]:
                bad.append(f"{method} {path} {raw[:100]!r}")
            if isinstance(item, dict) and path.startswith("/v1/"):
                if leading_numbers(item.get("team")) & foreign["teams"] or str(item.get("username")) in usernames:
                    bad.append(f"{method} {path} {raw[:100]!r}")
    return bad


def run_whole_suite(url: str, tmp_path, *options: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "pytest", "conformance", "--base-url", url, "-p", "no:cacheprovider",
                           "-q", *options], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_the_whole_suite_leaves_records_of_others_untouched(tmp_path):
    """Also: with a state file, every change the whole suite made (each operation of both APIs,
    bad input included) is in the database exactly as in memory."""
    recorder, persisted = Recorder(), PersistenceCheck(tmp_path / "state.db")
    app = build_app([UFDL, TESTINY], middlewares=(persisted.middleware, recorder.middleware),
                    state_file=tmp_path / "state.db")
    persisted.runtimes = app[RUNTIMES]
    with serve(app) as url:
        foreign = seed_foreign_records(url)
        before = foreign_state(url, foreign)
        seeded = len(recorder.requests)
        done = run_whole_suite(url, tmp_path, "--allow-create-accounts")
        after = foreign_state(url, foreign)
    assert persisted.mismatches == [], "the state file differs from memory after these requests"
    assert persisted.checked > 100  # about 180
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "the server holds nothing of this run" in output
    # what the fuzzing leaves out on purpose is counted in the summary, not silently dropped
    assert re.search(r"users_list: sent \d+ of \d+ coverage-phase cases \(every 4th", output), output[-3000:]
    assert re.search(r"(users|teams)_create: sent 3 of \d+ positive cases", output), output[-3000:]
    assert after == before, "records of others changed"
    suite_requests = recorder.requests[seeded:]
    assert len(suite_requests) > 3000, "the whole suite ran"
    assert writes_to_foreign(suite_requests, foreign) == []


def test_read_only_changes_nothing_at_all(tmp_path):
    recorder = Recorder()
    with serve(build_app([UFDL, TESTINY], middlewares=(recorder.middleware,))) as url:
        foreign = seed_foreign_records(url)
        before = requests.get(url + "/__mock__/state", timeout=30).json()
        seeded = len(recorder.requests)
        done = run_whole_suite(url, tmp_path, "--read-only")
        after = requests.get(url + "/__mock__/state", timeout=30).json()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    for user in after["ufdl"]["users"]:  # the suite's own login is the one change
        user.pop("last_login") if user["username"] == "admin" else None
    for user in before["ufdl"]["users"]:
        user.pop("last_login") if user["username"] == "admin" else None
    assert after == before, "a --read-only run changed the state"
    sent = list(zip(recorder.requests[seeded:], recorder.statuses[seeded:], strict=True))
    assert len(sent) > 500, "the read-only part of the suite ran"
    accepted_writes = [f"{m} {p} -> {status}" for (m, p, _, _), status in sent if not is_read(m, p) and status < 400]
    assert accepted_writes == []
    assert writes_to_foreign(recorder.requests[seeded:], foreign) == []
