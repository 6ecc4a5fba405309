"""`MockService`: the whole mock behind one request handler.

It holds the mounted APIs, the control plane and the state file, and its `handle` does everything
around a request: fault rules, dispatch to the API (or the control API) that owns the path, CORS
preflights, the journal entry, the console line, the state-file trigger and a last-resort guard
that turns an escaped exception into a 500.

The command line serves it on aiohttp's low-level `web.Server` (no application router and no
middleware chain in front of it: each costs on every request); `create_app` wraps the same
handler in a `web.Application` for tests and for embedding.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Iterable
from typing import Any

from aiohttp import HttpVersion11, web

from . import apis as api_registry
from . import jsonio
from .api import ApiDefinition
from .config import MockConfig
from .control import CONTROL_PREFIX, ControlPlane, control_definition
from .control.journal import Journal
from .errors import InjectedFault, SessionRefused
from .persistence import GroupCommit, SaveFailed, StateDatabase
from .runtime import ApiRuntime
from .seeding import SeedError, demo_seed, load_seed_file
from .sessions import SESSION_HEADER, Sessions

log = logging.getLogger("mockserver")
access_log = logging.getLogger("mockserver.access")

# what a page may send to any API (a preflight that names no headers is answered with these and
# the headers the mounted APIs' specs name, such as an API key's)
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "Accept", "X-Requested-With", "Prefer", SESSION_HEADER)
# what every answer carries: any origin may call the mock and read these headers
CORS_HEADERS = {"Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": "Allow, WWW-Authenticate, X-Request-Id"}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def build_runtimes(config: MockConfig, definitions: Iterable[ApiDefinition] | None = None,
                   seeds: dict | None = None) -> list[ApiRuntime]:
    """One runtime per API, seeded from `seeds`, else the seed file, else the demo data (or nothing)."""
    if definitions is None:
        definitions = [api_registry.load(name) for name in config.apis or api_registry.names()]
    definitions = list(definitions)
    given = seeds is not None
    if seeds is None:
        if config.seed_file is not None:
            seeds = load_seed_file(config.seed_file, definitions)
        else:
            seeds = demo_seed() if config.demo_data else {}
    runtimes = []
    for definition in definitions:
        options = config.options_for(definition.name, definition.cli.default_options)
        try:
            runtimes.append(ApiRuntime(definition, options, strict=config.strict,
                                       seed=seeds.get(definition.name) or {}, common_headers=CORS_HEADERS,
                                       body_timeout=config.body_timeout))
        except (ValueError, KeyError) as exc:  # the seed's records do not fit together: say whose
            source = "the given seeds" if given else config.seed_file if config.seed_file is not None \
                else "the demo data"
            raise SeedError(f"{source}: {definition.name}: {exc}") from None
    return sorted(runtimes, key=lambda r: len(r.base_path), reverse=True)


class MockService:
    """The mounted APIs, the control API and what surrounds every request."""

    def __init__(self, config: MockConfig | None = None, *, definitions: Iterable[ApiDefinition] | None = None,
                 seeds: dict | None = None) -> None:
        self.config = config = config or MockConfig()
        self.runtimes = build_runtimes(config, definitions, seeds)
        self.loaded = describe_data(config, seeds)  # what the mock started with, for the banner
        journal = Journal(config.journal_entries, body_bytes=config.journal_body_bytes, max_bytes=config.journal_bytes)
        self.sessions = Sessions(self.runtimes, limit=config.max_sessions, idle_seconds=config.session_idle,
                                 on_new=self._watch_sessions)
        self._idle_watch: asyncio.TimerHandle | None = None
        self._sessions_on = self.sessions.enabled
        self.plane = ControlPlane(token=config.control_token, runtimes=self.runtimes, journal=journal,
                                  sessions=self.sessions)
        self._commits: GroupCommit | None = None
        if config.state_file is not None:
            self.plane.store = open_state_file(config.state_file, self.runtimes)
            self._commits = GroupCommit(self.plane.store, self.runtimes)
            restored = [r.name for r in self.runtimes if r.restored]
            self.loaded = (f"state file {config.state_file}" + (f" ({', '.join(restored)} restored from it)"
                           if restored else f" (new; starts from {self.loaded})"))
        self.control: ApiRuntime | None = None
        if config.control:
            # no CORS headers: only the mock's own pages (the dashboard) may call the control API
            self.control = ApiRuntime(control_definition(self.plane), strict=config.strict,
                                      body_timeout=config.body_timeout)
        self._cors_allow_headers = ", ".join(dict.fromkeys(
            [*CORS_ALLOW_HEADERS, *(name for r in self.runtimes for name in r.spec.request_headers())]))
        self._answers_expect = False  # True when served by web.Server (no application to send 100 Continue)

    # -- serving -------------------------------------------------------------------------------

    def server(self, **kwargs: Any) -> web.Server:
        """aiohttp's low-level server for this mock (call inside the running event loop)."""
        self._answers_expect = True
        # a connection that does not complete a request's headers within header_timeout of opening
        # or of its last answer is closed (slow or idle clients; Node and Apache close idle
        # keep-alive connections after 5 s)
        kwargs.setdefault("keepalive_timeout", self.config.header_timeout)
        # after an answer given before the whole body came (413, a body timeout), the rest is read
        # and dropped for at most this long, so that the client sees the answer; then it is closed
        kwargs.setdefault("lingering_time", 2.0)
        return web.Server(self.handle, request_factory=self._make_request, **kwargs)

    def _make_request(self, message: Any, payload: Any, protocol: Any, writer: Any,
                      task: asyncio.Task) -> web.BaseRequest:
        return web.BaseRequest(message, payload, protocol, writer, task, task.get_loop(),
                               client_max_size=self.config.max_body_bytes)

    def _watch_sessions(self) -> None:
        """While sessions exist, end the idle ones on time, also when no request comes (their memory
        goes back); the watch stops with the last session."""
        if self._idle_watch is not None:
            return
        loop = asyncio.get_running_loop()
        interval = max(0.05, min(60.0, self.sessions.idle_seconds / 10))

        def sweep() -> None:
            self.sessions.expire()
            self._idle_watch = loop.call_later(interval, sweep) if len(self.sessions) else None

        self._idle_watch = loop.call_later(interval, sweep)

    def close(self) -> None:
        """Close the state file (everything is saved already: each change when it was made)."""
        if self._idle_watch is not None:
            self._idle_watch.cancel()
            self._idle_watch = None
        if self.plane.store is not None:
            self.plane.store.close()
            self.plane.store = None

    def runtime_for(self, path: str) -> ApiRuntime | None:
        for runtime in self.runtimes:
            if runtime.router.owns(path):
                return runtime
        return None

    def is_control(self, path: str) -> bool:
        return self.control is not None and path.startswith(CONTROL_PREFIX) and (
            len(path) == len(CONTROL_PREFIX) or path[len(CONTROL_PREFIX)] == "/")

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.perf_counter()
        path = request_path(request)
        method = request.method
        plane = self.plane
        control = self.is_control(path)
        headers = request.headers
        note: dict[str, Any] = {}  # what the journal tells of the request (see ApiRuntime.handle)
        session: str | None = None  # the session the request names
        refused: SessionRefused | None = None  # ...or why the name it gives is not one
        try:
            if self._answers_expect and "Expect" in headers:
                await _expect(request)
            if control:
                response = self._control_refusal(request) or await self.control.handle(request, path)
            else:
                runtime = self.runtime_for(path)
                if self._sessions_on and (SESSION_HEADER in headers or "Cookie" in headers):
                    try:
                        session = self.sessions.name_of(request)
                    except SessionRefused as exc:
                        refused = exc
                response = None
                if plane.faults.rules:
                    response = await self._apply_fault(request, path, runtime, session, note)
                if response is None:  # inline, no coroutine of its own: each costs ~0.5 us a request
                    if runtime is None:
                        response = self._not_mounted()
                    elif refused is not None:
                        response = runtime.mock_answer(request, path, refused, note)
                    elif session is not None:
                        response = await self._session_answer(runtime, request, path, session, note)
                    else:
                        response = await runtime.handle(request, path, None, note)
                        if runtime.persisted and runtime.state.changes:  # the default world persists
                            response = await self._saved(response)
        except web.HTTPException as exc:  # from aiohttp itself: answer it as JSON
            response = _json(exc.status, {"detail": exc.reason}, _allow_of(exc))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("unhandled error for %s %s", method, path)
            response = _json(500, {"detail": "Internal error in the mock server."})
        if not control:
            if "Origin" in headers:
                _credentialed_cors(headers["Origin"], response)
            if method == "OPTIONS" and "Access-Control-Request-Method" in headers:
                _preflight(request, response, self._cors_allow_headers)
        elapsed = (time.perf_counter() - started) * 1000
        if not control:
            plane.journal.record(method, path, request.query_string, response.status, elapsed,
                                 note.pop("body", None), note, session)
        if self.config.access_log:
            access_log.info("%s %s %s %.1fms", method, request.path_qs, response.status, elapsed)
        return response

    async def _session_answer(self, runtime: ApiRuntime, request: web.BaseRequest, path: str,
                              session: str, note: dict[str, Any]) -> web.StreamResponse:
        """The API's answer in the world of the request's session (never saved)."""
        try:
            world = self.sessions.open(session)
        except SessionRefused as refused:  # every slot taken
            return runtime.mock_answer(request, path, refused, note)
        world.requests += 1
        return await runtime.handle(request, path, world.state(runtime), note)

    async def _saved(self, response: web.StreamResponse) -> web.StreamResponse:
        """The answer, once what the request changed is committed; if that fails, say so."""
        try:
            await self._commits.committed()
        except SaveFailed as exc:
            log.error("%s", exc)
            return _json(503, {"detail": f"The mock could not save this change to its state file: {exc.__cause__}"})
        return response

    def _control_refusal(self, request: web.BaseRequest) -> web.Response | None:
        """Why a control call is refused, if it is: a page of another origin may not drive the
        mock (it could reset, seed or read everything), nor a page that reached it through a
        DNS name it does not answer to (DNS rebinding)."""
        host = request.headers.get("Host", "")
        if self.config.control_token is None and not self._names_this_mock(host):
            return web.json_response({"detail": f"The control API answers only to the mock's own names "
                                                f"(localhost, a loopback address, {self.config.host}), not "
                                                f"Host: {host!r}; start with --control-token to serve others."},
                                     status=403, dumps=_dumps)
        origin = request.headers.get("Origin")
        if origin is not None and origin not in (f"http://{host}", f"https://{host}"):
            return web.json_response({"detail": f"The control API is not for pages of other origins "
                                                f"(Origin: {origin!r}); the dashboard is at /__mock__/."},
                                     status=403, dumps=_dumps)
        return None

    def _names_this_mock(self, host: str) -> bool:
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").lower()
        if name in ("localhost", self.config.host.lower()):
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    def _not_mounted(self) -> web.Response:
        mounted = [f"{r.name} under {r.base_path or '/'}" for r in self.runtimes]
        return _json(404, {"detail": "Not found.", "mounted": mounted})

    async def _apply_fault(self, request: web.BaseRequest, path: str, runtime: ApiRuntime | None,
                           session: str | None, note: dict[str, Any]) -> web.StreamResponse | None:
        """Apply the fault rules that fire: their latencies add up, then the first drop or status wins."""
        fired = self.plane.faults.pick(request.method, path, runtime.name if runtime else None, session)
        if not fired:
            return None
        note["fault"] = "; ".join(rule.describe() for rule in fired)
        note["api"] = runtime.name if runtime else None
        latency = sum(rule.latency_ms or 0 for rule in fired)
        if latency:
            await asyncio.sleep(latency / 1000)
        outcome = next((rule for rule in fired if rule.drop or rule.status), None)
        if outcome is None:
            return None
        if outcome.drop:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError()
        if runtime is None:
            return _json(outcome.status, {"detail": "Fault injected by the mock."})
        return runtime.mock_answer(request, path, InjectedFault(outcome.status), note)


