"""What the suite talks to: the mock started in-process (default) or a live server (--base-url).

The target is resolved lazily, on first use: schemathesis calls auth providers while collecting,
so this cannot wait for a fixture. The in-process mock runs in a daemon thread with its own event
loop on a socket bound before the loop starts (no port race), and stops at `pytest_unconfigure`.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

import requests
import yaml

from mockserver.spec import find_spec_file

from .settings import APIS, SETTINGS

# the specs shipped with the mockserver package (a wheel), or openapi/ in a clone
SPEC_FILES = {"ufdl": find_spec_file("ufdl.yaml"), "testiny": find_spec_file("testiny.yaml")}
CONTROL_HEALTH = "/__mock__/health"


class TargetError(Exception):
    """The target cannot be used as configured; the message says what to pass."""


class ServerThread:
    """A MockService (served as the command line serves it) or an aiohttp application, on
    127.0.0.1:<free port>, from a daemon thread."""

    def __init__(self, served) -> None:
        from aiohttp import web

        self.loop = asyncio.new_event_loop()
        if isinstance(served, web.Application):
            self.runner = web.AppRunner(served, access_log=None)
        else:
            self.runner = web.ServerRunner(served.server(loop=self.loop, access_log=None))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))

        async def start() -> None:
            await self.runner.setup()
            await web.SockSite(self.runner, self.sock).start()

        self.loop.run_until_complete(start())  # listening from here on
        self.thread = threading.Thread(target=self.loop.run_forever, name="conformance-mock", daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def stop(self) -> None:
        if not self.thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@cache
def spec_document(api: str) -> dict:
    return yaml.safe_load(SPEC_FILES[api].read_text(encoding="utf-8"))


def spec_base_path(api: str) -> str:
    return urlsplit(spec_document(api)["servers"][0]["url"]).path.rstrip("/")


@dataclass
class Target:
    root_url: str  # scheme://host[:port][/prefix], without an API's base path
    apis: tuple[str, ...]  # the APIs to check
    live: bool
    is_mock: bool  # the server answers /__mock__/health (this project's mock)
    server: ServerThread | None = None
    notes: list[str] = field(default_factory=list)

    def serves(self, api: str) -> bool:
        return api in self.apis

    def url(self, api: str) -> str:
        """Base URL for the API's spec paths (the root plus the spec's base path, e.g. /api/v1)."""
        base = spec_base_path(api)
        if base and self.root_url.endswith(base):
            return self.root_url
        return self.root_url + base

    @property
    def kind(self) -> str:
        if not self.live:
            return "in-process mock"
        return "live server (this mock)" if self.is_mock else "live server"


_lock = threading.Lock()
_target: Target | None = None


def target() -> Target:
    global _target
    with _lock:
        if _target is None:
            _target = _resolve()
        return _target


def resolved() -> Target | None:
    return _target


def shutdown() -> None:
    if _target is not None and _target.server is not None:
        _target.server.stop()


def _mock_apis(root_url: str) -> dict[str, str] | None:
    """The APIs this project's mock says it serves, or None when the server is something else."""
    try:
        response = requests.get(root_url + CONTROL_HEALTH, timeout=10)
        body = response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None
    if isinstance(body, dict) and body.get("status") == "ok" and isinstance(body.get("apis"), dict):
        return body["apis"]
    return None


def _resolve() -> Target:
    if SETTINGS.base_url is None:
        from mockserver import MockConfig
        from mockserver.service import MockService

        server = ServerThread(MockService(MockConfig(demo_data=False, access_log=False)))
        served = _mock_apis(server.url) or {}
        apis = tuple(a for a in APIS if a in served and (not SETTINGS.apis or a in SETTINGS.apis))
        return Target(server.url, apis, live=False, is_mock=True, server=server)
    root = SETTINGS.base_url
    served = _mock_apis(_origin_root(root))
    if SETTINGS.apis:
        apis = SETTINGS.apis
    elif served is not None:
        apis = tuple(a for a in APIS if a in served)
    else:
        raise TargetError(f"--api ufdl|testiny is required with --base-url {root} (the server does not say which "
                          "APIs it serves)")
    if served is not None:
        root = _origin_root(root)
    return Target(root, apis, live=True, is_mock=served is not None)


def _origin_root(url: str) -> str:
    """The URL without a known API base path at its end (`.../api/v1` → `...`)."""
    for api in APIS:
        base = spec_base_path(api)
        if base and url.endswith(base):
            return url[: -len(base)]
    return url
