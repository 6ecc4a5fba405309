"""Benchmark the mock against a bare aiohttp ceiling, Prism and WireMock, in one run.

    python bench/run.py                      # everything: 4 servers x 2 APIs x all workloads
    python bench/run.py --quick              # a few seconds per workload (smoke run)
    python bench/run.py --quick --only mock,ceiling   # no npm, Node or Java needed

Each server is pinned to one core (taskset, --server-cpu) and loaded by `wrk` pinned to another
(--client-cpu), one wrk thread. Every workload gets a warm-up of its own before it is measured
(the JIT of WireMock needs it). See bench/README.md for the workloads and the targets.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import datasets as ds  # noqa: E402

CACHE = BENCH / ".cache"
PRISM_VERSION = "5.16.0"
WIREMOCK_VERSION = "3.13.2"
SERVERS = ("ceiling", "mock", "prism", "wiremock")
APIS = ("ufdl", "testiny")
SIZES = (1000, 10_000, 100_000)
TESTINY_KEY = "testiny-mock-demo-key"
RSS_SIZE = 100_000
MB = 1024 * 1024


class Unavailable(Exception):
    """A server or tool that cannot run here; its rows are skipped with this message."""


# -- plumbing ----------------------------------------------------------------------------------

def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 300) -> tuple[int, bytes, float]:
    """One HTTP request on a fresh connection: (status, body, seconds)."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    sent = dict(headers or {})
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        started = time.perf_counter()
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        payload = response.read()
        return response.status, payload, time.perf_counter() - started
    finally:
        conn.close()


def rss_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            values[key] = int(value.split()[0])
    return {"rss_kb": values.get("VmRSS", 0), "hwm_kb": values.get("VmHWM", 0)}


def run_quiet(cmd: list[str], timeout: float = 30) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout + done.stderr).strip()


def boosted(nice: int):
    """preexec_fn: a session of its own and, with --nice, a higher CPU share.

    Linux's autogroups (sched_autogroup_enabled) weigh each session against the others, so the
    nice value of a process counts only inside its session: the session's own autogroup gets
    the nice value too.
    """
    def start() -> None:
        os.setsid()
        if nice:
            try:  # lowering nice needs root (CAP_SYS_NICE); without it the process runs as is
                os.setpriority(os.PRIO_PROCESS, 0, nice)
                Path("/proc/self/autogroup").write_text(str(nice))
            except OSError:
                pass
    return start


# -- tools -------------------------------------------------------------------------------------

def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        log("bench: wrk is missing; installing Debian's package (apt-get install wrk)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, env=env)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench: wrk is needed (Debian/Ubuntu: apt-get install wrk)")
    return found


def ensure_npm_packages() -> Path:
    """Prism and WireMock from the npm registry, installed once into bench/.cache/npm."""
    prefix = CACHE / "npm"
    modules = prefix / "node_modules"
    prism = modules / ".bin" / "prism"
    jar = modules / "wiremock" / "build" / f"wiremock-standalone-{WIREMOCK_VERSION}.jar"
    if prism.exists() and jar.exists():
        return prefix
    if not shutil.which("npm"):
        raise Unavailable("npm is not installed")
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "package.json").write_text(json.dumps({
        "name": "mockserver-bench-tools", "private": True,
        "dependencies": {"@stoplight/prism-cli": PRISM_VERSION, "wiremock": WIREMOCK_VERSION},
    }, indent=2))
    log(f"bench: npm install @stoplight/prism-cli@{PRISM_VERSION} wiremock@{WIREMOCK_VERSION} into {prefix}")
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=prefix)
    if done.returncode != 0 or not prism.exists() or not jar.exists():
        raise Unavailable("npm install of @stoplight/prism-cli / wiremock failed")
    return prefix


def mock_event_loop(python: str) -> str:
    """The loop the mock runs on: uvloop only if its code mentions it and it is importable."""
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "mockserver").glob("*.py"))
    if "uvloop" not in sources:
        return "asyncio"
    ok = subprocess.run([python, "-c", "import uvloop"], capture_output=True).returncode == 0
    return "uvloop" if ok else "asyncio"


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


# -- workloads ---------------------------------------------------------------------------------

