"""UFDL helpers shared by every UFDL test module: JWT sessions, the run's team and users, record
creation with the run prefix, and the cleanup of everything the suite created."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from . import safety
from .cleanup import REGISTRY
from .client import Client
from .settings import SETTINGS
from .target import TargetError, target

API = "ufdl"
DEFAULT_ADMIN = ("admin", "admin")  # the mock's superuser (only assumed for this project's mock)

POLICY = safety.Policy(
    api=API,
    collections={"/v1/projects/": "projects", "/v1/teams/": "teams", "/v1/users/": "users"},
    body_fields={"team": ("teams", "container"), "username": ("usernames", "target")},
    name_kinds={"users": "usernames"},
    path_params={"username": "usernames"},
    read_operations=frozenset({("POST", "/v1/projects/list"), ("POST", "/v1/teams/list"), ("POST", "/v1/users/list"),
                               ("POST", "/v1/auth/obtain"), ("POST", "/v1/auth/refresh"), ("POST", "/v1/auth/verify")}),
    create_operations=frozenset({("POST", "/v1/projects/create"), ("POST", "/v1/teams/create"),
                                 ("POST", "/v1/users/create")}),
    account_creates=frozenset({("POST", "/v1/teams/create"), ("POST", "/v1/users/create")}),
)
safety.register(POLICY)


def base_url() -> str:
    return target().url(API)


def _claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


class Session:
    """One UFDL account: obtains a JWT pair, refreshes the access token before it expires."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password
        self._lock = threading.Lock()
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires = 0.0
        self.user_pk: int | None = None
        self.http = safety.GuardedSession(API)

    def obtain(self) -> None:
        response = self.http.post(base_url() + "/v1/auth/obtain",
                                 json={"username": self.username, "password": self.password}, timeout=30)
        if response.status_code != 200:
            raise TargetError(f"UFDL: cannot log in as {self.username!r} (POST /v1/auth/obtain answered "
                              f"{response.status_code} {response.text[:200]}); check --username/--password")
        pair = response.json()
        self._refresh = pair["refresh"]
        self._set_access(pair["access"])

    def _set_access(self, access: str) -> None:
        claims = _claims(access)
        lifetime = max(float(claims.get("exp", time.time() + 300)) - time.time(), 10.0)
        self._access = access
        self._expires = time.time() + lifetime * 0.8  # refresh well before the real expiry
        upk = claims.get("upk")
        self.user_pk = int(upk) if isinstance(upk, str) and upk.isdigit() else self.user_pk

    def access(self) -> str:
        with self._lock:
            if self._access is None:
                self.obtain()
            elif time.time() >= self._expires:
                self.refresh()
            return self._access  # type: ignore[return-value]

    def refresh(self) -> None:
        response = self.http.post(base_url() + "/v1/auth/refresh", json={"refresh": self._refresh}, timeout=30)
        if response.status_code == 200 and "access" in response.json():
            self._set_access(response.json()["access"])
        else:  # refresh token expired or rejected: log in again, as real clients do
            self.obtain()

    @property
    def refresh_token(self) -> str | None:
        return self._refresh

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access()}"}

    def client(self) -> Client:
        return Client(base_url(), API, self.headers)


def main_credentials() -> tuple[str, str]:
    if SETTINGS.username and SETTINGS.password:
        return SETTINGS.username, SETTINGS.password
    tgt = target()
    if tgt.is_mock:  # in-process, or a live server that says it is this mock
        return DEFAULT_ADMIN
    raise TargetError("UFDL on a live server needs --username and --password (or $UFDL_USERNAME/$UFDL_PASSWORD)")


