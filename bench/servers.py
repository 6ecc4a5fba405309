"""The servers a benchmark loads: the mock, a bare aiohttp ceiling, Prism and WireMock, each started
on a core of its own, with the data of a workload's size."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from typing import Any

import datasets as ds
from plumbing import (
    BENCH,
    CACHE,
    MB,
    ROOT,
    SIZES,
    TESTINY_KEY,
    WIREMOCK_VERSION,
    Unavailable,
    boosted,
    call,
    ensure_npm_packages,
    free_port,
    rss_kb,
)

# -- servers -----------------------------------------------------------------------------------

class Server:
    kind = ""
    label = ""
    stateful = True  # holds the data set (mock, ceiling); Prism and WireMock answer static bodies
    health_path = "/"
    run_dir = ROOT  # the directory the server runs in

    def __init__(self, api: str, args: argparse.Namespace) -> None:
        self.api = api
        self.args = args
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = CACHE / "logs" / f"{self.kind}-{api}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = self.command()
        with self.log_path.open("w") as out:
            pinned = ["taskset", "-c", str(self.args.server_cpu), *command]
            self.proc = subprocess.Popen(pinned, cwd=self.run_dir, stdout=out, stderr=subprocess.STDOUT, env=self.env(),
                                         preexec_fn=boosted(self.args.nice))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Unavailable(f"{self.kind} exited at start-up ({self.proc.returncode}): " + self.log_tail())
            try:
                status, _, _ = call(self.port, "GET", self.health_path, timeout=2)
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise Unavailable(f"{self.kind} did not answer within 120 s: " + self.log_tail())

    def log_tail(self) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-5:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def prepare(self, size: int) -> float:
        """Load a data set of `size` projects; returns the seconds it took."""
        return 0.0

    def auth_headers(self) -> dict[str, str]:
        if self.api == "testiny":
            return {"X-Api-Key": TESTINY_KEY}
        status, body, _ = call(self.port, "POST", "/v1/auth/obtain", {"username": "admin", "password": "admin"})
        if status != 200:
            raise RuntimeError(f"{self.kind}: /v1/auth/obtain answered {status}: {body[:200]!r}")
        return {"Authorization": "Bearer " + json.loads(body)["access"]}

    def etags(self, size: int, headers: dict[str, str]) -> dict[int, str]:
        """Current `_etag` of the Testiny projects 1..1000 (empty for servers that ignore them)."""
        if not self.stateful:
            return {}
        status, body, _ = call(self.port, "POST", "/api/v1/project/find",
                               {"pagination": {"limit": min(size, 2000)}}, headers)
        if status != 200:
            raise RuntimeError(f"{self.kind}: find for the _etags answered {status}")
        return {p["id"]: p["_etag"] for p in json.loads(body)["data"]}

    def memory(self) -> dict[str, int] | None:
        return rss_kb(self.proc.pid) if self.alive() else None

    def path(self, path: str) -> str:
        """The path as this server serves it."""
        return path


class Mock(Server):
    kind, label = "mock", "mock"
    health_path = "/__mock__/health"

    def command(self) -> list[str]:
        return [self.args.python, "-m", "mockserver", "--host", "127.0.0.1", "--port", str(self.port), "--empty",
                "--quiet", "--api", self.api, "--ufdl-access-lifetime", "3600",
                "--max-body-bytes", str(512 * MB), "--log-level", "warning"]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")  # this checkout's mockserver
        return env

    def prepare(self, size: int) -> float:
        seed = ds.ufdl_seed(size) if self.api == "ufdl" else ds.testiny_seed(size)
        status, body, seconds = call(self.port, "POST", "/__mock__/seed", seed)
        if status != 200:
            raise RuntimeError(f"mock: seeding {size} {self.api} projects answered {status}: {body[:300]!r}")
        return seconds


class Ceiling(Server):
    kind, label = "ceiling", "ceiling"
    health_path = "/__bench__/health"

    def command(self) -> list[str]:
        return [self.args.python, str(BENCH / "ceiling.py"), "--port", str(self.port), "--loop", self.args.loop,
                "--api", self.api]

    def prepare(self, size: int) -> float:
        status, body, seconds = call(self.port, "POST", "/__bench__/seed", {"api": self.api, "size": size})
        if status != 200:
            raise RuntimeError(f"ceiling: seeding answered {status}: {body[:300]!r}")
        return seconds


class Prism(Server):
    kind, label = "prism", "Prism"
    stateful = False

    def path(self, path: str) -> str:
        # Prism serves the spec's paths without the base path of its `servers` URL (/api/v1 for Testiny)
        return path.removeprefix("/api/v1") if self.api == "testiny" else path

    def command(self) -> list[str]:
        prism = ensure_npm_packages() / "node_modules" / ".bin" / "prism"
        if not shutil.which("node"):
            raise Unavailable("node is not installed")
        return [str(prism), "mock", str(ROOT / "openapi" / f"{self.api}.yaml"), "-h", "127.0.0.1",
                "-p", str(self.port), "--verboseLevel", "error"]


class WireMock(Server):
    """WireMock standalone with JSON stub mappings for the same routes and static bodies."""

    kind, label = "wiremock", "WireMock"
    stateful = False
    health_path = "/__admin/health"
    # Stubs whose body depends on the data set size get fixed ids, replaced in prepare(size).
    LIST_ID = "00000000-0000-4000-8000-000000000001"
    FILTER_ID = "00000000-0000-4000-8000-000000000002"

    def command(self) -> list[str]:
        jar = (ensure_npm_packages() / "node_modules" / "wiremock" / "build"
               / f"wiremock-standalone-{WIREMOCK_VERSION}.jar")
        if not shutil.which("java"):
            raise Unavailable("java is not installed")
        self.root = CACHE / "wiremock" / self.api
        self.write_stubs()
        return ["java", "-jar", str(jar), "--port", str(self.port), "--bind-address", "127.0.0.1",
                "--root-dir", str(self.root), "--no-request-journal", "--disable-request-logging",
                "--disable-banner"]

    def write_stubs(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        (self.root / "mappings").mkdir(parents=True)
        (self.root / "__files").mkdir()
        for mapping in self.static_mappings() + self.sized_mappings(SIZES[0]):
            name = mapping.get("id") or f"stub-{len(list((self.root / 'mappings').iterdir()))}"
            (self.root / "mappings" / f"{name}.json").write_text(json.dumps(mapping))

    def auth(self) -> dict[str, Any]:
        if self.api == "ufdl":
            return {"Authorization": {"matches": "Bearer .+"}}
        return {"X-Api-Key": {"equalTo": TESTINY_KEY}}

    def json_response(self, body: Any = None, status: int = 200, file: str | None = None) -> dict[str, Any]:
        response: dict[str, Any] = {"status": status, "headers": {"Content-Type": "application/json"}}
        if file:
            response["bodyFileName"] = file
        else:
            response["body"] = json.dumps(body, separators=(",", ":"))
        return response

    def static_mappings(self) -> list[dict[str, Any]]:
        auth = self.auth()
        if self.api == "ufdl":
            project = ds.ufdl_project(0, SIZES[0])
            item = "/v1/projects/[0-9]+"
            return [
                {"request": {"method": "POST", "urlPath": "/v1/auth/obtain"},
                 "response": self.json_response({"refresh": "wiremock-refresh", "access": "wiremock-access"})},
                {"request": {"method": "GET", "urlPathPattern": item, "headers": auth},
                 "response": self.json_response(project)},
                {"request": {"method": "PATCH", "urlPathPattern": item, "headers": auth},
                 "response": self.json_response(project)},
                {"request": {"method": "POST", "urlPath": "/v1/projects/create", "headers": auth},
                 "response": self.json_response(project, 201)},
            ]
        project = ds.testiny_project(0, SIZES[0], "5da44ed838a0450fa4412391338ec326")
        item = "/api/v1/project/[0-9]+"
        return [
            {"request": {"method": "GET", "urlPathPattern": item, "headers": auth},
             "response": self.json_response(project)},
            {"request": {"method": "PUT", "urlPathPattern": item, "headers": auth},
             "response": self.json_response(project)},
            {"request": {"method": "POST", "urlPath": "/api/v1/project", "headers": auth},
             "response": self.json_response(project)},
        ]

    def sized_mappings(self, size: int) -> list[dict[str, Any]]:
        """The list/find stubs for a data set of `size`: the whole list, and the 100 filtered answers."""
        auth = self.auth()
        if self.api == "ufdl":
            projects = ds.ufdl_projects(size)
            whole, hot = projects, [p for p in projects if p["team"] == ds.HOT_TEAM_PK]
            path, filter_path = "/v1/projects/list", "$.expressions"
        else:
            projects = [ds.testiny_project(i, size, secrets.token_hex(16)) for i in range(size)]
            whole = ds.testiny_find_result(projects, ds.TESTINY_PAGE)
            hot = ds.testiny_find_result([p for p in projects if p["description"] == "hot"], 100)
            path, filter_path = "/api/v1/project/find", "$.filter"
        files = {}
        for name, body in ((f"list-{size}.json", whole), (f"filter-{size}.json", hot)):
            (self.root / "__files" / name).write_text(json.dumps(body, separators=(",", ":")))
            files[name.split("-")[0]] = name
        return [
            {"id": self.FILTER_ID, "priority": 1,
             "request": {"method": "POST", "urlPath": path, "headers": auth,
                         "bodyPatterns": [{"matchesJsonPath": filter_path}]},
             "response": self.json_response(file=files["filter"])},
            {"id": self.LIST_ID, "priority": 5,
             "request": {"method": "POST", "urlPath": path, "headers": auth},
             "response": self.json_response(file=files["list"])},
        ]

    def prepare(self, size: int) -> float:
        started = time.perf_counter()
        for mapping in self.sized_mappings(size):
            status, body, _ = call(self.port, "PUT", f"/__admin/mappings/{mapping['id']}", mapping)
            if status != 200:
                raise RuntimeError(f"wiremock: replacing a stub answered {status}: {body[:300]!r}")
        return time.perf_counter() - started


SERVER_CLASSES = {"ceiling": Ceiling, "mock": Mock, "prism": Prism, "wiremock": WireMock}
