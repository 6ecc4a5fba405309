"""Sessions: isolated worlds inside one mock, for test suites that run in parallel against it.

A request that names a session (header `X-Mock-Session: NAME`, else cookie `mock_session=NAME`)
works on that session's own state of every API, made from the start-up data on first use; a
request that names none works on the default world, as if sessions did not exist. Sessions live
in memory only. They are bounded: one idle for `idle_seconds` ends (its memory goes back), and at
most `limit` exist at a time (a new name beyond that is refused in the API's envelope, 503).

A world's states are reached through `state(runtime)`, so that the control API treats the
default world and a session alike (`DefaultWorld` is the one in the runtimes themselves).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .errors import SessionRefused
from .spec import load_spec

SESSION_HEADER = "X-Mock-Session"
SESSION_COOKIE = "mock_session"
SESSION_NAME_SCHEMA = "/components/schemas/SessionName"  # in openapi/control.yaml


class DefaultWorld:
    """The world of requests without a session: the states the runtimes hold (and persist)."""

    name: str | None = None
    persisted = True

    def state(self, runtime: Any) -> Any:
        return runtime.state

    def reset(self, runtime: Any, seed: Any = None) -> None:
        runtime.reset(seed)


@dataclass(eq=False)
class Session:
    """One session's world: a state per API, and when it was made and last used."""

    name: str
    states: dict[str, Any]
    created: float  # epoch seconds
    last_used: float  # the sessions' clock (monotonic)
    requests: int = 0
    persisted = False

    def state(self, runtime: Any) -> Any:
        return self.states[runtime.name]

    def reset(self, runtime: Any, seed: Any = None) -> None:
        self.states[runtime.name] = runtime.fresh_state(seed)


@dataclass(eq=False)
class Sessions:
    """The sessions of one mock, least recently used first."""

    runtimes: Iterable[Any]
    limit: int = 100  # at most this many at a time; 0: sessions are off (the header is ignored)
    idle_seconds: float = 1800.0  # a session unused this long ends
    clock: Callable[[], float] = time.monotonic
    on_new: Callable[[], None] | None = None  # called when a session is made (the service's idle watch)
    _open: OrderedDict[str, Session] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.runtimes = list(self.runtimes)
        self._name_rule = load_spec("control.yaml", "control").validator(SESSION_NAME_SCHEMA)

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def name_of(self, request: web.BaseRequest) -> str | None:
        """The session a request names, or None; a name that is not one is refused (400)."""
        headers = request.headers
        name = headers.get(SESSION_HEADER)
        if name is None:
            cookie = headers.get("Cookie")
            if cookie is None or SESSION_COOKIE not in cookie:
                return None
            try:
                name = request.cookies.get(SESSION_COOKIE)
            except Exception:  # a Cookie header no parser makes sense of names no session  # noqa: BLE001
                return None
            if name is None:
                return None
        if not self._name_rule.is_valid(name):
            where = f"{SESSION_HEADER} header" if SESSION_HEADER in headers else f"{SESSION_COOKIE} cookie"
            shown = repr(name) if len(name) <= 70 else repr(name[:67]) + "..."
            raise SessionRefused(400, f"The {where} must be a session name: 1 to 64 letters, digits, '.', '_' "
                                      f"or '-', starting with a letter or digit (got {shown})")
        return name

    def get(self, name: str) -> Session | None:
        """The session of this name if it exists (and has not expired), without touching it."""
        self.expire()
        return self._open.get(name)

    def open(self, name: str) -> Session:
        """The session of this name, made from the start-up data if it does not exist yet."""
        now = self.clock()
        session = self._open.get(name)
        if session is not None and now - session.last_used <= self.idle_seconds:
            session.last_used = now
            self._open.move_to_end(name)
            return session
        self.expire(now)
        if len(self._open) >= self.limit:
            raise SessionRefused(503, f"The mock holds its maximum of {self.limit} sessions (--max-sessions); "
                                      f"end one (DELETE /__mock__/sessions/NAME) or let idle ones expire "
                                      f"(after {self.idle_seconds:g} s, --session-idle)")
        session = Session(name, {r.name: r.fresh_state() for r in self.runtimes}, time.time(), now)
        self._open[name] = session
        if self.on_new is not None:
            self.on_new()
        return session

    def end(self, name: str) -> bool:
        return self._open.pop(name, None) is not None

    def end_all(self) -> int:
        count = len(self._open)
        self._open.clear()
        return count

    def expire(self, now: float | None = None) -> None:
        """End the sessions idle for longer than `idle_seconds` (the least recently used come first)."""
        now = self.clock() if now is None else now
        while self._open:
            oldest = next(iter(self._open.values()))
            if now - oldest.last_used <= self.idle_seconds:
                break
            del self._open[oldest.name]

    def __len__(self) -> int:
        return len(self._open)

    def describe(self) -> list[dict[str, Any]]:
        """The open sessions, most recently used first, for the control API."""
        self.expire()
        now = self.clock()
        return [{"name": s.name, "created": _timestamp(s.created), "requests": s.requests,
                 "idle_seconds": round(now - s.last_used, 3),
                 "expires_in_seconds": round(max(0.0, self.idle_seconds - (now - s.last_used)), 3)}
                for s in reversed(self._open.values())]


def _timestamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
