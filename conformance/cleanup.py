"""Everything the suite creates is recorded here and removed at the end of the session, also
when tests fail or the run is interrupted (`pytest_sessionfinish` and, as a fallback, `atexit`).

Only records the suite created are touched: their ids come from the suite's own create calls,
and a final sweep only considers names that start with this run's random prefix. After every
cleaner has run, each API's verifier asks the server what is still there (by the recorded ids
and by the prefix), so the summary states exactly what remains, not what the cleanup meant to do.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Registry:
    created: dict[tuple[str, str], dict[object, str]] = field(default_factory=dict)
    cleaners: list[tuple[str, Callable[[], list[str]]]] = field(default_factory=list)
    verifiers: list[tuple[str, Callable[[], list[str]]]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    done: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, api: str, kind: str, ident: object, name: str = "") -> None:
        with self.lock:
            self.created.setdefault((api, kind), {})[ident] = name

    def discard(self, api: str, kind: str, ident: object) -> None:
        with self.lock:
            self.created.get((api, kind), {}).pop(ident, None)

    def of(self, api: str, kind: str) -> dict[object, str]:
        with self.lock:
            return dict(self.created.get((api, kind), {}))

    def on_cleanup(self, name: str, cleaner: Callable[[], list[str]]) -> None:
        if all(existing != name for existing, _ in self.cleaners):
            self.cleaners.append((name, cleaner))

    def on_verify(self, name: str, verifier: Callable[[], list[str]]) -> None:
        if all(existing != name for existing, _ in self.verifiers):
            self.verifiers.append((name, verifier))

    def run(self) -> list[str]:
        """Run every cleaner once, then every verifier; returns the lines for the summary."""
        with self.lock:
            if self.done:
                return self.lines
            self.done = True
        for name, step in [*self.cleaners, *self.verifiers]:
            try:
                self.lines.extend(step())
            except Exception as exc:  # report, never hide: the summary says what is left
                self.lines.append(f"cleanup {name}: FAILED ({type(exc).__name__}: {exc})")
        return self.lines


def purge_mock(root_url: str) -> list[str]:
    """On a separately started copy of this project's mock, remove for good what the APIs can only
    soft-delete or not delete at all (UFDL teams and users, Testiny projects), by this run's prefix,
    through the mock's control API. Records with other names are never touched."""
    import requests

    from .settings import SETTINGS

    response = requests.post(root_url + "/__mock__/purge", params={"prefix": SETTINGS.prefix}, timeout=30)
    if response.status_code != 200:
        return [f"mock purge: not done ({response.status_code} {response.text[:120]})"]
    purged = response.json().get("purged", {})
    counts = "; ".join(f"{api}: " + ", ".join(f"{n} {kind}" for kind, n in kinds.items()) for api, kinds in purged.items())
    return [f"mock purge: removed for good through /__mock__/purge ({counts})"]


REGISTRY = Registry()
atexit.register(REGISTRY.run)
