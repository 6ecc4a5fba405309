"""UFDL's stored form back into a state (`--state-file`): pks, counters, times and the signing
key kept. `UfdlState.row` writes it."""

from __future__ import annotations

from typing import Any

from ...api import Tables
from .models import Membership, Project, Team, User, revive
from .options import UfdlOptions
from .state import UfdlState

KINDS = {"user": User, "team": Team, "membership": Membership, "project": Project}
ORDER = {"user": "pk", "team": "pk", "membership": "seq", "project": "pk"}


def restore(options: UfdlOptions, tables: Tables, meta: dict[str, Any]) -> UfdlState:
    """A state holding exactly the stored records (the built-in superuser is not re-created)."""
    state = UfdlState(options, signing_key=meta.get("signing_key"), world=meta.get("world"), admin=False)
    records = {kind: [revive(cls, row) for row in sorted(tables.get(kind, []), key=lambda r: r[ORDER[kind]])]
               for kind, cls in KINDS.items()}
    for user in records["user"]:
        state.users[user.pk] = user
        state._users_by_name[user.username] = user
    for team in records["team"]:
        state.teams[team.pk] = team
    for membership in records["membership"]:
        state.memberships.append(membership)
        if membership.active:
            state._active_membership[(membership.user, membership.team)] = membership
    for project in records["project"]:
        state.projects[project.pk] = project
        state._by_team.setdefault(project.team, {})[project.pk] = project
        if project.active:
            state._active_project_names[(project.team, project.name)] = project.pk
    state._next.update(meta.get("next_pk", {}))
    for kind, table in (("user", state.users), ("team", state.teams), ("project", state.projects)):
        state._next[kind] = max(state._next[kind], max(table, default=0) + 1)  # never hand a pk out twice
    state._membership_seq = max(meta.get("membership_seq", 0), max((m.seq for m in state.memberships), default=0))
    return state
