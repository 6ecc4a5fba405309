"""The notes API (tests/notes_api) installed as a plugin: a distribution on a path of its own
declaring it under the `mockserver.apis` entry point, as a package outside mockserver/ would."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mockserver import apis

TESTS = Path(__file__).resolve().parent


@contextmanager
def notes_plugin(where: Path) -> Iterator[dict[str, str]]:
    """Install the plugin's metadata under `where` for this process (and yield the environment a
    child process needs to see it too)."""
    site = where / "site"
    info = site / "notes_mock-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: notes-mock\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[mockserver.apis]\nnotes = notes_api:API\n", encoding="utf-8")
    paths = [str(site), str(TESTS)]
    sys.path[:0] = paths
    apis._registry.cache_clear()
    try:
        yield {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    finally:
        for path in paths:
            sys.path.remove(path)
        apis._registry.cache_clear()