@dataclass
class Workload:
    name: str
    api: str
    size: int  # the data set it runs on
    connections: int
    mode: str  # wrk.lua BENCH_MODE
    method: str = "GET"
    path: str = "/"
    body: Any = None
    item_path: str = ""
    write_method: str = ""
    write_body: str = ""  # template with {nonce}, {n}, {etag}
    etag: bool = False  # Testiny writes carry the current _etag
    single: bool = False  # a single-project call (the p99 target)
    status: int = 200
    items: int | None = None  # expected number of projects in the answer (stateful servers)
    title: str = ""

    def env(self, nonce: str) -> dict[str, str]:
        body = "" if self.body is None else json.dumps(self.body, separators=(",", ":"))
        return {
            "BENCH_MODE": self.mode, "BENCH_METHOD": self.method, "BENCH_PATH": self.path, "BENCH_BODY": body,
            "BENCH_ITEM_PATH": self.item_path, "BENCH_WRITE_METHOD": self.write_method,
            "BENCH_WRITE_BODY": self.write_body.replace("{nonce}", nonce), "BENCH_IDS": str(min(self.size, 1000)),
        }

    def first_request(self, etags: dict[int, str]) -> tuple[str, str, Any]:
        """The request a preflight check sends (the first one wrk would send, id 1)."""
        if self.mode == "static":
            return self.method, self.path, self.body
        if self.mode == "read" or self.mode == "mix":
            return "GET", self.item_path + "1", None
        # a fresh name per check: a repeated measurement (--repeat) must not clash with the last one
        nonce = "pre" + secrets.token_hex(3)
        text = self.write_body.replace("{nonce}", nonce).replace("{n}", "0").replace("{etag}", etags.get(1, "none"))
        if self.mode == "create":
            return self.method, self.path, json.loads(text)
        return self.write_method, self.item_path + "1", json.loads(text)


def size_label(size: int) -> str:
    return f"{size // 1000}k"


def plan(api: str) -> list[Workload]:
    """Every workload of an API, in run order (grouped by data set; writes that add rows last)."""
    small = SIZES[0]
    if api == "ufdl":
        item = "/v1/projects/"
        workloads = [
            Workload("get", api, small, 32, "read", item_path=item, single=True, title="GET one project"),
            Workload("mix", api, small, 32, "mix", item_path=item, write_method="PATCH",
                     write_body='{"name":"mx-{nonce}-{n}"}', single=True, title="80 % GET / 20 % PATCH"),
        ]
        for size in SIZES:
            conns = 32 if size == small else 1
            workloads += [
                Workload(f"list-{size_label(size)}", api, size, conns, "static", "POST", "/v1/projects/list", {},
                         items=size, title=f"list {size:,} projects"),
                Workload(f"list-{size_label(size)}-filter", api, size, conns, "static", "POST", "/v1/projects/list",
                         ds.UFDL_FILTER, items=ds.HOT_MATCHES, title=f"filtered list of {size:,} (100 match)"),
            ]
            if size == small:
                workloads.append(Workload("create", api, small, 32, "create", "POST", "/v1/projects/create",
                                          write_body='{"name":"cr-{nonce}-{n}","team":1}', single=True, status=201,
                                          title="create (unique names)"))
        return workloads
    item = "/api/v1/project/"
    update = '{"name":"up {nonce} {n}","_etag":"{etag}"}'
    workloads = [
        Workload("read", api, small, 32, "read", item_path=item, single=True, title="GET one project"),
        Workload("update", api, small, 32, "write", item_path=item, write_method="PUT", write_body=update,
                 etag=True, single=True, title="PUT with the current _etag"),
        Workload("mix", api, small, 32, "mix", item_path=item, write_method="PUT", write_body=update, etag=True,
                 single=True, title="80 % GET / 20 % PUT"),
    ]
    for size in SIZES:
        conns = 32 if size == small else 1
        page = min(size, ds.TESTINY_PAGE)
        workloads += [
            Workload(f"find-{size_label(size)}", api, size, conns, "static", "POST", "/api/v1/project/find",
                     {"pagination": {"limit": ds.TESTINY_PAGE}}, items=page,
                     title=f"find, no filter, page of {page:,} of {size:,}"),
            Workload(f"find-{size_label(size)}-filter", api, size, conns, "static", "POST", "/api/v1/project/find",
                     {"filter": ds.TESTINY_FILTER, "pagination": {"limit": 100}}, items=ds.HOT_MATCHES,
                     title=f"find with a filter over {size:,} (100 match)"),
        ]
        if size == small:
            workloads.append(Workload("create", api, small, 32, "create", "POST", "/api/v1/project",
                                      write_body='{"name":"cr {nonce} {n}"}', single=True, title="create"))
    return workloads


