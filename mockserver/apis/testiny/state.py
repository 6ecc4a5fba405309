"""Testiny state: projects by id, the live `project_key` index and the API keys; no HTTP here.

Every write method takes a list (a single-item call is a list of one, named without an index) and
is all-or-nothing: each item is checked first, the first bad one raises, and only then does
anything change. Ids come from a counter and are never reused; every write issues a new `_etag`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields as dataclass_fields
from typing import Any

from ...api import RequestContext, Tables
from ...changes import ChangeLog
from ...clock import Clock, utc_now
from .errors import DataNotFound, InputDataConflict, InvalidInputData, field_rule, item_prefix
from .index import EqualityIndex
from .models import Account, Project, format_time
from .options import TestinyOptions

SYSTEM_USER = 0
# the fields a project is stored with (not its caches)
STORED = tuple(f.name for f in dataclass_fields(Project) if not f.name.startswith("_") and not f.metadata.get("cache"))
STORED_FIELDS = frozenset(STORED)



def random_etag() -> str:
    return secrets.token_hex(16)  # 32 hex digits, like a UUID's hex form


class TestinyState:
    """Testiny's projects and the accounts of the API keys, with the rules of every write."""

    __test__ = False  # a name pytest would take for a test class where tests import it

    def __init__(self, options: TestinyOptions, clock: Clock = utc_now,
                 new_etag: Callable[[], str] = random_etag) -> None:
        self.clock = clock
        self.new_etag = new_etag
        self.projects: dict[int, Project] = {}  # in id order: ids only grow and rows are never removed
        self.index = EqualityIndex(self.projects)  # every write below files the project anew
        self.changes = ChangeLog()
        self._next_id = 1
        self._live_keys: dict[str, int] = {}  # upper-cased key -> id of the live project holding it
        self.accounts: dict[str, Account] = {}
        for number, key in enumerate(options.api_keys, start=1):
            email = "mock.user@example.com" if number == 1 else f"user{number}@example.com"
            self.accounts[key] = Account(number, email)

    def account_for_key(self, key: str) -> Account | None:
        return self.accounts.get(key)

    def get(self, project_id: int, index: int | None = None) -> Project:
        project = self.projects.get(project_id)
        if project is None:
            raise DataNotFound(f"{item_prefix(index)}project {project_id} not found")
        return project

    def _now(self) -> str:
        return format_time(self.clock())

    def _key_clash(self, key: str | None, index: int | None, owner: int | None,
                   claimed: dict[str, int | None], released: Iterable[int] = ()) -> None:
        """Raise when `key` is held by another live project (not among `released`) or claimed before."""
        if key is None:
            return
        folded = key.upper()
        holder = self._live_keys.get(folded)
        if holder is not None and holder != owner and holder not in released:
            raise InputDataConflict(f"{item_prefix(index)}project_key: {key!r} is already used by project {holder}")
        if folded in claimed:  # only bulk calls have several items
            raise InputDataConflict(
                f"{item_prefix(index)}project_key: {key!r} is already used by item {claimed[folded]} of this call")
        claimed[folded] = index

    # -- writes --------------------------------------------------------------------------------

    def create(self, items: list[Mapping[str, Any]], user: int, *, bulk: bool) -> list[Project]:
        claimed: dict[str, int | None] = {}
        for index, item in enumerate(items):
            self._key_clash(item.get("project_key"), index if bulk else None, None, claimed)
        now = self._now()
        return [self._insert(item, user, now) for item in items]

    def _insert(self, item: Mapping[str, Any], user: int, now: str, *, deleted: bool = False) -> Project:
        project = Project(self._next_id, item["name"], item.get("project_key"), item.get("description", ""),
                          now, user, self.new_etag())
        self._next_id += 1
        self.projects[project.id] = project
        if deleted:
            project.deleted_at, project.deleted_by = now, user
        elif project.project_key is not None:
            self._live_keys[project.project_key.upper()] = project.id
        self._written(project)
        return project

    def update(self, changes: list[tuple[int, Mapping[str, Any]]], user: int, *, force: bool,
               bulk: bool) -> list[Project]:
        """Partial updates of (id, fields) pairs; without `force` each must carry the current `_etag`."""
        rekeyed = {pid for pid, fields in changes if "project_key" in fields
                   and pid in self.projects and not self.projects[pid].is_deleted}
        targets: dict[int, int] = {}  # id -> index of its item
        claimed: dict[str, int | None] = {}
        for index, (pid, fields) in enumerate(changes):
            at = index if bulk else None
            if pid in targets:
                raise InvalidInputData(f"{item_prefix(at)}id: project {pid} is already listed as item {targets[pid]}")
            targets[pid] = index
            project = self.get(pid, at)
            if not force and fields.get("_etag") != project.etag:
                state = "missing" if "_etag" not in fields else "does not match the current value"
                raise InputDataConflict(
                    f"{item_prefix(at)}_etag: {state} of project {pid} (pass force=true to override)")
            if not project.is_deleted:
                key = fields["project_key"] if "project_key" in fields else project.project_key
                self._key_clash(key, at, pid, claimed, rekeyed)
        for pid in rekeyed:
            self._release_key(self.projects[pid])
        now = self._now()
        updated = []
        for pid, fields in changes:
            project = self.projects[pid]
            for name in ("name", "project_key", "description"):
                if name in fields:
                    setattr(project, name, fields[name])
            if pid in rekeyed and project.project_key is not None:
                self._live_keys[project.project_key.upper()] = project.id
            project.modified_at, project.modified_by = now, user
            project.written(self.new_etag())
            self._written(project)
            updated.append(project)
        return updated

    def delete(self, ids: list[int], user: int) -> list[Project]:
        """Soft-delete; already deleted projects (and repeated ids) are returned unchanged."""
        projects = [self.get(pid) for pid in ids]
        now = self._now()
        for project in projects:
            if not project.is_deleted:
                self._release_key(project)
                project.deleted_at, project.deleted_by = now, user
                project.written(self.new_etag())
                self._written(project)
        return projects

    def undelete(self, ids: list[int], user: int, *, bulk: bool) -> list[Project]:
        """Undelete; live projects are returned unchanged. A key now held by a live project is a conflict."""
        projects = [self.get(pid, index if bulk else None) for index, pid in enumerate(ids)]
        claimed: dict[str, int | None] = {}
        seen: set[int] = set()
        for index, project in enumerate(projects):
            if project.is_deleted and project.id not in seen:
                self._key_clash(project.project_key, index if bulk else None, project.id, claimed)
            seen.add(project.id)
        now = self._now()
        for project in projects:
            if project.is_deleted:
                project.deleted_at = project.deleted_by = None
                project.modified_at, project.modified_by = now, user
                if project.project_key is not None:
                    self._live_keys[project.project_key.upper()] = project.id
                project.written(self.new_etag())
                self._written(project)
        return projects

    def _written(self, project: Project) -> None:
        self.index.written(project)
        self.changes.touched("project", project.id, project)

    def _release_key(self, project: Project) -> None:
        if project.project_key is not None and self._live_keys.get(project.project_key.upper()) == project.id:
            del self._live_keys[project.project_key.upper()]

    # -- seeds and dumps -----------------------------------------------------------------------

    def load(self, seed: Mapping[str, Any]) -> None:
        """Add the projects of a seed section: `projects: [{name, project_key?, description?, deleted?}]`."""
        validators = seed_validators() if seed.get("projects") else {}
        for position, entry in enumerate(seed.get("projects") or []):
            _check_seed_entry(position, entry, validators)
            if entry.get("deleted"):
                self._insert(entry, SYSTEM_USER, self._now(), deleted=True)
                continue
            try:
                self.create([entry], SYSTEM_USER, bulk=False)
            except InputDataConflict as exc:
                raise ValueError(f"testiny seed: projects[{position}]: {exc.message}") from None

    def merge_seed(self, seed: Mapping[str, Any]) -> None:
        self.load(seed)

    def purge(self, prefix: str) -> dict[str, int]:
        """Remove for good the projects whose name starts with `prefix` (ids stay used up)."""
        doomed = [p for p in self.projects.values() if p.name.startswith(prefix)]
        for project in doomed:
            self._release_key(project)
            self.index.removed(project)
            del self.projects[project.id]
            self.changes.removed("project", project.id)
        return {"projects": len(doomed)}

    def new_world(self) -> None:
        """A world of its own (a session made from a stored state): every project gets a new
        `_etag`, so an etag read in the world it was stored from holds nothing here."""
        for project in self.projects.values():
            project.written(self.new_etag())
            self._written(project)

    def dump(self) -> dict[str, Any]:
        return {"projects": [p.to_json() for p in self.projects.values()], "next_id": self._next_id}

    # -- the stored form: written by records/row/meta, read back by restore ---------------------

    @classmethod
    def restore(cls, options: TestinyOptions, tables: Tables, meta: dict[str, Any]) -> TestinyState:
        state = cls(options)
        for entry in sorted(tables.get("project", []), key=lambda row: row["id"]):
            project = Project(**entry) if entry.keys() <= STORED_FIELDS else \
                Project(**{k: entry[k] for k in STORED if k in entry})
            state.projects[project.id] = project
            if project.project_key is not None and not project.is_deleted:
                state._live_keys[project.project_key.upper()] = project.id
        state._next_id = max(meta.get("next_id", 1), max(state.projects, default=0) + 1)
        return state

    def records(self) -> Iterable[tuple[str, int, Project]]:
        return (("project", p.id, p) for p in self.projects.values())

    def row(self, kind: str, record: Project) -> dict[str, Any]:
        return {name: getattr(record, name) for name in STORED}

    def meta(self) -> dict[str, Any]:
        return {"next_id": self._next_id}


# the spec's schemas of the fields a seed gives (one source: the rules requests are checked with)
SEED_FIELDS = {"name": "/components/schemas/ProjectName", "project_key": "/components/schemas/ProjectKey"}


def seed_validators() -> dict[str, Any]:
    from ...spec import load_spec

    spec = load_spec("testiny.yaml", "testiny")
    return {name: spec.validator(pointer) for name, pointer in SEED_FIELDS.items()}


def _check_seed_entry(position: int, entry: Any, validators: dict[str, Any]) -> None:
    """Seeds skip the spec's request validation, so the fields that keep answers valid are checked
    here against the same schemas of openapi/testiny.yaml (`seed_validators`)."""
    where = f"testiny seed: projects[{position}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ValueError(f"{where}: needs a name")
    for name, validator in validators.items():
        if name in entry and not validator.is_valid(entry[name]):
            raise ValueError(f"{where}: {name}: {field_rule(name)}")
    if not isinstance(entry.get("description", ""), str):
        raise ValueError(f"{where}: description: {field_rule('description')}")


Context = RequestContext[TestinyState]  # what a handler of this API receives: ctx.state is a TestinyState
