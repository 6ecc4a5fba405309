"""What every benchmark script shares: paths, versions, process and HTTP plumbing, and the tools
(wrk, the npm packages of Prism and WireMock) fetched on first use."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

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


def mock_version() -> str:
    """The checkout's commit, and a digest of the mock's files when they differ from it (read-only git)."""
    commit = run_quiet(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]) or "?"
    if not run_quiet(["git", "-C", str(ROOT), "status", "--porcelain", "--", "mockserver", "openapi"]):
        return commit
    digest = hashlib.sha1()
    for path in sorted([*(ROOT / "mockserver").rglob("*.py"), *(ROOT / "openapi").glob("*.yaml")]):
        digest.update(path.read_bytes())
    return f"{commit} + uncommitted changes (files digest {digest.hexdigest()[:10]})"


def unpack_tree(ref: str, workdir: Path) -> tuple[Path, str]:
    """The mock (mockserver/, openapi/) as it was at git `ref`, unpacked into workdir: (its
    directory, the commit's short id). `BENCH_MOCKSERVER_TREE` / PYTHONPATH point a run at it."""
    git = ["git", "-C", str(ROOT)]
    short = subprocess.run([*git, "rev-parse", "--short", ref], capture_output=True, text=True,
                           check=True).stdout.strip()
    tree = workdir / f"baseline-{short}"
    tree.mkdir()
    archive = subprocess.run([*git, "archive", ref, "mockserver", "openapi"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree, short
