"""The specs in the tools users feed them to, checked from one command:

    python interop/check.py                 # everything below
    python interop/check.py lint            # only some: lint, prism, types

What it runs (pinned in interop/package.json, installed into interop/node_modules on first use;
needs Node >= 20.19 with npm, and this checkout's mockserver importable):

- lint:  `spectral lint` (the spectral:oas ruleset) and `redocly lint` (recommended) on
  openapi/ufdl.yaml, testiny.yaml and control.yaml: no error and no warning (a rule turned off
  in interop/.spectral.yaml or redocly.yaml says why there).
- prism: `prism proxy` (a validating proxy) in front of a mock, for each API: a full lifecycle of
  valid requests gets no violation, a wrong body is flagged, and hostile names do not crash it.
- types: a TypeScript client per spec by `openapi-typescript`, compiled by `tsc --strict`.

Exit status 0 when every check passes; each failure is printed with what the tool said.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPECS = [ROOT / "openapi" / name for name in ("ufdl.yaml", "testiny.yaml", "control.yaml")]
BIN = HERE / "node_modules" / ".bin"
OUT = HERE / ".out"
KEY = "testiny-mock-demo-key"


def log(message: str) -> None:
    print(message, flush=True)


def install() -> None:
    """npm install of the pinned tools, once (a lock keeps parallel runs from installing twice)."""
    wanted = ["spectral", "redocly", "prism", "openapi-typescript", "tsc"]
    if shutil.which("npm") is None:
        raise SystemExit("interop/check.py needs npm (and Node >= 20.19): apt-get install nodejs npm")
    with open(HERE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all((BIN / name).exists() for name in wanted):
            return
        log("interop: npm install (first run) ...")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)


def tool(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / name), *args], cwd=HERE, capture_output=True, text=True, timeout=timeout)


# -- lint ------------------------------------------------------------------------------------------

def check_lint() -> list[str]:
    failures = []
    for spec in SPECS:
        done = tool("spectral", "lint", "--ruleset", str(HERE / ".spectral.yaml"), "--fail-severity", "warn",
                    "--format", "text", str(spec))
        if done.returncode != 0:
            failures.append(f"spectral lint {spec.name}:\n{(done.stdout + done.stderr).strip()}")
        done = tool("redocly", "lint", "--config", str(HERE / "redocly.yaml"), "--format", "stylish", str(spec))
        text = done.stdout + done.stderr
        if done.returncode != 0 or re.search(r"You have \d+ warning", text):
            failures.append(f"redocly lint {spec.name}:\n{text.strip()}")
        log(f"interop: lint {spec.name}: {'ok' if not failures or spec.name not in failures[-1] else 'FAILED'}")
    return failures


# -- Prism as a validating proxy ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def process(command: list[str], ready: Callable[[], bool], name: str) -> Iterator[subprocess.Popen[str]]:
    OUT.mkdir(exist_ok=True)
    log_file = (OUT / f"{name}.log").open("w")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ, "NO_COLOR": "1"})
    try:
        deadline = time.monotonic() + 60
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {(OUT / f'{name}.log').read_text()[-1500:]}")
            time.sleep(0.2)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        log_file.close()


def answers(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            urllib.request.urlopen(url, timeout=2).close()
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True
    return ready


class Client:
    """Requests through the proxy; every answer's Prism violations are collected."""

    def __init__(self, base: str, root: str = "") -> None:
        self.base = base
        self.root = root  # the spec's server path (Prism matches paths below it): left out of requests
        self.violations: list[str] = []
        self.headers: dict[str, str] = {}

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             raw: bytes | None = None) -> tuple[int, Any, dict[str, str]]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        sent = {**self.headers, **(headers or {})}
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(self.base + path.removeprefix(self.root), data=data, method=method,
                                         headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, payload, got = answer.status, answer.read(), dict(answer.headers)
        except urllib.error.HTTPError as error:
            status, payload, got = error.code, error.read(), dict(error.headers)
        found = {k: v for k, v in got.items() if k.lower() == "sl-violations"}
        if found:
            self.violations.append(f"{method} {path} -> {status}: {next(iter(found.values()))}")
        try:
            value = json.loads(payload) if payload else None
        except ValueError:
            value = payload.decode(errors="replace")
        return status, value, got


def ufdl_lifecycle(client: Client) -> None:
    status, pair, _ = client.call("POST", "/v1/auth/obtain", {"username": "admin", "password": "admin"})
    assert status == 200, (status, pair)
    client.headers = {"Authorization": "Bearer " + pair["access"]}
    client.call("POST", "/v1/auth/refresh", {"refresh": pair["refresh"]})
    client.call("POST", "/v1/auth/verify", {"token": pair["access"]})
    status, team, _ = client.call("POST", "/v1/teams/create", {"name": "interop"})
    assert status == 201, (status, team)
    status, user, _ = client.call("POST", "/v1/users/create", {"username": "carol", "password": "secret-pw-1"})
    assert status == 201, (status, user)
    client.call("POST", f"/v1/teams/{team['pk']}/memberships", {"username": "carol", "permissions": "W"})
    client.call("GET", f"/v1/teams/{team['pk']}/memberships")
    status, project, _ = client.call("POST", "/v1/projects/create", {"name": "Cats", "team": team["pk"]})
    assert status == 201, (status, project)
    pk = project["pk"]
    client.call("GET", f"/v1/projects/{pk}")
    client.call("POST", "/v1/projects/list", {})
    client.call("POST", "/v1/projects/list", {"expressions": [{"type": "contains", "field": "name", "sub_string": "a"}],
                                              "order_by": [{"field": "pk", "ascending": False}]})
    client.call("PATCH", f"/v1/projects/{pk}", {"name": "Dogs"})
    client.call("PUT", f"/v1/projects/{pk}", {"name": "Birds", "team": team["pk"]})
    client.call("DELETE", f"/v1/projects/{pk}")
    client.call("DELETE", f"/v1/projects/{pk}/reinstate")
    client.call("DELETE", f"/v1/projects/{pk}/hard")
    client.call("GET", f"/v1/projects/{pk}")  # 404
    client.call("POST", "/v1/users/list", {})
    client.call("GET", f"/v1/users/{user['pk']}")
    client.call("POST", "/v1/teams/list", {})
    client.call("GET", f"/v1/teams/{team['pk']}")


def ufdl_wrong(client: Client) -> tuple[int, Any, dict[str, str]]:
    return client.call("POST", "/v1/teams/create", {"nme": "x"})


def testiny_lifecycle(client: Client) -> None:
    client.headers = {"X-Api-Key": KEY}
    client.call("GET", "/api/v1/account/me")
    status, made, _ = client.call("POST", "/api/v1/project", {"name": "Interop", "project_key": "IOP"})
    assert status == 200, (status, made)
    pid = made["id"]
    status, read, _ = client.call("GET", f"/api/v1/project/{pid}")
    status, put, _ = client.call("PUT", f"/api/v1/project/{pid}", {"name": "Interop 2", "_etag": read["_etag"]})
    client.call("POST", "/api/v1/project/find", {"filter": {"name": "Interop 2"}})
    client.call("POST", "/api/v1/project/bulk", [{"name": "Bulk one"}, {"name": "Bulk two"}])
    client.call("DELETE", f"/api/v1/project/{pid}")
    client.call("POST", f"/api/v1/project/undelete/{pid}")
    client.call("GET", "/api/v1/project/999999")  # 404


def testiny_wrong(client: Client) -> tuple[int, Any, dict[str, str]]:
    return client.call("POST", "/api/v1/project", {"name": 42})


HOSTILE = ["\u200b\u200bab", "  ", "x" * 41, "\u00e9t\u00e9 \U0001f600", "\ufeff\ufeffabc"]


def check_prism() -> list[str]:
    failures = []
    # (api, lifecycle, a wrong request, where hostile names go, the path of the spec's server URL)
    runs = [("ufdl", ufdl_lifecycle, ufdl_wrong, "/v1/teams/create", ""),
            ("testiny", testiny_lifecycle, testiny_wrong, "/api/v1/project", "/api/v1")]
    for api, lifecycle, wrong, hostile_path, root in runs:
        mock_port, proxy_port = free_port(), free_port()
        mock = [sys.executable, "-m", "mockserver", "--port", str(mock_port), "--empty", "--quiet", "--api", api]
        upstream = f"http://127.0.0.1:{mock_port}{root}"
        proxy = [str(BIN / "prism"), "proxy", str(ROOT / "openapi" / f"{api}.yaml"), upstream,
                 "--port", str(proxy_port), "--host", "127.0.0.1", "--errors"]
        logging_proxy = [*proxy[:-1]]  # without --errors: violations are only reported (log mode)
        with process(mock, answers(f"http://127.0.0.1:{mock_port}/__mock__/health"), f"mock-{api}"):
            with process(proxy, answers(f"http://127.0.0.1:{proxy_port}/"), f"prism-{api}"):
                client = Client(f"http://127.0.0.1:{proxy_port}", root)
                try:
                    lifecycle(client)
                except (AssertionError, KeyError, TypeError) as exc:
                    failures.append(f"prism {api}: the lifecycle broke through the proxy: {exc!r}")
                if client.violations:
                    failures.append(f"prism {api}: violations on valid traffic:\n  " + "\n  ".join(client.violations))
                status, body, _ = wrong(client)
                if status != 422:
                    failures.append(f"prism {api}: a wrong body was not flagged (answered {status}: {body})")
            logging_port = free_port()
            logging_proxy[logging_proxy.index("--port") + 1] = str(logging_port)
            with process(logging_proxy, answers(f"http://127.0.0.1:{logging_port}/"), f"prism-log-{api}") as proc:
                client = Client(f"http://127.0.0.1:{logging_port}", root)
                client.headers = {"X-Api-Key": KEY}
                for name in HOSTILE:
                    try:
                        client.call("POST", hostile_path, {"name": name})
                    except OSError as exc:
                        failures.append(f"prism {api}: {name!r} broke the connection: {exc}")
                    if proc.poll() is not None:
                        failures.append(f"prism {api}: the proxy crashed on the name {name!r}: "
                                        + (OUT / f"prism-log-{api}.log").read_text()[-800:])
                        break
        log(f"interop: prism {api}: {'ok' if not any(f.startswith(f'prism {api}') for f in failures) else 'FAILED'}")
    return failures


# -- TypeScript clients ------------------------------------------------------------------------

def check_types() -> list[str]:
    failures = []
    OUT.mkdir(exist_ok=True)
    sources = []
    for spec in SPECS:
        target = OUT / f"{spec.stem}.d.ts"
        done = tool("openapi-typescript", str(spec), "-o", str(target))
        if done.returncode != 0:
            failures.append(f"openapi-typescript {spec.name}:\n{(done.stdout + done.stderr).strip()[-3000:]}")
            continue
        sources.append(target)
    use = OUT / "use.ts"  # the generated types used the way a client would
    use.write_text(
        'import type { paths as Ufdl, components as UfdlParts } from "./ufdl";\n'
        'import type { paths as Testiny } from "./testiny";\n'
        'type Project = UfdlParts["schemas"]["Project"];\n'
        'type Created = Ufdl["/v1/projects/create"]["post"]["responses"]["201"]["content"]["application/json"];\n'
        'type Found = Testiny["/project/find"]["post"]["responses"]["200"]["content"]["application/json"];\n'
        'export const names = (p: Project, c: Created, f: Found): string[] =>\n'
        '  [p.name, c.name, ...f.data.map(x => ("name" in x ? x.name : String(x.id)))];\n')
    done = tool("tsc", "--strict", "--noEmit", "--target", "es2022", "--moduleResolution", "bundler",
                "--module", "esnext", *(str(s) for s in sources), str(use))
    if done.returncode != 0:
        failures.append(f"tsc --strict:\n{(done.stdout + done.stderr).strip()[-3000:]}")
    log(f"interop: types: {'ok' if not failures else 'FAILED'}")
    return failures


CHECKS = {"lint": check_lint, "prism": check_prism, "types": check_types}


def main(argv: list[str]) -> int:
    wanted = argv or list(CHECKS)
    unknown = [name for name in wanted if name not in CHECKS]
    if unknown:
        raise SystemExit(f"interop/check.py: unknown check {unknown[0]!r}; choose from {', '.join(CHECKS)}")
    install()
    failures = []
    for name in wanted:
        failures += CHECKS[name]()
    for failure in failures:
        print("\nFAILED " + failure)
    print(f"\ninterop: {len(wanted)} check(s), {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