@dataclass
class World:
    """The records a UFDL run works with. Created lazily; everything created is registered."""

    main: Session
    is_admin: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    _team: int | None = None
    _team_done: bool = False
    _unused_team: int | None = None
    counter: int = 0

    _client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = self.main.client()
        return self._client

    @property
    def can_create_accounts(self) -> bool:
        return self.is_admin and not SETTINGS.read_only and (not SETTINGS.live or SETTINGS.allow_create_accounts)

    def tag(self) -> str:
        """A fresh run-unique name prefix (`cf-<run>-<n>-`) for one group of records."""
        with self.lock:
            self.counter += 1
            return f"{SETTINGS.prefix}{self.counter:03d}-"

    def name(self, label: str) -> str:
        return self.tag() + label

    def team(self) -> int | None:
        """The team the suite creates its projects in: --team, else one it creates, else None."""
        if not self._team_done:
            self._team_done = True
            if SETTINGS.team is not None:
                self._team = SETTINGS.team
                safety.grant(API, "teams", SETTINGS.team)  # lent by the user: projects may be created in it
            elif self.can_create_accounts:
                self._team = self.new_team("team")
        return self._team

    def require_team(self) -> int:
        skip_when_read_only()
        team = self.team()
        if team is None:
            pytest.skip("needs a UFDL team to create projects in: pass --team PK (W or A for the account) or "
                        "--allow-create-accounts (as admin)")
        return team

    def require_accounts(self) -> None:
        skip_when_read_only()
        if not self.can_create_accounts:
            why = "an admin account" if not self.is_admin else "--allow-create-accounts on a live server"
            pytest.skip(f"creates users/teams, which cannot be hard-deleted: needs {why}")

    def new_team(self, label: str, *, exact_name: str | None = None) -> int:
        response = self.client.post("/v1/teams/create", json={"name": exact_name or self.name(label)})
        body = self.client.expect(response, 201, note="setup: creating a team for the suite")
        REGISTRY.add(API, "teams", body["pk"], body["name"])
        return body["pk"]

    def new_user(self, label: str) -> Session:
        username = self.name(label)
        password = "pw-" + secrets.token_hex(8)
        response = self.client.post("/v1/users/create", json={"username": username, "password": password})
        body = self.client.expect(response, 201, note="setup: creating a user for the suite")
        REGISTRY.add(API, "users", body["pk"], username)
        session = Session(username, password)
        session.user_pk = body["pk"]
        return session

    def add_member(self, team: int, session: Session, level: str) -> None:
        response = self.client.patch(f"/v1/teams/{team}/memberships",
                                     json={"username": session.username, "method": "add", "permissions": level})
        self.client.expect(response, 200, note="setup: adding a team member")

    def create_project(self, label: str, team: int | None = None, client: Client | None = None, *,
                       exact_name: str | None = None) -> dict[str, Any]:
        skip_when_read_only()
        client = client or self.client
        name = exact_name if exact_name is not None else self.name(label)
        response = client.post("/v1/projects/create", json={"name": name, "team": team or self.require_team()})
        body = client.expect(response, 201)
        record_project(body)
        return body

    def list_tagged(self, tag: str, *expressions: dict[str, Any], client: Client | None = None,
                    **spec: Any) -> tuple[requests.Response, list[dict[str, Any]]]:
        """`POST /v1/projects/list` limited to names containing `tag` (so other data never interferes)."""
        client = client or self.client
        body = {"expressions": [{"type": "contains", "field": "name", "sub_string": tag}, *expressions], **spec}
        response = client.post("/v1/projects/list", json=body)
        return response, client.expect(response, 200)

    def unused_team(self) -> int:
        """A team pk that does not exist (beyond every visible team), for requests that must not land anywhere."""
        if self._unused_team is None:
            response = self.client.post("/v1/teams/list", json={"include_inactive": True})
            teams = response.json() if response.status_code == 200 else []
            highest = max((t.get("pk") or 0 for t in teams if isinstance(t, dict)), default=0)
            self._unused_team = highest + 1_000_000
            safety.mark_absent_from(API, "teams", self._unused_team)
        return self._unused_team


def skip_when_read_only() -> None:
    if SETTINGS.read_only:
        pytest.skip("--read-only: needs records of its own")


def record_project(body: Any) -> None:
    if isinstance(body, dict) and isinstance(body.get("pk"), int):
        REGISTRY.add(API, "projects", body["pk"], str(body.get("name", "")))


_world: World | None = None
_world_lock = threading.Lock()


def world() -> World:
    global _world
    with _world_lock:
        if _world is None:
            session = Session(*main_credentials())
            session.access()
            listed = session.http.post(base_url() + "/v1/users/list", headers=session.headers(), timeout=30)
            is_admin = listed.status_code == 200
            _world = World(session, is_admin)
            REGISTRY.on_cleanup(API, cleanup)
            REGISTRY.on_verify(API, verify)
        return _world


