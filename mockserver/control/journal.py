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
    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self._entries: deque[JournalEntry] = deque(maxlen=capacity)
        self._ids = itertools.count(1)

    def record(self, *, method: str, path: str, query: str, status: int, duration_ms: float,
               body: bytes | None, note: dict[str, Any] | None) -> JournalEntry:
        note = note or {}
        entry = JournalEntry(
            id=next(self._ids),
            time=time.time(),
            method=method, path=path, query=query, status=status, duration_ms=round(duration_ms, 2),
            api=note.get("api"), operation=note.get("operation"),
            request_body=body, errors=list(note.get("errors", [])) if status >= 400 else [],
            fault=note.get("fault"),
        )
        self._entries.append(entry)
        return entry

    def entries(self, *, limit: int | None = None, api: str | None = None, failed: bool = False) -> list[JournalEntry]:
        selected = [e for e in reversed(self._entries)
                    if (api is None or e.api == api) and (not failed or e.status >= 400)]
        return selected[:limit] if limit else selected

    def clear(self) -> None:
        self._entries.clear()


def _preview(body: bytes | None) -> str | None:
    if not body:
        return None
    text = body[:BODY_PREVIEW].decode("utf-8", errors="replace")
    return text + ("…" if len(body) > BODY_PREVIEW else "")
