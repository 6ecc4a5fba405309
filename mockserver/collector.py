"""Keep the cyclic garbage collector's full passes short while the mock's data grows.

Every record the mock stores (projects, users, ...) is a container object the collector tracks.
CPython runs a full collection each time the objects that survived earlier passes grow by a
quarter, and a full pass walks all of them: with 100k+ records that is a 40-60 ms pause, the
p99 latency of write-heavy loads. Records are long-lived and form no reference cycles (full
passes over them collect nothing), so after each full pass the survivors are frozen
(`gc.freeze()`): later passes walk only what was created since. Short-lived cycles are still
collected by the young generations as before; seeding and resets unfreeze and collect everything
(control/handlers.py `_settled`).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any


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
