"""`--state-file`: the state of every API saved as JSON after changes and loaded at start.

Writes are atomic (a temporary file in the same directory, flushed and fsynced, then renamed over
the old one), so a crash or a kill during a write never leaves a half-written file behind.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from . import jsonio

log = logging.getLogger("mockserver")
FORMAT_VERSION = 1


class StateFileError(ValueError):
    pass


class StateFile:
    def __init__(self, path: Path, delay: float = 0.2) -> None:
        self.path = Path(path)
        self.delay = delay
        self._pending: asyncio.TimerHandle | None = None
        self._runtimes: list[Any] = []

    def attach(self, runtimes: list[Any]) -> None:
        self._runtimes = runtimes

    def load_into(self, runtimes: list[Any]) -> bool:
        """Restore each API saved in the file; False when there is no file yet."""
        if not self.path.exists():
            return False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateFileError(f"{self.path}: cannot read the state file: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise StateFileError(f"{self.path}: not a mockserver state file (version {FORMAT_VERSION})")
        for runtime in runtimes:
            if runtime.name in data.get("apis", {}):
                runtime.restore(data["apis"][runtime.name])
        return True

    def changed(self) -> None:
        """Note a change; the file is written shortly after (changes in a burst are written once)."""
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = loop.call_later(self.delay, self._flush)

    def _flush(self) -> None:
        self._pending = None
        try:
            self.save()
        except OSError as exc:
            log.error("could not write the state file %s: %s", self.path, exc)

    def save(self) -> None:
        document = {"version": FORMAT_VERSION, "apis": {r.name: r.snapshot() for r in self._runtimes}}
        payload = jsonio.dumps(document)
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        """Write any pending change now (at shutdown)."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
            self.save()
