"""UFDL state: users, teams, memberships and projects in memory, with one method per action.

No HTTP here. Methods take plain values, return records and raise the errors of `errors.py`.
Primary keys come from per-table counters and are never reused, also after a hard delete. Every
record written or removed is noted in `changes` (what a persisting mock saves after the request).

Each state is a world of its own for credentials: tokens carry the world's id, so a token minted
before a reset or a seed is refused after it (pks restart, so it would name someone else).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from ...api import RequestContext, Tables
from ...changes import ChangeLog
from ...clock import Clock, utc_now
from .errors import REFERENCED, TEAM_NAME_TAKEN, UNIQUE_PROJECT, UNIQUE_TEAM, Detail, FieldErrors, NotFound
from .models import LEVELS, Membership, Project, Team, User, parse_timestamp, revive, stored_row
from .options import UfdlOptions
from .tokens import TokenIssuer


class UfdlState:
    def __init__(self, options: UfdlOptions, clock: Clock = utc_now, *, signing_key: str | None = None,
                 world: str | None = None, admin: bool = True) -> None:
        self.options = options
        self.clock = clock
        self.changes = ChangeLog()
        # the HS256 key: --ufdl-jwt-secret, else one of this world's own (kept by a state file)
        self.signing_key = options.jwt_secret or signing_key or secrets.token_hex(32)
        self.world = world or secrets.token_hex(8)
        self.tokens = TokenIssuer(self.signing_key, options.access_lifetime, options.refresh_lifetime, self.world)
        self.users: dict[int, User] = {}
        self.teams: dict[int, Team] = {}
        self.memberships: list[Membership] = []  # in creation order (the order of team members)
        self.projects: dict[int, Project] = {}
        self._next = {"user": 1, "team": 1, "project": 1}
        self._users_by_name: dict[str, User] = {}
        self._active_membership: dict[tuple[int, int], Membership] = {}
        self._active_project_names: dict[tuple[int, str], int] = {}  # (team, name) -> pk
        self._by_team: dict[int, dict[int, Project]] = {}  # team -> pk -> project (equality filters)
        self._membership_seq = 0  # memberships have no pk: this numbers them for the stored form
        if admin:
            self.create_user(options.admin_username, options.admin_password, is_superuser=True, is_staff=True,
                             email="admin@admin.net")

    def _take_pk(self, table: str) -> int:
        pk = self._next[table]
        self._next[table] = pk + 1
        return pk

    # -- users ---------------------------------------------------------------------------------

    def create_user(self, username: str, password: str, **fields: Any) -> User:
        user = User(pk=self._take_pk("user"), username=username, password=password, date_joined=self.clock(), **fields)
        self.users[user.pk] = user
        self._users_by_name[username] = user
        self.changes.touched("user", user.pk, user)
        return user

    def update_user(self, user: User, fields: dict[str, Any]) -> User:
        """Change a user's writable fields (`username` and `password` included)."""
        if "username" in fields and fields["username"] != user.username:
            del self._users_by_name[user.username]
            self._users_by_name[fields["username"]] = user
        for name, value in fields.items():
            setattr(user, name, value)
        self.changes.touched("user", user.pk, user)
        return user

    def deactivate_user(self, user: User) -> None:
        """Users are never removed: DELETE makes one inactive (memberships and records stay)."""
        user.is_active = False
        self.changes.touched("user", user.pk, user)

    def user_named(self, username: str) -> User | None:
        return self._users_by_name.get(username)

    def check_password(self, username: str, password: str) -> User | None:
        user = self._users_by_name.get(username)
        if user is None or not user.is_active or user.password != password:
            return None
        return user

    def touch_login(self, user: User) -> None:
        user.last_login = self.clock()
        self.changes.touched("user", user.pk, user)

    # -- teams and memberships -----------------------------------------------------------------

    def team_named(self, name: str) -> Team | None:
        return next((t for t in self.teams.values() if t.name == name and t.active), None)

    def create_team(self, name: str, creator: int | None) -> Team:
        team = Team(pk=self._take_pk("team"), name=name, creator=creator, creation_time=self.clock())
        self.teams[team.pk] = team
        self.changes.touched("team", team.pk, team)
        return team

    def get_team(self, pk: int) -> Team:
        team = self.teams.get(pk)
        if team is None:
            raise NotFound("Team")
        return team

    def rename_team(self, team: Team, name: str) -> Team:
        holder = self.team_named(name)
        if holder is not None and holder.pk != team.pk:
            raise FieldErrors({"name": [TEAM_NAME_TAKEN]})
        team.name = name
        self.changes.touched("team", team.pk, team)
        return team

    def reinstate_team(self, team: Team) -> Team:
        """Clear `deletion_time`; the memberships deleted with the team stay deleted."""
        if not team.active:
            if self.team_named(team.name) is not None:
                raise Detail(UNIQUE_TEAM)
            team.deletion_time = None
            self.changes.touched("team", team.pk, team)
        return team

    def team_referenced(self, team: Team) -> bool:
        """A membership (active or removed) or a project (active or soft-deleted) refers to the team."""
        return bool(self._by_team.get(team.pk)) or any(m.team == team.pk for m in self.memberships)

    def hard_delete_team(self, team: Team) -> dict[str, Any]:
        """Soft-delete the team (with its memberships), then remove it if nothing refers to it and
        answer its JSON with `pk` cleared; otherwise it stays soft-deleted, as the real server
        leaves it, and the answer is 400."""
        self.destroy_team(team)
        if self.team_referenced(team):
            raise Detail(REFERENCED)
        del self.teams[team.pk]
        self._by_team.pop(team.pk, None)
        self.changes.removed("team", team.pk)
        return {**self.team_json(team), "pk": None}

    def destroy_team(self, team: Team) -> None:
        if team.deletion_time is None:
            now = self.clock()
            team.deletion_time = now
            self.changes.touched("team", team.pk, team)
            for key, membership in list(self._active_membership.items()):
                if key[1] == team.pk:
                    membership.deletion_time = now
                    del self._active_membership[key]
                    self.changes.touched("membership", membership.seq, membership)

    def members(self, team: Team) -> list[User]:
        return [self.users[m.user] for m in self.memberships if m.team == team.pk and m.active]

    def team_json(self, team: Team) -> dict[str, Any]:
        from .models import timestamp

        return {
            "pk": team.pk, "name": team.name,
            "members": [{"pk": u.pk, "username": u.username} for u in self.members(team)],
            "creator": team.creator, "creation_time": timestamp(team.creation_time),
            "deletion_time": timestamp(team.deletion_time),
        }

    def membership(self, user: int, team: int) -> Membership | None:
        return self._active_membership.get((user, team))

    def level(self, user: User, team: int) -> str | None:
        membership = self._active_membership.get((user.pk, team))
        return membership.permissions if membership else None

    def has_level(self, user: User, team: int, minimum: str) -> bool:
        """Admins pass; members pass when their permission is at least `minimum` (R < X < W < A)."""
        if user.is_admin:
            return True
        level = self.level(user, team)
        return level is not None and LEVELS.index(level) >= LEVELS.index(minimum)

    def teams_of(self, user: User) -> set[int]:
        return {team for (member, team) in self._active_membership if member == user.pk}

    def add_member(self, team: Team, user: User, permissions: str, actor: int | None) -> Membership:
        if (user.pk, team.pk) in self._active_membership:
            raise Detail(f"Bad name '{user.username}': This user is already a member of team {team.name}")
        self._membership_seq += 1
        membership = Membership(user.pk, team.pk, permissions, actor, self.clock(), seq=self._membership_seq)
        self.memberships.append(membership)
        self._active_membership[(user.pk, team.pk)] = membership
        self.changes.touched("membership", membership.seq, membership)
        return membership

    def update_member(self, team: Team, user: User, permissions: str) -> Membership:
        membership = self._member_or_error(team, user)
        membership.permissions = permissions
        self.changes.touched("membership", membership.seq, membership)
        return membership

    def remove_member(self, team: Team, user: User) -> Membership:
        membership = self._member_or_error(team, user)
        membership.deletion_time = self.clock()
        del self._active_membership[(user.pk, team.pk)]
        self.changes.touched("membership", membership.seq, membership)
        return membership

    def _member_or_error(self, team: Team, user: User) -> Membership:
        membership = self._active_membership.get((user.pk, team.pk))
        if membership is None:
            raise Detail(f"Bad name '{user.username}': This user is not a member of team {team.name}")
        return membership

    # -- projects ------------------------------------------------------------------------------

    def get_project(self, pk: int) -> Project:
        project = self.projects.get(pk)
        if project is None:
            raise NotFound("Project")
        return project

    def projects_in_team(self, team: int) -> list[Project]:
        """The projects of one team (an index: no scan), in pk order."""
        return sorted(self._by_team.get(team, {}).values(), key=lambda p: p.pk)

    def visible_projects(self, user: User) -> Iterable[Project]:
        """Every project for admins; otherwise those of teams the user is an active member of."""
        if user.is_admin:
            return self.projects.values()
        teams = self.teams_of(user)
        return [p for p in self.projects.values() if p.team in teams]

    def _claim_name(self, team: int, name: str, pk: int) -> None:
        holder = self._active_project_names.get((team, name))
        if holder is not None and holder != pk:
            raise Detail(UNIQUE_PROJECT)
        self._active_project_names[(team, name)] = pk

    def _release_name(self, project: Project) -> None:
        key = (project.team, project.name)
        if self._active_project_names.get(key) == project.pk:
            del self._active_project_names[key]

    def create_project(self, name: str, team: int, creator: int | None, *, created: datetime | None = None,
                       deleted: datetime | None = None) -> Project:
        if deleted is None and (team, name) in self._active_project_names:
            raise Detail(UNIQUE_PROJECT)  # checked first, so a failed create uses up no pk
        pk = self._take_pk("project")
        project = Project(pk, name, team, creator, created or self.clock(), deleted)
        if project.active:
            self._active_project_names[(team, name)] = pk
        self.projects[pk] = project
        self._by_team.setdefault(team, {})[pk] = project
        self.changes.touched("project", pk, project)
        return project

    def update_project(self, project: Project, name: str, team: int) -> Project:
        if project.active and (name, team) != (project.name, project.team):
            self._claim_name(team, name, project.pk)
            self._release_name(project)
            self._active_project_names[(team, name)] = project.pk
        if team != project.team:
            self._by_team[project.team].pop(project.pk, None)
            self._by_team.setdefault(team, {})[project.pk] = project
        project.name, project.team = name, team
        self._project_changed(project)
        return project

    def soft_delete(self, project: Project) -> None:
        if project.active:
            self._release_name(project)
            project.deletion_time = self.clock()
            self._project_changed(project)

    def reinstate(self, project: Project) -> Project:
        if not project.active:
            self._claim_name(project.team, project.name, project.pk)
            project.deletion_time = None
            self._project_changed(project)
        return project

    def _project_changed(self, project: Project) -> None:
        project.json_bytes = None
        self.changes.touched("project", project.pk, project)

    def hard_delete(self, project: Project) -> Project:
        self.soft_delete(project)
        del self.projects[project.pk]
        self._by_team[project.team].pop(project.pk, None)
        self.changes.removed("project", project.pk)
        return replace(project, pk=None)

    # -- seeds ---------------------------------------------------------------------------------

    def load(self, seed: dict[str, Any]) -> None:
        """Add the users, teams (with members) and projects of a seed section (names, not pks)."""
        for entry in seed.get("users", []):
            fields = {k: v for k, v in entry.items() if k not in ("username", "password")}
            self.create_user(entry["username"], entry.get("password", entry["username"]), **fields)
        admin = self.user_named(self.options.admin_username)
        for entry in seed.get("teams", []):
            team = self.create_team(entry["name"], admin.pk if admin else None)
            for member in entry.get("members", []):
                self.add_member(team, self._seed_user(member["username"]), member.get("permissions", "R"), team.creator)
            if entry.get("deleted"):
                self.destroy_team(team)
        for entry in seed.get("projects", []):
            team = self.team_named(entry["team"]) if isinstance(entry["team"], str) else self.get_team(entry["team"])
            if team is None:
                raise ValueError(f"project {entry['name']!r}: no team named {entry['team']!r}")
            creator = self._seed_user(entry["creator"]).pk if entry.get("creator") else (admin.pk if admin else None)
            created = parse_timestamp(entry["creation_time"]) if entry.get("creation_time") else None
            deleted = self.clock() if entry.get("deleted") else None
            self.create_project(entry["name"], team.pk, creator, created=created, deleted=deleted)

    def _seed_user(self, username: str) -> User:
        user = self.user_named(username)
        if user is None:
            raise ValueError(f"no user named {username!r}")
        return user

    def merge_seed(self, seed: dict[str, Any]) -> None:
        self.load(seed)

    def purge(self, prefix: str) -> dict[str, int]:
        """Remove for good the projects, teams and users whose name starts with `prefix`, with the
        memberships of those teams and users (pks stay used up)."""
        projects = [p for p in self.projects.values() if p.name.startswith(prefix)]
        for project in projects:
            self.hard_delete(project)
        teams = {t.pk for t in self.teams.values() if t.name.startswith(prefix)}
        users = {u.pk for u in self.users.values() if u.username.startswith(prefix) and not u.is_superuser}
        for pk in teams:
            del self.teams[pk]
            self.changes.removed("team", pk)
        for pk in users:
            del self._users_by_name[self.users.pop(pk).username]
            self.changes.removed("user", pk)
        kept = []
        for membership in self.memberships:
            if membership.team in teams or membership.user in users:
                self.changes.removed("membership", membership.seq)
            else:
                kept.append(membership)
        self.memberships = kept
        for key in [k for k in self._active_membership if k[0] in users or k[1] in teams]:
            del self._active_membership[key]
        return {"projects": len(projects), "teams": len(teams), "users": len(users)}

    # -- the stored form: written by records/row/meta, read back by restore ---------------------

    @classmethod
    def restore(cls, options: UfdlOptions, tables: Tables, meta: dict[str, Any]) -> UfdlState:
        """A state holding exactly the stored records, with their pks, counters, times and signing
        key (the built-in superuser is not re-created)."""
        state = cls(options, signing_key=meta.get("signing_key"), world=meta.get("world"), admin=False)
        records = {kind: [revive(kind_class, row) for row in sorted(tables.get(kind, []), key=lambda r: r[ORDER[kind]])]
                   for kind, kind_class in STORED_KINDS.items()}
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

    def records(self) -> Iterable[tuple[str, int, Any]]:
        yield from (("user", u.pk, u) for u in self.users.values())
        yield from (("team", t.pk, t) for t in self.teams.values())
        yield from (("membership", m.seq, m) for m in self.memberships)
        yield from (("project", p.pk, p) for p in self.projects.values())

    def row(self, kind: str, record: Any) -> dict[str, Any]:
        return stored_row(record)

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"next_pk": dict(self._next), "membership_seq": self._membership_seq,
                                "world": self.world}
        if not self.options.jwt_secret:  # a key of our own: kept, so tokens survive a restart
            meta["signing_key"] = self.signing_key
        return meta

    def new_world(self) -> None:
        """A world of its own (a session made from a stored state): a new world id, and a new
        signing key unless --ufdl-jwt-secret fixes it, so no token minted before holds here."""
        self.signing_key = self.options.jwt_secret or secrets.token_hex(32)
        self.world = secrets.token_hex(8)
        self.tokens = TokenIssuer(self.signing_key, self.options.access_lifetime, self.options.refresh_lifetime,
                                  self.world)

    def dump(self) -> dict[str, Any]:
        return {
            "users": [u.to_json() for u in self.users.values()],
            "teams": [self.team_json(t) for t in self.teams.values()],
            "memberships": [m.to_json() for m in self.memberships],
            "projects": [p.to_json() for p in self.projects.values()],
            "next_pk": dict(self._next),
        }


# the kinds of stored records, and the field giving their order
STORED_KINDS = {"user": User, "team": Team, "membership": Membership, "project": Project}
ORDER = {"user": "pk", "team": "pk", "membership": "seq", "project": "pk"}

Context = RequestContext[UfdlState]  # what a handler of this API receives: ctx.state is a UfdlState
