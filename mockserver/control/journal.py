"""The request journal: the last N requests with their outcome, for people and for CI logs."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

BODY_PREVIEW = 4096


@dataclass
class JournalEntry:
    id: int
    time: str
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    api: str | None = None
    operation: str | None = None
    request_body: str | None = None
    errors: list[str] = field(default_factory=list)
    fault: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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
            time=datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            method=method, path=path, query=query, status=status, duration_ms=round(duration_ms, 2),
            api=note.get("api"), operation=note.get("operation"),
            request_body=_preview(body), errors=list(note.get("errors", [])) if status >= 400 else [],
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
