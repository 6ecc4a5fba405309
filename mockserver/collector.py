"""Keep the cyclic garbage collector's passes short while the mock's data grows.

Every record the mock stores (projects, users, ...) is an object CPython's cyclic collector
would track: each young pass walks the records made since the last one, and a full pass (each
time the survivors of earlier passes grow by a quarter) walks all of them. Under a stream of
creates at 100k records that was 2-10 ms young passes and 40-60 ms full ones, the p99 latency
of write-heavy loads. Two measures:

* Records hold only atomic values (numbers, text, bytes, times, None, a dict of such) and so can
  never be part of a reference cycle: `Untracked` records leave the collector's lists as they
  are made, and no pass walks them (reference counting still frees them).
* What else survives a full pass is long-lived too (the service, its indexes, the spec): after
  each full pass the survivors are frozen (`gc.freeze()`), so later passes walk only what was
  made since. Short-lived cycles are still collected by the young generations as before; seeding
  and resets unfreeze and collect everything (control/handlers.py `_settled`).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any


def _untrack_function() -> Callable[[object], None]:
    """CPython's `PyObject_GC_UnTrack` (through ctypes, which keeps the GIL for it), or a function
    that does nothing on an interpreter without it."""
    try:
        import ctypes

        untrack = ctypes.pythonapi.PyObject_GC_UnTrack
    except (ImportError, AttributeError):
        return lambda _obj: None
    untrack.argtypes = [ctypes.py_object]
    untrack.restype = None
    return untrack


untrack = _untrack_function()


class Untracked:
    """Mixin for dataclass records whose fields hold only atomic values: each instance is taken
    out of the cyclic collector's lists when it is made (`__post_init__`). A record that held a
    container referring back to it would never be collected, so keep records flat."""

    __slots__ = ()

    def __post_init__(self) -> None:
        untrack(self)


def freeze_after_full_collections(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Install the policy for this process; returns the function that removes it."""

    def after_collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2:
            loop.call_soon(gc.freeze)  # not inside the collector's own callback

    gc.callbacks.append(after_collection)

    def uninstall() -> None:
        if after_collection in gc.callbacks:
            gc.callbacks.remove(after_collection)

    return uninstall
