"""An equality index over project columns for finds: `{"filter": {"name": "x"}}` reads one bucket
instead of scanning every project.

A column is indexed the first time a find filters it by a plain value; from then on the store
files every project it writes under the column's new value. Keys follow the find language's
equality: a value and its JSON kind, so `1` and `1.0` meet while `1` and `true` do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .filters import json_kind
from .models import Project

Key = tuple[str, Any]
WORTH_IT = 4  # use a bucket only when it holds at most 1/WORTH_IT of the projects (else scan in id order)


def _key(value: Any) -> Key:
    return json_kind(value), value


class EqualityIndex:
    def __init__(self, projects: Mapping[int, Project]) -> None:
        self._projects = projects
        self._buckets: dict[str, dict[Key, dict[int, Project]]] = {}  # column -> key -> id -> project
        self._filed: dict[str, dict[int, Key]] = {}  # column -> id -> the key it is filed under

    def lookup(self, column: str, value: Any) -> list[Project] | None:
        """The projects whose `column` equals `value`, in id order; None when a scan is cheaper."""
        try:
            key = _key(value)
            hash(key)
        except TypeError:
            return None
        if column not in self._buckets:
            self._build(column)
        bucket = self._buckets[column].get(key)
        if not bucket:
            return []
        if len(bucket) * WORTH_IT > len(self._projects):
            return None
        return [bucket[pid] for pid in sorted(bucket)]

    def written(self, project: Project) -> None:
        """File a new or changed project under its current values."""
        for column, buckets in self._buckets.items():
            filed = self._filed[column]
            key = _key(project.to_json().get(column))
            old = filed.get(project.id)
            if old == key:
                continue
            if old is not None:
                self._drop(buckets, old, project.id)
            buckets.setdefault(key, {})[project.id] = project
            filed[project.id] = key

    def removed(self, project: Project) -> None:
        """Forget a project that left the store."""
        for column, buckets in self._buckets.items():
            old = self._filed[column].pop(project.id, None)
            if old is not None:
                self._drop(buckets, old, project.id)

    def _build(self, column: str) -> None:
        buckets: dict[Key, dict[int, Project]] = {}
        filed: dict[int, Key] = {}
        for project in self._projects.values():
            key = _key(project.to_json().get(column))
            buckets.setdefault(key, {})[project.id] = project
            filed[project.id] = key
        self._buckets[column], self._filed[column] = buckets, filed

    @staticmethod
    def _drop(buckets: dict[Key, dict[int, Project]], key: Key, pid: int) -> None:
        bucket = buckets.get(key)
        if bucket is not None:
            bucket.pop(pid, None)
            if not bucket:
                del buckets[key]