def cleanup() -> list[str]:
    """Remove everything the run created, as far as the API allows: projects hard-deleted (soft
    delete without admin rights), teams hard-deleted (`DELETE /v1/teams/{pk}/hard`, which takes
    their memberships along; soft-deleted, members removed, where a server does not offer it),
    users deactivated (`DELETE /v1/users/{pk}`: the API has no way to remove a user)."""
    if _world is None:
        return []
    w = _world
    client = w.client
    lines: list[str] = []
    for pk, name in _sweep_projects(client).items():
        REGISTRY.add(API, "projects", pk, name)  # named with this run's prefix, or in its teams: ours
    removed, soft, failed = 0, 0, []
    for pk in sorted(REGISTRY.of(API, "projects")):
        response = client.delete(f"/v1/projects/{pk}/hard")
        if response.status_code in (200, 404):
            removed += response.status_code == 200
            continue
        if response.status_code == 403 and client.delete(f"/v1/projects/{pk}").status_code in (204, 404):
            soft += 1
            continue
        failed.append(f"{pk} ({response.status_code})")
    lines.append(f"ufdl cleanup: hard-deleted {removed} project(s)"
                 + (f", soft-deleted {soft} (no admin rights for hard delete)" if soft else ""))
    if failed:
        lines.append("ufdl cleanup: COULD NOT REMOVE projects " + ", ".join(failed))
    if w.is_admin:
        for pk, name in _sweep(client, "/v1/teams/list").items():
            REGISTRY.add(API, "teams", pk, name)
        for pk, name in _sweep(client, "/v1/users/list").items():
            REGISTRY.add(API, "users", pk, name)
    teams_hard, teams_soft, refused = 0, 0, Counter()
    for pk in sorted(REGISTRY.of(API, "teams")):
        # the real server removes a team and then answers 500 (#12); one with memberships, even
        # removed ones, it refuses (500, FOREIGN KEY constraint failed): it stays soft-deleted
        answer = client.delete(f"/v1/teams/{pk}/hard")
        read = client.get(f"/v1/teams/{pk}")
        if read.status_code == 404:
            teams_hard += 1
            continue
        refused[answer.status_code] += 1
        team = read.json()
        for member in team.get("members", []) if isinstance(team, dict) else []:
            client.patch(f"/v1/teams/{pk}/memberships", json={"username": member.get("username"), "method": "remove"})
        teams_soft += client.delete(f"/v1/teams/{pk}").status_code == 204
    users = 0
    for pk in sorted(REGISTRY.of(API, "users")):
        users += client.delete(f"/v1/users/{pk}").status_code == 204
    if REGISTRY.of(API, "teams") or REGISTRY.of(API, "users"):
        why = ", ".join(f"{n} x {code}" for code, n in sorted(refused.items()))
        lines.append(f"ufdl cleanup: hard-deleted {teams_hard} team(s) with their memberships"
                     + (f", soft-deleted {teams_soft} (their hard delete answered {why}; members removed)"
                        if teams_soft else "") + f"; deactivated {users} user(s)")
    return lines


def verify() -> list[str]:
    """What of this run the server still holds (asked by recorded pk and by prefix)."""
    if _world is None:
        return []
    client = _world.client
    remains: list[str] = []
    projects = set(_sweep_projects(client)) | {pk for pk in REGISTRY.of(API, "projects")
                                                if client.get(f"/v1/projects/{pk}").status_code == 200}
    if projects:
        remains.append(f"{len(projects)} project(s) ({', '.join(map(str, sorted(projects)[:20]))})")
    teams = [pk for pk in REGISTRY.of(API, "teams") if client.get(f"/v1/teams/{pk}").status_code == 200]
    if teams:
        remains.append(f"{len(teams)} team(s), soft-deleted")
    users: dict[bool, list[str]] = {True: [], False: []}
    for pk, name in REGISTRY.of(API, "users").items():
        response = client.get(f"/v1/users/{pk}")
        if response.status_code == 200 and isinstance(response.json(), dict):
            users[bool(response.json().get("is_active", True))].append(name)
    for active, names in users.items():
        if names:
            state = "active (no way to deactivate them on this server)" if active else "deactivated"
            remains.append(f"{len(names)} user(s), {state}: {', '.join(sorted(names)[:8])}"
                           f"{', ...' if len(names) > 8 else ''} (the API cannot delete users)")
    if not remains:
        return ["ufdl: the server holds nothing of this run"]
    return ["ufdl: left on the server: " + "; ".join(remains)]


def _sweep_projects(client: Client) -> dict[int, str]:
    """Projects named with this run's prefix, or in teams this run created (all of them are ours)."""
    found: dict[int, str] = {}
    queries = [[{"type": "contains", "field": "name", "sub_string": SETTINGS.prefix}]]
    queries += [[{"type": "exact", "field": "team", "value": team}] for team in REGISTRY.of(API, "teams")]
    for expressions in queries:
        response = client.post("/v1/projects/list", json={"expressions": expressions, "include_inactive": True})
        if response.status_code != 200:
            continue
        for project in response.json():
            own_team = project.get("team") in REGISTRY.of(API, "teams")
            if isinstance(project.get("pk"), int) and (own_team or str(project.get("name", "")).startswith(SETTINGS.prefix)):
                found[project["pk"]] = project.get("name", "")
    return found


def _sweep(client: Client, path: str) -> dict[int, str]:
    """Teams or users whose name starts with this run's prefix (so they are this run's)."""
    key = "username" if "users" in path else "name"
    response = client.post(path, json={"expressions": [{"type": "contains", "field": key, "sub_string": SETTINGS.prefix}],
                                       "include_inactive": True})
    if response.status_code != 200:
        return {}
    return {r["pk"]: r.get(key, "") for r in response.json()
            if isinstance(r, dict) and isinstance(r.get("pk"), int) and str(r.get(key, "")).startswith(SETTINGS.prefix)}