def describe_data(config: MockConfig, seeds: dict | None) -> str:
    if seeds is not None:
        return "the given seeds"
    if config.seed_file is not None:
        return f"seed file {config.seed_file}"
    return "demo data (mockserver/data/demo-seed.yaml; --empty for none)" if config.demo_data else "empty (--empty)"


def open_state_file(path: Any, runtimes: list[ApiRuntime]) -> StateDatabase:
    """Open (or create) the state file: APIs it holds are restored from it, the others are saved
    into it as they start; from then on every change is saved."""
    store = StateDatabase(path)
    stored = store.apis()
    for runtime in runtimes:
        if not runtime.persistable:
            continue
        if runtime.name in stored:
            runtime.restore(*store.load(runtime.name))
            runtime.restored = True
        else:
            store.save_all(runtime.name, runtime.state)
        runtime.persist()
    return store


def request_path(request: web.BaseRequest) -> str:
    """`request.path` (the decoded path), read straight from the request line when nothing in it
    needs decoding: building and unquoting the URL costs ~2 us a request."""
    raw = request.raw_path
    if raw[:1] != "/" or "%" in raw:
        return request.path
    if "?" in raw or "#" in raw:
        return raw.partition("?")[0].partition("#")[0]
    return raw


async def _expect(request: web.BaseRequest) -> None:
    """`Expect: 100-continue` as aiohttp's application router answers it."""
    expect = request.headers["Expect"]
    if request.version < HttpVersion11:
        return
    if expect.lower() != "100-continue":
        raise web.HTTPExpectationFailed(text=f"Unknown Expect: {expect}")
    await request.writer.write(CONTINUE)
    request.writer.output_size = 0


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    """An answer of the mock itself (not of an API): JSON with the CORS headers."""
    response = web.json_response(body, status=status, headers=headers)
    response.headers.update(CORS_HEADERS)
    return response


