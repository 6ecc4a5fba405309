"""`ChangeLog`: which records an API state changed since the engine last saved it.

An API's state notes every record it writes or removes, by kind and key (`touched`, `removed`);
the engine drains the log after each request and commits exactly those records, so a save costs
O(change), never O(state). The log is off (and costs one attribute read per write) unless the
mock persists its state.
"""

from __future__ import annotations

from typing import Any

Key = tuple[str, Any]  # (kind, key), e.g. ("project", 7)


class ChangeLog:
    __slots__ = ("enabled", "_dirty")

    def __init__(self) -> None:
        self.enabled = False
        self._dirty: dict[Key, Any] = {}  # (kind, key) -> the record as it is now, None when removed

    def touched(self, kind: str, key: Any, record: Any) -> None:
        if self.enabled:
            self._dirty[(kind, key)] = record

    def removed(self, kind: str, key: Any) -> None:
        if self.enabled:
            self._dirty[(kind, key)] = None

    def __bool__(self) -> bool:
        return bool(self._dirty)

    def drain(self) -> dict[Key, Any]:
        """What changed since the last drain (each record once, as it is now); the log is empty after."""
        dirty, self._dirty = self._dirty, {}
        return dirty

    def give_back(self, dirty: dict[Key, Any]) -> None:
        """Put drained changes back (their save failed), without hiding newer ones."""
        self._dirty = {**dirty, **self._dirty}
