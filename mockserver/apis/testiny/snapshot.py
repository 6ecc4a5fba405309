"""The complete Testiny state as JSON and back (`--state-file`), seed merging, and purging."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from .models import Project
from .options import ApiOptions
from .state import ProjectStore

STORED = tuple(f.name for f in fields(Project) if not f.name.startswith("_") and not f.metadata.get("cache"))


def snapshot(store: ProjectStore) -> dict[str, Any]:
    return {"projects": [{name: getattr(p, name) for name in STORED} for p in store.projects.values()],
            "next_id": store._next_id}


def restore(options: ApiOptions, data: dict[str, Any]) -> ProjectStore:
    store = ProjectStore(options)
    for entry in data.get("projects", []):
        project = Project(**{name: entry[name] for name in STORED if name in entry})
        store.projects[project.id] = project
        if project.project_key is not None and not project.is_deleted:
            store._live_keys[project.project_key.upper()] = project.id
    store._next_id = max(data.get("next_id", 1), max(store.projects, default=0) + 1)
    return store


def merge_seed(store: ProjectStore, seed: dict[str, Any]) -> None:
    store.load(seed)


def purge(store: ProjectStore, prefix: str) -> dict[str, int]:
    """Remove for good the projects whose name starts with `prefix` (ids stay used up)."""
    doomed = [p for p in store.projects.values() if p.name.startswith(prefix)]
    for project in doomed:
        store._release_key(project)
        store.index.removed(project)
        del store.projects[project.id]
    return {"projects": len(doomed)}
