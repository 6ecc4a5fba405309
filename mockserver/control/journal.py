"""The request journal: the last N requests with their outcome, for people and for CI logs."""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

BODY_PREVIEW = 4096


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
    request_body: Any = None  # the raw bytes; a text preview when read
    errors: list[str] = field(default_factory=list)
    fault: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
        data["request_body"] = _preview(self.request_body)
        return data


class Journal:
    """A ring of the last `capacity` requests. Recording is on every request's path, so it keeps a
    plain tuple; entries are built when someone reads the journal."""

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self._entries: deque[tuple] = deque(maxlen=capacity)
        self._ids = itertools.count(1)

    def record(self, method: str, path: str, query: str, status: int, duration_ms: float,
               body: bytes | None, note: dict[str, Any] | None) -> None:
        self._entries.append((next(self._ids), time.time(), method, path, query, status, duration_ms, body, note))

    def entries(self, *, limit: int | None = None, api: str | None = None, failed: bool = False) -> list[JournalEntry]:
        selected = []
        for raw in reversed(self._entries):
            entry = _entry(*raw)
            if (api is None or entry.api == api) and (not failed or entry.status >= 400):
                selected.append(entry)
                if limit and len(selected) >= limit:
                    break
        return selected

    def clear(self) -> None:
        self._entries.clear()


def _entry(ident: int, moment: float, method: str, path: str, query: str, status: int, duration_ms: float,
           body: bytes | None, note: dict[str, Any] | None) -> JournalEntry:
    note = note or {}
    return JournalEntry(
        id=ident, time=moment, method=method, path=path, query=query, status=status,
        duration_ms=round(duration_ms, 2), api=note.get("api"), operation=note.get("operation"),
        request_body=body, errors=list(note.get("errors", [])) if status >= 400 else [], fault=note.get("fault"),
    )


def _preview(body: bytes | None) -> str | None:
    if not body:
        return None
    text = body[:BODY_PREVIEW].decode("utf-8", errors="replace")
    return text + ("…" if len(body) > BODY_PREVIEW else "")