def count_items(api: str, payload: bytes) -> int | None:
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if api == "ufdl":
        return len(data) if isinstance(data, list) else None
    return len(data["data"]) if isinstance(data, dict) and isinstance(data.get("data"), list) else None


# -- measuring ---------------------------------------------------------------------------------

@dataclass
class Row:
    api: str
    workload: str
    server: str
    connections: int
    size: int
    title: str = ""
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    errors: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    kb_per_response: float | None = None
    check: str = ""  # preflight: "" when fine, else what was wrong
    skipped: str = ""
    server_cpu: float | None = None  # % of one core used by the server during the measured run
    other_cpu: float | None = None  # % of the server's core used by other processes meanwhile
    runs: list[int] = field(default_factory=list)  # req/s of every run (--repeat); the row is the best
    noisy: bool = False  # other processes used more than --quiet-threshold of a core meanwhile
    note: str = ""  # e.g. Prism's list answers are its spec example, whatever the data set

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


CLK_TCK = os.sysconf("SC_CLK_TCK")


def busy_ticks(cpu: int) -> int:
    """CPU time of processes on one core (user, nice, system) plus the hypervisor's steal, in clock
    ticks; interrupt time is left out (the loopback traffic of the benchmark itself lands there)."""
    prefix = f"cpu{cpu} "
    line = next(line for line in Path("/proc/stat").read_text().splitlines() if line.startswith(prefix))
    fields = [int(v) for v in line.split()[1:]]
    return fields[0] + fields[1] + fields[2] + fields[7]


def process_ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks; 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def wait_quiet(args: argparse.Namespace) -> float:
    """Wait (at most --quiet-wait s) until other processes use less than --quiet-threshold % of the
    server core. Returns the last sample. The servers are idle here, so that core's busy time is foreign.
    """
    deadline = time.monotonic() + args.quiet_wait
    while True:
        before, clock = busy_ticks(args.server_cpu), time.monotonic()
        time.sleep(0.5)
        busy = 100 * (busy_ticks(args.server_cpu) - before) / CLK_TCK / (time.monotonic() - clock)
        if busy < args.quiet_threshold or time.monotonic() >= deadline:
            return busy
        log(f"bench:   waiting for a quiet server core (other processes use {busy:.0f}% of it)")
        time.sleep(2)


def wrk(args: argparse.Namespace, server: Server, workload: Workload, headers: dict[str, str], seconds: float,
        etags: dict[int, str], workdir: Path) -> dict[str, Any]:
    nonce = secrets.token_hex(3)
    out = workdir / f"wrk-{nonce}.json"
    env = {**os.environ, **workload.env(nonce), "BENCH_OUT": str(out),
           "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in headers.items())}
    env["BENCH_PATH"], env["BENCH_ITEM_PATH"] = server.path(env["BENCH_PATH"]), server.path(env["BENCH_ITEM_PATH"])
    if workload.etag:
        if args.testiny_force:
            env["BENCH_QUERY"] = "?force=true"
        else:
            etag_file = workdir / "etags.txt"
            etag_file.write_text("".join(f"{pid} {etag}\n" for pid, etag in etags.items()))
            env["BENCH_ETAGS"], env["BENCH_TRACK_ETAG"] = str(etag_file), "1"
    timeout = max(30, int(seconds) + 10)
    cmd = ["taskset", "-c", str(args.client_cpu), args.wrk, "-t1", f"-c{workload.connections}",
           f"-d{max(1, round(seconds))}s", f"--timeout={timeout}s", "-s", str(BENCH / "wrk.lua"),
           f"http://127.0.0.1:{server.port}"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + timeout + 60,
                          preexec_fn=boosted(args.nice))
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[:500]}")
    result = json.loads(out.read_text())
    out.unlink()
    return result


def preflight(server: Server, workload: Workload, headers: dict[str, str], etags: dict[int, str]) -> tuple[str, str]:
    """Send the workload's first request once: (problem or '', note or '')."""
    method, path, body = workload.first_request(etags)
    status, payload, _ = call(server.port, method, server.path(path), body, headers)
    if status >= 300:
        return f"{method} {path} answered {status}: {payload[:160].decode(errors='replace')}", ""
    if server.stateful and status != workload.status:
        return f"{method} {path} answered {status}, expected {workload.status}", ""
    if workload.items is not None:
        found = count_items(workload.api, payload)
        if server.kind == "prism":
            return "", f"spec example: {found} projects"
        if found != workload.items:
            return f"answer holds {found} projects, expected {workload.items}", ""
    return "", ""


