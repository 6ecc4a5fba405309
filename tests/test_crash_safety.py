"""SIGKILL during concurrent writes, twenty times in a row: after each restart every acknowledged
write is in the state file (creates, renames and soft deletes of both APIs), nothing stored is
something no client sent, and no id is handed out twice."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from dataclasses import dataclass, field

from server_process import ServerProcess, admin_headers

KILLS = 20
WRITERS = 16
KEY = "testiny-mock-demo-key"


@dataclass
class Ledger:
    """What the clients were told (acknowledged) and what they had sent when the server died."""

    names: dict[tuple[str, int], str] = field(default_factory=dict)  # (api, id) -> last acknowledged name
    allowed: dict[tuple[str, int], set[str]] = field(default_factory=dict)  # names the record may have
    deleted: set[tuple[str, int]] = field(default_factory=set)  # acknowledged soft deletes (Testiny)
    pending: set[str] = field(default_factory=set)  # names of creates sent but not answered
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self, api: str, ident: int, name: str) -> None:
        with self.lock:
            self.names[(api, ident)] = name
            self.allowed[(api, ident)] = {name}

    def sending_rename(self, api: str, ident: int, name: str) -> None:
        with self.lock:
            self.allowed[(api, ident)].add(name)


def writer(url: str, number: int, ufdl_auth: str, team: int, ledger: Ledger, stop: threading.Event) -> None:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    rng = random.Random(number)
    mine: list[tuple[str, int]] = []
    step = 0
    try:
        while not stop.is_set():
            step += 1
            name = f"w{number}-{step}-{rng.randrange(10**6)}"
            choice = rng.random()
            if mine and choice < 0.3:  # rename one of mine
                api, ident = rng.choice(mine)
                ledger.sending_rename(api, ident, name)
                if api == "testiny":
                    status, _ = call(connection, "PUT", f"/api/v1/project/{ident}?force=true", {"name": name},
                                     {"X-Api-Key": KEY})
                else:
                    status, _ = call(connection, "PUT", f"/v1/projects/{ident}", {"name": name, "team": team},
                                     {"Authorization": ufdl_auth})
                if status == 200:
                    ledger.acknowledged(api, ident, name)
            elif mine and choice < 0.4:  # soft-delete one of my Testiny projects
                testiny = [m for m in mine if m[0] == "testiny" and m not in ledger.deleted]
                if testiny:
                    api, ident = rng.choice(testiny)
                    status, _ = call(connection, "DELETE", f"/api/v1/project/{ident}", None, {"X-Api-Key": KEY})
                    if status == 200:
                        with ledger.lock:
                            ledger.deleted.add((api, ident))
            else:
                api = "testiny" if choice < 0.7 else "ufdl"
                with ledger.lock:
                    ledger.pending.add(name)
                if api == "testiny":
                    status, body = call(connection, "POST", "/api/v1/project", {"name": name}, {"X-Api-Key": KEY})
                    ident = body.get("id") if status == 200 else None
                else:
                    status, body = call(connection, "POST", "/v1/projects/create", {"name": name, "team": team},
                                        {"Authorization": ufdl_auth})
                    ident = body.get("pk") if status == 201 else None
                assert ident is not None, (status, body)
                ledger.acknowledged(api, ident, name)
                mine.append((api, ident))
    except (OSError, http.client.HTTPException):
        return  # the server was killed


def call(connection: http.client.HTTPConnection, method: str, path: str, body, headers) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    connection.request(method, path, body=data, headers={**headers, "Content-Type": "application/json"})
    response = connection.getresponse()
    payload = response.read()
    return response.status, json.loads(payload) if payload else {}


def stored(server: ServerProcess) -> dict[tuple[str, int], dict]:
    state = server.get("/__mock__/state").json()
    records = {("testiny", p["id"]): p for p in state["testiny"]["projects"]}
    records.update({("ufdl", p["pk"]): p for p in state["ufdl"]["projects"]})
    return records


def check(records: dict[tuple[str, int], dict], ledger: Ledger) -> list[str]:
    problems = []
    for key, name in ledger.names.items():
        record = records.get(key)
        if record is None:
            problems.append(f"lost: {key} {name}")
        elif record["name"] not in ledger.allowed[key]:
            problems.append(f"{key} is {record['name']!r}, acknowledged {name!r}")
    for key in ledger.deleted:
        if key in records and not records[key]["is_deleted"]:
            problems.append(f"acknowledged delete lost: {key}")
    for key, record in records.items():
        if key not in ledger.names and record["name"] not in ledger.pending and record["name"] != "base":
            problems.append(f"unexpected record {key}: {record['name']!r}")
    return problems


def test_no_acknowledged_write_is_lost_and_no_id_reused_over_twenty_kills(tmp_path):
    path = tmp_path / "state.db"
    ledger = Ledger()
    rng = random.Random(13)
    team = None
    writes = 0
    for kill in range(KILLS):
        server = ServerProcess("--empty", "--state-file", str(path)).start()
        try:
            records = stored(server)
            assert check(records, ledger) == [], f"after kill {kill}"
            auth = admin_headers(server)
            if team is None:
                team = server.post("/v1/teams/create", headers=auth, json={"name": "base"}).json()["pk"]
            highest = {api: max([k[1] for k in records if k[0] == api], default=0) for api in ("testiny", "ufdl")}
            before = len(ledger.names)
            stop = threading.Event()
            threads = [threading.Thread(target=writer, args=(server.url, n + kill * WRITERS, auth["Authorization"],
                                                             team, ledger, stop)) for n in range(WRITERS)]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.3, 0.8))
        finally:
            server.proc.kill()  # SIGKILL: no chance to clean up
            server.proc.wait()
            stop.set()
        for thread in threads:
            thread.join(timeout=20)
        new = [key for key in list(ledger.names)[before:]]
        assert new, "the writers wrote"
        assert all(ident > highest[api] for api, ident in new), "an id was handed out again"
        writes += len(new)
    with ServerProcess("--empty", "--state-file", str(path)) as server:
        assert check(stored(server), ledger) == []
    assert writes > 20 * KILLS
