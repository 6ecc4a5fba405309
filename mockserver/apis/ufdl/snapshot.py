"""The complete UFDL state as JSON and back, for `--state-file` (pks, counters and times kept)."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from .models import Membership, Project, Team, User, parse_timestamp, timestamp
from .options import UfdlOptions
from .state import UfdlState

TABLES = {"users": User, "teams": Team, "memberships": Membership, "projects": Project}


def snapshot(state: UfdlState) -> dict[str, Any]:
    return {
        "users": [_record(u) for u in state.users.values()],
        "teams": [_record(t) for t in state.teams.values()],
        "memberships": [_record(m) for m in state.memberships],
        "projects": [_record(p) for p in state.projects.values()],
        "next_pk": dict(state._next),
    }


def restore(options: UfdlOptions, data: dict[str, Any]) -> UfdlState:
    """A state holding exactly the snapshot's records (the built-in superuser is not re-created)."""
    state = UfdlState(options)
    state.users.clear()
    state._users_by_name.clear()
    records = {name: [_revive(kind, entry) for entry in data.get(name, [])] for name, kind in TABLES.items()}
    for user in records["users"]:
        state.users[user.pk] = user
        state._users_by_name[user.username] = user
    for team in records["teams"]:
        state.teams[team.pk] = team
    for membership in records["memberships"]:
        state.memberships.append(membership)
        if membership.active:
            state._active_membership[(membership.user, membership.team)] = membership
    for project in records["projects"]:
        state.projects[project.pk] = project
        state._by_team.setdefault(project.team, {})[project.pk] = project
        if project.active:
            state._active_project_names[(project.team, project.name)] = project.pk
    state._next.update(data.get("next_pk", {}))
    return state


def merge_seed(state: UfdlState, seed: dict[str, Any]) -> None:
    state.load(seed)


def purge(state: UfdlState, prefix: str) -> dict[str, int]:
    """Remove for good the projects, teams and users whose name starts with `prefix`, with the
    memberships of those teams and users (pks stay used up)."""
    projects = [p for p in state.projects.values() if p.name.startswith(prefix)]
    for project in projects:
        state.hard_delete(project)
    teams = {t.pk for t in state.teams.values() if t.name.startswith(prefix)}
    users = {u.pk for u in state.users.values() if u.username.startswith(prefix) and not u.is_superuser}
    for pk in teams:
        del state.teams[pk]
    for pk in users:
        del state._users_by_name[state.users.pop(pk).username]
    state.memberships = [m for m in state.memberships if m.team not in teams and m.user not in users]
    for key in [k for k in state._active_membership if k[0] in users or k[1] in teams]:
        del state._active_membership[key]
    return {"projects": len(projects), "teams": len(teams), "users": len(users)}


def _record(record: Any) -> dict[str, Any]:
    caches = {f.name for f in fields(record) if f.metadata.get("cache")}
    return {key: timestamp(value) if isinstance(value, datetime) else value
            for key, value in asdict(record).items() if not key.startswith("_") and key not in caches}


def _revive(kind: type, entry: dict[str, Any]) -> Any:
    values = {}
    for f in fields(kind):
        if f.init and f.name in entry:
            value = entry[f.name]
            is_time = isinstance(value, str) and ("time" in f.name or f.name in ("date_joined", "last_login"))
            values[f.name] = parse_timestamp(value) if is_time else value
    return kind(**values)