def measure(args: argparse.Namespace, server: Server, workload: Workload, headers: dict[str, str],
            workdir: Path) -> Row:
    row = Row(workload.api, workload.name, server.kind, workload.connections, workload.size, workload.title)
    etags = server.etags(workload.size, headers) if workload.etag else {}
    row.check, row.note = preflight(server, workload, headers, etags)
    if workload.etag:
        etags = server.etags(workload.size, headers)
    if args.quiet_wait > 0:
        wait_quiet(args)
    if args.warmup > 0:
        wrk(args, server, workload, headers, args.warmup, etags, workdir)
        if workload.etag:
            etags = server.etags(workload.size, headers)
    core, own, clock = busy_ticks(args.server_cpu), process_ticks(server.proc.pid), time.monotonic()
    result = wrk(args, server, workload, headers, args.duration, etags, workdir)
    elapsed = time.monotonic() - clock
    server_cpu = (process_ticks(server.proc.pid) - own) / CLK_TCK
    other_cpu = (busy_ticks(args.server_cpu) - core) / CLK_TCK - server_cpu
    row.server_cpu = 100 * server_cpu / elapsed
    row.other_cpu = min(100.0, max(0.0, 100 * other_cpu / elapsed))
    seconds = result["duration_us"] / 1e6
    row.requests = result["requests"]
    row.rps = result["requests"] / seconds if seconds else None
    latency = result["latency_us"]
    row.p50_ms, row.p99_ms, row.max_ms = latency["p50"] / 1000, latency["p99"] / 1000, latency["max"] / 1000
    row.errors = {k: v for k, v in result["errors"].items() if v}
    row.kb_per_response = result["bytes"] / result["requests"] / 1024 if result["requests"] else None
    if not server.alive():
        row.check = (row.check + "; " if row.check else "") + "server died: " + server.log_tail()
    row.noisy = row.other_cpu > args.quiet_threshold
    return row


def bench_api(args: argparse.Namespace, api: str, kinds: list[str], workloads: list[Workload], workdir: Path,
              report: dict[str, Any]) -> list[Row]:
    """Start every server of the API (all pinned to the server core, idle but one at a time) and
    run each workload on each server in turn, so that the ratios compare runs minutes apart at most."""
    rows: list[Row] = []
    servers: dict[str, Server] = {}
    dead: dict[str, str] = {}

    def skip(kind: str, why: str, todo: list[Workload]) -> None:
        dead[kind] = why
        report["skipped"].append({"server": kind, "api": api, "why": why})
        rows.extend(Row(api, w.name, kind, w.connections, w.size, w.title, skipped=why) for w in todo)

    try:
        for kind in kinds:
            server = SERVER_CLASSES[kind](api, args)
            try:
                log(f"bench: starting {kind} ({api})")
                if kind == "mock":  # the code a running mock executes is the code at its start
                    report.setdefault("mock_versions", {})[api] = mock_version()
                server.start()
                servers[kind] = server
            except Unavailable as exc:
                log(f"bench: skipping {kind} for {api}: {exc}")
                skip(kind, str(exc), workloads)
        memory = {kind: {"server": kind, "api": api} for kind, s in servers.items() if s.stateful}
        by_size: dict[int, list[Workload]] = {}
        for workload in workloads:
            by_size.setdefault(workload.size, []).append(workload)
        for size, group in by_size.items():
            headers: dict[str, dict[str, str]] = {}
            for kind, server in servers.items():
                if kind in dead:
                    continue
                try:
                    seconds = server.prepare(size)
                    headers[kind] = server.auth_headers()
                except (RuntimeError, OSError) as exc:
                    skip(kind, f"aborted: {exc}", [w for w in workloads if w.size >= size])
                    continue
                if server.stateful:
                    log(f"bench: {kind} ({api}) holds {size:,} projects (loaded in {seconds:.1f} s)")
                if size == RSS_SIZE and kind in memory:
                    memory[kind].update(seeded=server.memory(), seed_seconds=round(seconds, 2))
                if size == workloads[0].size and args.server_warmup > 0:
                    # once per server: long enough for WireMock's JIT to compile the request path
                    log(f"bench: warming up {kind} ({api}) with {workloads[0].name} for {args.server_warmup:g} s")
                    try:
                        wrk(args, server, workloads[0], headers[kind], args.server_warmup, {}, workdir)
                    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                        log(f"bench:   warm-up failed: {exc}")
            for workload in group:
                best: dict[str, Row] = {}
                for attempt in range(args.repeat):
                    for kind, server in servers.items():
                        if kind in dead:
                            continue
                        run_no = f"  (run {attempt + 1})" if args.repeat > 1 else ""
                        log(f"bench: {kind:8} {api:7} {workload.name:18} c={workload.connections:<3} "
                            f"{args.warmup:g}+{args.duration:g} s{run_no}")
                        try:
                            row = measure(args, server, workload, headers[kind], workdir)
                        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                            row = Row(api, workload.name, kind, workload.connections, workload.size, workload.title,
                                      check=f"failed: {exc}")
                        if row.check:
                            log(f"bench:   check: {row.check}")
                        row.runs = (best[kind].runs if kind in best else []) + [round(row.rps or 0)]
                        if kind not in best or (row.rps or 0) > (best[kind].rps or 0):
                            best[kind] = row
                        else:
                            best[kind].runs = row.runs
                        if not server.alive():
                            rows.append(best.pop(kind))
                            later = workloads[workloads.index(workload) + 1:]
                            skip(kind, f"died: {server.log_tail()}", later)
                rows.extend(best.values())
            if size == RSS_SIZE:
                for kind in memory:
                    if kind not in dead:
                        memory[kind]["after_load"] = servers[kind].memory()
        report["memory"].extend(m for m in memory.values() if "seeded" in m)
    finally:
        for server in servers.values():
            server.stop()
    return rows


