"""The request journal: the last requests with their outcome, for people and for CI logs.

Bounded twice: at most `capacity` entries, and at most `max_bytes` held in all (oldest entries
go first). A request body is kept up to `body_bytes` (its preview ends in "…" when cut), so a
flood of large bodies costs a few MB, not what the clients sent.
"""

from __future__ import annotations

import fnmatch
import itertools
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

BODY_BYTES = 4096
MAX_BYTES = 8 * 1024 * 1024
ENTRY_OVERHEAD = 400  # bytes an entry costs besides its path, query and body (tuple, floats, note)


@dataclass
class JournalEntry:
    id: int
    time: float  # epoch seconds; formatted when the entry is read
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    api: str | None = None
    operation: str | None = None
    request_body: Any = None  # the raw bytes (cut to the journal's body_bytes); a text preview when read
    body_size: int = 0  # the whole body's size in bytes
    errors: list[str] = field(default_factory=list)
    fault: str | None = None
    session: str | None = None  # the session the request named (None: the default world)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
        data["request_body"] = _preview(self.request_body, self.body_size)
        del data["body_size"]
        return data


class Journal:
    """A ring of the last requests. Recording is on every request's path, so it keeps a plain
    tuple; entries are built when someone reads the journal."""

    def __init__(self, capacity: int = 1000, *, body_bytes: int = BODY_BYTES, max_bytes: int = MAX_BYTES) -> None:
        self.capacity = capacity
        self.body_bytes = body_bytes
        self.max_bytes = max_bytes
        self._entries: deque[tuple] = deque()
        self._sizes: deque[int] = deque()
        self.bytes = 0  # what the entries held cost, about
        self._ids = itertools.count(1)

    def record(self, method: str, path: str, query: str, status: int, duration_ms: float,
               body: bytes | None, note: dict[str, Any] | None, session: str | None = None) -> None:
        size = 0
        if body:
            size = len(body)
            if size > self.body_bytes:
                body = body[:self.body_bytes]  # a copy: the whole body is not kept alive
        cost = ENTRY_OVERHEAD + len(path) + len(query) + (len(body) if body else 0) + (len(session) if session else 0)
        self._entries.append((next(self._ids), time.time(), method, path, query, status, duration_ms, body, size,
                              note, session))
        self._sizes.append(cost)
        self.bytes += cost
        while len(self._entries) > self.capacity or (self.bytes > self.max_bytes and len(self._entries) > 1):
            self._entries.popleft()
            self.bytes -= self._sizes.popleft()

    def entries(self, *, limit: int | None = None, **filters: Any) -> list[JournalEntry]:
        """The entries that match every filter given (see `select`), newest first (at most `limit`)."""
        return self.select(limit=limit, **filters)[0]

    def select(self, *, limit: int | None = None, api: str | None = None, failed: bool = False,
               method: str | None = None, path: str | None = None, status: str | None = None,
               session: str | None = None) -> tuple[list[JournalEntry], int]:
        """(the matching entries, newest first and at most `limit`; how many match in all)."""
        wanted_method = method.upper() if method else None
        selected, count = [], 0
        for raw in reversed(self._entries):
            entry = _entry(*raw)
            if ((api is None or entry.api == api) and (not failed or entry.status >= 400)
                    and (wanted_method is None or entry.method == wanted_method)
                    and (path is None or fnmatch.fnmatchcase(entry.path, path))
                    and (status is None or _status_matches(entry.status, status))
                    and (session is None or entry.session == session)):
                count += 1
                if not limit or len(selected) < limit:
                    selected.append(entry)
        return selected, count

    def clear(self, session: str | None = None) -> None:
        """Forget every entry, or only those of one session."""
        if session is None:
            self._entries.clear()
            self._sizes.clear()
            self.bytes = 0
            return
        kept = [(raw, size) for raw, size in zip(self._entries, self._sizes, strict=True) if raw[10] != session]
        self._entries = deque(raw for raw, _ in kept)
        self._sizes = deque(size for _, size in kept)
        self.bytes = sum(self._sizes)


def _entry(ident: int, moment: float, method: str, path: str, query: str, status: int, duration_ms: float,
           body: bytes | None, size: int, note: dict[str, Any] | None, session: str | None) -> JournalEntry:
    note = note or {}
    return JournalEntry(
        id=ident, time=moment, method=method, path=path, query=query, status=status,
        duration_ms=round(duration_ms, 2), api=note.get("api"), operation=note.get("operation"),
        request_body=body, body_size=size, errors=list(note.get("errors", [])) if status >= 400 else [],
        fault=note.get("fault"), session=session,
    )


def _status_matches(status: int, wanted: str) -> bool:
    """`404` matches 404; `4xx` matches 400-499."""
    return str(status)[0] == wanted[0] if wanted.endswith("xx") else str(status) == wanted


def _preview(body: bytes | None, size: int) -> str | None:
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    return text + ("…" if size > len(body) else "")
