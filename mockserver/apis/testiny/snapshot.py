"""Testiny's stored form back into a state (`--state-file`); `TestinyState.row` writes it."""

from __future__ import annotations

from typing import Any

from ...api import Tables
from .models import Project
from .options import TestinyOptions
from .state import STORED, TestinyState

FIELDS = frozenset(STORED)


def restore(options: TestinyOptions, tables: Tables, meta: dict[str, Any]) -> TestinyState:
    store = TestinyState(options)
    for entry in sorted(tables.get("project", []), key=lambda row: row["id"]):
        project = Project(**entry) if entry.keys() <= FIELDS else Project(**{k: entry[k] for k in STORED if k in entry})
        store.projects[project.id] = project
        if project.project_key is not None and not project.is_deleted:
            store._live_keys[project.project_key.upper()] = project.id
    store._next_id = max(meta.get("next_id", 1), max(store.projects, default=0) + 1)
    return store