# -- report ------------------------------------------------------------------------------------

TARGETS = [
    # (id, workload per API, kind, threshold, description)
    ("get", {"ufdl": "get", "testiny": "read"}, "ratio", 0.8, "GET one project: req/s >= 0.8x ceiling"),
    ("mix", {"ufdl": "mix", "testiny": "mix"}, "ratio", 0.75, "80/20 GET/write mix: req/s >= 0.75x ceiling"),
    ("create", {"ufdl": "create", "testiny": "create"}, "ratio", 0.6, "create: req/s >= 0.6x ceiling"),
    ("list", {"ufdl": "list-1k", "testiny": "find-1k"}, "ratio", 0.8, "list of 1k projects: req/s >= 0.8x ceiling"),
    ("filter", {"ufdl": "list-100k-filter", "testiny": "find-100k-filter"}, "p50", 20.0,
     "filtered list over 100k (100 match): p50 < 20 ms (1 connection)"),
]
P99_LIMIT_MS = 5.0
RSS_LIMIT_MB = 250.0


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def find(rows: list[Row], api: str, workload: str, server: str) -> Row | None:
    return next((r for r in rows if (r.api, r.workload, r.server) == (api, workload, server)), None)


def result_table(rows: list[Row], servers: list[str]) -> list[list[str]]:
    header = ["API", "workload", "conns", "server", "req/s", "p50 ms", "p99 ms", "errors", "KB/resp",
              "x ceiling", "x Prism", "x WireMock", "srv CPU", "others", "check"]
    table = [header]
    seen: list[tuple[str, str]] = []
    for r in rows:
        if (r.api, r.workload) not in seen:
            seen.append((r.api, r.workload))
    for api, workload in seen:
        base = {s: find(rows, api, workload, s) for s in ("ceiling", "prism", "wiremock")}
        for server in servers:
            r = find(rows, api, workload, server)
            if r is None:
                continue
            if r.skipped:
                table.append([api, workload, str(r.connections), server, "skipped", "", "", "", "", "", "", "",
                              "", "", r.skipped[:60]])
                continue
            errors = str(r.error_count) if not r.errors else f"{r.error_count} ({', '.join(r.errors)})"
            table.append([
                api, workload, str(r.connections), server, fmt(r.rps), fmt(r.p50_ms, 2), fmt(r.p99_ms, 2), errors,
                fmt(r.kb_per_response, 1),
                *[ratio(r.rps, base[s].rps if base[s] else None) for s in ("ceiling", "prism", "wiremock")],
                pct(r.server_cpu), pct(r.other_cpu),
                r.check[:80] or ", ".join(x for x in (r.note, "noisy" if r.noisy else "") if x) or "ok",
            ])
    return table


