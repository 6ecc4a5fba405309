"""Running the mock inside a test process.

`RunningMock` serves a `MockService` on a free local port from a thread of its own (its own event
loop), so sync tests (`requests`, `httpx`) and async tests alike can call it by URL; it also
offers the control API as methods. The pytest plugin (`mockserver.pytest_plugin`) builds its
fixtures on it. `MockTestServer` is the same service on aiohttp's test server, for aiohttp tests.

    with RunningMock(apis=("ufdl",)) as mock:
        requests.post(mock.ufdl_url + "projects/list", headers=mock.ufdl_headers())
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import BaseTestServer

from .config import MockConfig
from .seeding import load_seed_file
from .service import MockService
from .sessions import SESSION_HEADER


class MockTestServer(BaseTestServer):
    """aiohttp's low-level server running `service.handle`, on a free local port."""

    def __init__(self, service: MockService, **kwargs: Any) -> None:
        self.service = service
        super().__init__(**kwargs)

    async def _make_runner(self, **kwargs: Any) -> web.ServerRunner:
        kwargs.pop("handler_cancellation", None)  # as the command line runs it: handlers are not cancelled
        return web.ServerRunner(self.service.server(access_log=None), **kwargs)

    async def close(self) -> None:
        await super().close()
        self.service.close()


class ControlError(AssertionError):
    """A control call the mock refused (the message holds its answer)."""