def _dumps(value: Any) -> str:
    return jsonio.dumps(value).decode("utf-8")


def _allow_of(exc: web.HTTPException) -> dict[str, str]:
    return {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}


def _credentialed_cors(origin: str, response: web.StreamResponse) -> None:
    """A page's request (it has an Origin) may carry cookies — a session cookie — when it sends
    credentials; the answer then names the origin instead of `*` (what Fetch requires)."""
    if not origin.isascii() or not origin.isprintable():  # not an origin a browser sends: keep `*`
        return
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = origin
    headers["Access-Control-Allow-Credentials"] = "true"
    vary = headers.get("Vary")
    if vary is None:
        headers["Vary"] = "Origin"
    elif "origin" not in vary.lower():
        headers["Vary"] = vary + ", Origin"


def _preflight(request: web.BaseRequest, response: web.StreamResponse, allow_headers: str) -> None:
    """A CORS preflight is answered with the path's allowed methods and the requested headers."""
    headers = response.headers
    headers.popall("Access-Control-Expose-Headers", None)
    headers["Access-Control-Allow-Methods"] = headers.get("Allow") or "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
    requested = request.headers.get("Access-Control-Request-Headers")
    headers["Access-Control-Allow-Headers"] = requested or allow_headers
    headers["Access-Control-Max-Age"] = "600"