def target_rows(rows: list[Row], report: dict[str, Any]) -> list[list[str]]:
    table = [["API", "target", "measured", "x Prism", "x WireMock", "verdict"]]
    apis = sorted({r.api for r in rows}, key=APIS.index)
    for api in apis:
        for _, names, kind, limit, text in TARGETS:
            name = names[api]
            mock, ceiling = find(rows, api, name, "mock"), find(rows, api, name, "ceiling")
            prism, wiremock = find(rows, api, name, "prism"), find(rows, api, name, "wiremock")
            if mock is None or mock.skipped or mock.rps is None:
                table.append([api, text, "not measured", "", "", "n/a"])
                continue
            if kind == "ratio":
                if ceiling is None or not ceiling.rps:
                    table.append([api, text, f"mock {fmt(mock.rps)} req/s, no ceiling", "", "", "n/a"])
                    continue
                value = mock.rps / ceiling.rps
                ok = value >= limit
                measured = f"{value:.3f}x ({fmt(mock.rps)} vs {fmt(ceiling.rps)} req/s)"
            else:
                ok = mock.p50_ms is not None and mock.p50_ms < limit
                measured = f"p50 {fmt(mock.p50_ms, 1)} ms, p99 {fmt(mock.p99_ms, 1)} ms"
                if ceiling is not None and ceiling.p50_ms:
                    measured += f" (ceiling p50 {fmt(ceiling.p50_ms, 1)} ms)"
            verdict = "PASS" if ok and not mock.error_count and not mock.check else "MISS"
            if ok and (mock.error_count or mock.check):
                verdict += " (errors)"
            if mock.noisy or (kind == "ratio" and ceiling.noisy):
                verdict += " (noisy)"
            table.append([api, text, measured, ratio(mock.rps, prism.rps if prism else None),
                          ratio(mock.rps, wiremock.rps if wiremock else None), verdict])
        singles = [r for r in rows if r.api == api and r.server == "mock" and not r.skipped and r.p99_ms is not None
                   and any(w.single and w.name == r.workload for w in plan(api))]
        if singles:
            worst = max(singles, key=lambda r: r.p99_ms)
            ok = worst.p99_ms < P99_LIMIT_MS
            measured = ", ".join(f"{r.workload} {r.p99_ms:.1f}" for r in singles) + " ms"
            table.append([api, "single-project calls: p99 < 5 ms at 32 connections", measured, "", "",
                          "PASS" if ok else f"MISS ({worst.workload})"])
        memory = next((m for m in report["memory"] if m["server"] == "mock" and m["api"] == api), None)
        if memory and memory.get("seeded"):
            values = [memory["seeded"]["rss_kb"] / 1024]
            measured = f"{values[0]:.0f} MB after the seed"
            if memory.get("after_load"):
                values.append(memory["after_load"]["rss_kb"] / 1024)
                peak = memory["after_load"]["hwm_kb"] / 1024
                measured += f", {values[1]:.0f} MB after the 100k workloads (peak {peak:.0f} MB)"
            ok = max(values) < RSS_LIMIT_MB
            table.append([api, "RSS at 100k projects < 250 MB", measured, "", "", "PASS" if ok else "MISS"])
        else:
            table.append([api, "RSS at 100k projects < 250 MB", "not measured", "", "", "n/a"])
    return table


def memory_table(report: dict[str, Any]) -> list[list[str]]:
    table = [["API", "server", "RSS after seeding 100k", "RSS after the 100k workloads", "peak RSS", "seed time"]]
    for m in report["memory"]:
        seeded, after = m.get("seeded") or {}, m.get("after_load") or {}
        table.append([m["api"], m["server"], fmt(seeded.get("rss_kb", 0) / 1024) + " MB",
                      fmt(after.get("rss_kb", 0) / 1024) + " MB", fmt(after.get("hwm_kb", 0) / 1024) + " MB",
                      f"{m.get('seed_seconds', 0):.1f} s"])
    return table


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_report(tables: list[list[list[str]]], targets: list[list[str]], seconds: float) -> int:
    """Print the tables and the targets; the exit status: 0 when every target passes."""
    for table in [*tables, targets]:
        print()
        print(render_text(table))
    print(f"\n{seconds:.0f} s")
    return 0 if all(row[-1] == "PASS" for row in targets[1:]) else 1