class RunningMock:
    """A mock served from a background thread on 127.0.0.1:<free port>; start() / stop(), or `with`."""

    def __init__(self, *, apis: tuple[str, ...] = (), demo_data: bool = False, seed: dict | str | Path | None = None,
                 **settings: Any) -> None:
        seeds = load_seed_file(Path(seed)) if isinstance(seed, (str, Path)) else seed
        self.config = MockConfig(apis=tuple(apis), demo_data=demo_data, access_log=False, **settings)
        self.service = MockService(self.config, seeds=seeds)
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.ServerRunner | None = None

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> RunningMock:
        loop = self._loop = asyncio.new_event_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        loop.run_until_complete(self._serve(sock))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._thread = threading.Thread(target=loop.run_forever, name="mockserver", daemon=True)
        self._thread.start()
        return self

    async def _serve(self, sock: socket.socket) -> None:
        self._runner = web.ServerRunner(self.service.server(access_log=None), shutdown_timeout=5.0)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=15)
        self._loop.close()
        self._loop = None
        self.service.close()

    def __enter__(self) -> RunningMock:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- where things are ----------------------------------------------------------------------

    @property
    def ufdl_url(self) -> str:
        """The UFDL API's root, e.g. http://127.0.0.1:PORT/v1/ (append `projects/list`)."""
        return self.url + self._root("ufdl")

    @property
    def testiny_url(self) -> str:
        """The Testiny API's root, e.g. http://127.0.0.1:PORT/api/v1/ (append `project`)."""
        return self.url + self._root("testiny")

    @property
    def testiny_key(self) -> str:
        return self._runtime("testiny").options.api_keys[0]

    @property
    def ufdl_admin(self) -> tuple[str, str]:
        options = self._runtime("ufdl").options
        return options.admin_username, options.admin_password

    def testiny_headers(self, session: str | None = None) -> dict[str, str]:
        """`X-Api-Key` of the demo key (and `X-Mock-Session` with `session`)."""
        return {"X-Api-Key": self.testiny_key, **session_headers(session)}

    def ufdl_headers(self, username: str | None = None, password: str | None = None, *,
                     session: str | None = None) -> dict[str, str]:
        """`Authorization: Bearer <access token>` of a UFDL user (default: the superuser); with
        `session`, a token of that session's world and its `X-Mock-Session` header."""
        if username is None:
            username, password = self.ufdl_admin
        pair = self._call("POST", self._root("ufdl") + "auth/obtain",
                          {"username": username, "password": password if password is not None else username},
                          headers=session_headers(session))
        return {"Authorization": "Bearer " + pair["access"], **session_headers(session)}

    # -- the control API (`session`: that session's world instead of the default one) -----------

    def reset(self, api: str | None = None, *, session: str | None = None) -> None:
        """Back to the start-up data (UFDL tokens from before are refused afterwards)."""
        self._call("POST", "/__mock__/reset" + _query(api=api, session=session))

    def seed(self, data: dict | str | Path, *, merge: bool = False, session: str | None = None) -> None:
        """Load a seed (a dict in the seed-file format, or a seed file): replacing the data, or added."""
        seeds = load_seed_file(Path(data)) if isinstance(data, (str, Path)) else data
        self._call("POST", "/__mock__/seed" + _query(mode="merge" if merge else None, session=session), seeds)

    def state(self, api: str | None = None, *, session: str | None = None) -> dict[str, Any]:
        return self._call("GET", "/__mock__/state" + _query(api=api, session=session))

    def requests(self, *, api: str | None = None, method: str | None = None, path: str | None = None,
                 status: int | str | None = None, failed: bool = False, session: str | None = None,
                 limit: int | None = None) -> list[dict]:
        """The journal, newest first, filtered (see GET /__mock__/journal): `path` is a glob,
        `status` a status (404) or a class ("4xx"), `session` a session's requests only."""
        return self._journal(api, method, path, status, failed, session, limit)["entries"]

    def count_requests(self, *, api: str | None = None, method: str | None = None, path: str | None = None,
                       status: int | str | None = None, failed: bool = False, session: str | None = None) -> int:
        """How many journaled requests match: `assert mock.count_requests(method="POST", path="/v1/teams/*") == 1`."""
        return self._journal(api, method, path, status, failed, session, 1)["count"]

    def _journal(self, api: Any, method: Any, path: Any, status: Any, failed: bool, session: Any, limit: Any) -> dict:
        return self._call("GET", "/__mock__/journal" + _query(
            api=api, method=method, path=path, status=status, limit=limit, failed="true" if failed else None,
            session=session))

    def clear_requests(self, *, session: str | None = None) -> None:
        self._call("DELETE", "/__mock__/journal" + _query(session=session))

    def sessions(self) -> list[dict[str, Any]]:
        """The open sessions, most recently used first (GET /__mock__/sessions)."""
        return self._call("GET", "/__mock__/sessions")["sessions"]

    def end_session(self, name: str) -> None:
        """End a session: its next request starts it afresh from the start-up data."""
        self._call("DELETE", "/__mock__/sessions/" + urllib.parse.quote(name, safe=""))

    def end_sessions(self) -> int:
        """End every session (the default world stays); how many there were."""
        return self._call("DELETE", "/__mock__/sessions")["ended"]

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """A fault rule, e.g. `add_fault(path="/v1/projects/*", status=503, count=1)`."""
        return self._call("POST", "/__mock__/faults", rule)

    def clear_faults(self) -> None:
        self._call("DELETE", "/__mock__/faults")

    def purge(self, prefix: str, *, session: str | None = None) -> dict[str, Any]:
        return self._call("POST", "/__mock__/purge" + _query(prefix=prefix, session=session))

    # -- helpers -------------------------------------------------------------------------------

    def _runtime(self, api: str) -> Any:
        for runtime in self.service.runtimes:
            if runtime.name == api:
                return runtime
        raise LookupError(f"this mock does not serve {api!r} (apis={self.config.apis or 'all'})")

    def _root(self, api: str) -> str:
        return self._runtime(api).root

    def _call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = dict(headers or {})
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.config.control_token:
            headers["X-Mock-Token"] = self.config.control_token
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                payload = answer.read()
        except urllib.error.HTTPError as error:
            raise ControlError(f"{method} {path} answered {error.code}: {error.read().decode(errors='replace')}") \
                from None
        return json.loads(payload) if payload else None


def session_headers(session: str | None) -> dict[str, str]:
    """The header that puts a request in a session's world (none for the default world)."""
    return {SESSION_HEADER: session} if session is not None else {}


def _query(**params: Any) -> str:
    given = {key: value for key, value in params.items() if value is not None}
    return "?" + urllib.parse.urlencode(given) if given else ""