def write_results_section(heading: str, lines: list[str]) -> None:
    """Replace the section `## {heading}` of bench/RESULTS.md with `lines` (added before
    "## Machine" when it is not there yet)."""
    results = BENCH / "RESULTS.md"
    text = results.read_text()
    section = "\n".join([f"## {heading}", "", *lines])
    pattern = re.compile(r"## " + re.escape(heading) + r"\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _: section.rstrip("\n") + "\n", text) if pattern.search(text) else \
        text.replace("\n## Machine", "\n" + section + "\n## Machine", 1)
    results.write_text(text)
    log(f"bench: figures written to bench/RESULTS.md ({heading})")


def render_text(table: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for n, row in enumerate(table):
        cells = [cell.rjust(w) if _numeric(cell) else cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(table: list[list[str]]) -> str:
    lines = ["| " + " | ".join(table[0]) + " |", "|" + "|".join("---" for _ in table[0]) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in table[1:]]
    return "\n".join(lines)


def _numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,.]+[x%]?|-", cell))


def mock_version() -> str:
    """The checkout's commit, and a digest of the mock's files when they differ from it (read-only git)."""
    commit = run_quiet(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]) or "?"
    if not run_quiet(["git", "-C", str(ROOT), "status", "--porcelain", "--", "mockserver", "openapi"]):
        return commit
    digest = hashlib.sha1()
    for path in sorted([*(ROOT / "mockserver").rglob("*.py"), *(ROOT / "openapi").glob("*.yaml")]):
        digest.update(path.read_bytes())
    return f"{commit} + uncommitted changes (files digest {digest.hexdigest()[:10]})"


def machine_facts(args: argparse.Namespace, servers: list[str]) -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    probe = ("import sys, aiohttp\nv = {'python': sys.version.split()[0], 'aiohttp': aiohttp.__version__}\n"
             "for m in ('orjson', 'uvloop'):\n"
             "    try: v[m] = __import__(m).__version__\n"
             "    except ImportError: v[m] = 'not installed'\n"
             "print(__import__('json').dumps(v))")
    try:
        versions = json.loads(run_quiet([args.python, "-c", probe]) or "{}")
    except ValueError:
        versions = {}
    facts = {
        "cpu": f"{os.cpu_count()} x {cpu}",
        "nproc": run_quiet(["nproc"]),
        "kernel": platform.release(),
        "memory": next((line.split(":", 1)[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()
                        if line.startswith("MemTotal")), "?"),
        **{k: str(v) for k, v in versions.items()},
        "mock event loop": args.loop + (" (mockserver does not use uvloop)" if args.loop == "asyncio" else ""),
        "mock JSON": "orjson" if versions.get("orjson", "not installed") != "not installed" else "stdlib json",
        "mock commit": mock_version(),
        "wrk": run_quiet([args.wrk, "-v"]).splitlines()[0] if run_quiet([args.wrk, "-v"]) else "?",
        "pinning": f"server on CPU {args.server_cpu}, wrk (1 thread) on CPU {args.client_cpu}"
                   + (f", both at nice {args.nice}" if args.nice else ""),
        "duration": f"{args.warmup:g} s warm-up + {args.duration:g} s measured per workload "
                    f"(after {args.server_warmup:g} s of warm-up per server)",
    }
    if "prism" in servers:
        facts["node"] = run_quiet(["node", "--version"])
        facts["prism"] = f"@stoplight/prism-cli {PRISM_VERSION}"
    if "wiremock" in servers:
        facts["java"] = run_quiet(["java", "-version"]).splitlines()[0] if shutil.which("java") else "?"
        facts["wiremock"] = f"wiremock {WIREMOCK_VERSION} (npm), standalone jar, --no-request-journal"
    return facts


# -- main --------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the mock against a bare aiohttp ceiling, Prism and "
                                                 "WireMock (see bench/README.md).")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s per workload after 1 s of warm-up")
    parser.add_argument("--only", default=",".join(SERVERS),
                        help=f"servers to run, comma-separated (default: {','.join(SERVERS)})")
    parser.add_argument("--apis", default=",".join(APIS), help="APIs to run (default: ufdl,testiny)")
    parser.add_argument("--workloads", default="", help="only these workloads, comma-separated (e.g. get,list-1k)")
    parser.add_argument("--duration", type=float, help="measured seconds per workload (default 10, quick 3)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per workload (default 3, quick 1)")
    parser.add_argument("--server-warmup", type=float,
                        help="seconds of the first workload on each server after its start, before any measurement "
                             "(default 15, quick 3)")
    parser.add_argument("--server-cpu", type=int, default=0, help="core the servers are pinned to (default 0)")
    parser.add_argument("--client-cpu", type=int, default=1, help="core wrk is pinned to (default 1)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter for the mock and the ceiling (default: this one; needs aiohttp)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each workload N times per server, interleaved, and keep the best (default 1)")
    parser.add_argument("--quiet-threshold", type=float, default=25.0, metavar="PCT",
                        help="a run is 'noisy' when other processes use more than PCT %% of the server core "
                             "(default 25)")
    parser.add_argument("--quiet-wait", type=float, metavar="S",
                        help="before each run, wait up to S s for the server core to go below the threshold "
                             "(default 30, or 0 with --nice: boosted runs do not need to wait)")
    parser.add_argument("--nice", type=int, default=0, metavar="N",
                        help="run the servers and wrk at this nice level, their sessions' autogroups too "
                             "(e.g. -15 as root on a machine shared with other work)")
    parser.add_argument("--testiny-force", action="store_true",
                        help="Testiny updates use ?force=true instead of tracking each project's current _etag")
    parser.add_argument("--out", type=Path, default=CACHE / "results",
                        help="folder for the JSON and Markdown results (default bench/.cache/results)")
    args = parser.parse_args(argv)
    args.duration = args.duration if args.duration is not None else (3.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    if args.server_warmup is None:
        args.server_warmup = 3.0 if args.quick else 15.0
    if args.quiet_wait is None:
        args.quiet_wait = 0.0 if args.nice < 0 else 30.0
    args.servers = [s.strip() for s in args.only.split(",") if s.strip()]
    args.api_list = [a.strip() for a in args.apis.split(",") if a.strip()]
    for name in args.servers:
        if name not in SERVERS:
            parser.error(f"unknown server {name!r}; choose from {', '.join(SERVERS)}")
    for name in args.api_list:
        if name not in APIS:
            parser.error(f"unknown API {name!r}; choose from {', '.join(APIS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.wrk = ensure_wrk()
    if not shutil.which("taskset"):
        raise SystemExit("bench: taskset (util-linux) is needed to pin the server and wrk to cores")
    if os.cpu_count() and max(args.server_cpu, args.client_cpu) >= os.cpu_count():
        raise SystemExit(f"bench: this machine has {os.cpu_count()} CPUs; pick --server-cpu/--client-cpu below that")
    args.loop = mock_event_loop(args.python)
    servers = [s for s in SERVERS if s in args.servers]
    wanted = {w.strip() for w in args.workloads.split(",") if w.strip()}
    report: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "skipped": [], "memory": [],
                              "argv": sys.argv[1:]}
    report["machine"] = machine_facts(args, servers)
    rows: list[Row] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mockbench-") as tmp:
        for api in args.api_list:
            workloads = [w for w in plan(api) if not wanted or w.name in wanted]
            if not workloads:
                continue
            rows += bench_api(args, api, servers, workloads, Path(tmp), report)
    report["seconds"] = round(time.monotonic() - started)
    versions = report.get("mock_versions", {})
    if len(set(versions.values())) > 1:
        report["machine"]["mock commit"] = "; ".join(f"{api}: {v}" for api, v in versions.items()) + (
            " (the code changed during the run; each API's mock ran the code of its start)")
        log("bench: WARNING: the mock's code changed during the run: " + report["machine"]["mock commit"])
    results = result_table(rows, servers)
    targets = target_rows(rows, report)
    memory = memory_table(report)

    print()
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in report["machine"].items()))
    print()
    print(render_text(results))
    print()
    print("Targets (mock vs the ceiling: bare aiohttp, same event loop and JSON library, same run):")
    print(render_text(targets))
    if len(memory) > 1:
        print()
        print("Memory at 100k projects:")
        print(render_text(memory))
    for skip in report["skipped"]:
        print(f"skipped: {skip['server']} ({skip['api']}): {skip['why']}")
    print(f"\n{len(rows)} rows in {report['seconds']} s")

    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report["rows"] = [r.__dict__ for r in rows]
    (args.out / f"run-{stamp}.json").write_text(json.dumps(report, indent=1))
    markdown = ["Machine:", ""] + [f"- {k}: {v}" for k, v in report["machine"].items()]
    markdown += ["", render_markdown(results), "", "Targets:", "", render_markdown(targets)]
    if len(memory) > 1:
        markdown += ["", "Memory at 100k projects:", "", render_markdown(memory)]
    (args.out / f"run-{stamp}.md").write_text("\n".join(markdown) + "\n")
    log(f"bench: results in {args.out}/run-{stamp}.json and .md")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
