"""The UFDL spec as schemathesis sees it: auth provider, per-operation check exclusions and the
preparation that keeps generated requests inside the suite's own records."""

from __future__ import annotations

import threading
from typing import Any

from . import fuzz, ufdl
from .cleanup import REGISTRY
from .fuzz import ParameterLocation, is_positive, operation_id
from .settings import SETTINGS

schema = fuzz.load_schema("ufdl")


@schema.auth(refresh_interval=30)
class UfdlAuth:
    """Bearer token of the configured account (obtained via /v1/auth/obtain, refreshed before it
    expires by `ufdl.Session`). Runs during collection, so it reads module state, not fixtures."""

    def get(self, case: Any, ctx: Any) -> str:
        return ufdl.world().main.access()

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# Checks left out per operation, and why. Nothing is excluded for a whole schema.
EXCLUDED: dict[str, dict[str, str]] = {
    "users_create": {"positive_data_acceptance": "a schema-valid username may already be taken: 400 'A user with "
                                                 "that username already exists.'"},
    "teams_create": {"positive_data_acceptance": "a schema-valid name may already be taken by an active team: 400"},
    "users_list": {"positive_data_acceptance": "a schema-valid filter may name an unknown field, or a value that "
                                               "does not fit the field: 400 (spec: FieldName)"},
    "teams_list": {"positive_data_acceptance": "an unknown filter field or a value that does not fit it is 400"},
    "projects_list": {"positive_data_acceptance": "an unknown filter field or a value that does not fit it is 400"},
    "teams_memberships": {"positive_data_acceptance": "400 'Bad name ...' for an unknown user, an already active "
                                                      "member (add) or a non-member (update/remove)"},
    "teams_permissions": {"positive_data_acceptance": "400 'Bad name ...' for an unknown user or a non-member"},
    "projects_create": {"positive_data_acceptance": "400 for an unknown team pk, or a name already used by an "
                                                    "active project of the team"},
    "projects_update": {"positive_data_acceptance": "400 for an unknown team pk, or a rename onto an active name"},
    "projects_partial_update": {"positive_data_acceptance": "400 for an unknown team pk, or a rename onto an "
                                                            "active name (as projects_update)"},
    "projects_reinstate": {"positive_data_acceptance": "400 when an active project of the team has the same name"},
}

# The pk lookup (404) precedes the object-permission check (401) on detail routes (spec: order
# of checks), so an anonymous request for a pk that does not exist is rightly 404, not 401.
LOOKUP_FIRST = "an anonymous request for a pk that does not exist is 404: the lookup precedes the permission check"
for _op in ("projects_retrieve", "projects_update", "projects_partial_update", "projects_destroy", "teams_retrieve",
            "teams_destroy", "teams_memberships", "teams_permissions"):
    EXCLUDED.setdefault(_op, {})["missing_required_header"] = LOOKUP_FIRST

# Operations that change an existing record: a generated pk is pointed at the suite's own records.
PROJECT_WRITES = {"projects_update", "projects_partial_update", "projects_destroy", "projects_hard_delete",
                  "projects_reinstate"}
TEAM_WRITES = {"teams_destroy", "teams_memberships"}
# Users and teams cannot be removed again: on a live server they are only created when allowed.
ACCOUNT_CREATES = ("users_create", "teams_create")


def fuzzed_schema() -> Any:
    if SETTINGS.live and not SETTINGS.allow_create_accounts:
        return schema.exclude(operation_id=list(ACCOUNT_CREATES))
    return schema


class Pool:
    """Records the generated requests may change: ones the suite made for fuzzing (never the
    records of scenarios or of anyone else). pk 0 stands for "a record that does not exist"."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.projects: list[int] = []
        self.teams: list[int] = []
        self.team: int | None = None
        self.ready = False

    def setup(self) -> None:
        with self.lock:
            if self.ready:
                return
            self.ready = True
        w = ufdl.world()
        if w.can_create_accounts:
            self.teams.append(w.new_team("fuzz-team"))
        self.team = self.teams[0] if self.teams else w.team()
        if self.team is not None:
            for label in ("fuzz-a", "fuzz-b", "fuzz-c"):
                self.projects.append(w.create_project(label, self.team)["pk"])

    def pick(self, kind: str, value: Any) -> int:
        """`value` itself when it is one of the pool's records (e.g. a stateful link), else one of them or 0."""
        records = self.projects if kind == "projects" else self.teams
        if not isinstance(value, int) or isinstance(value, bool):
            return 0
        if value in records:
            return value
        choices = [0, *records]
        return choices[value % len(choices)]


POOL = Pool()


def _prefixed(value: Any, limit: int) -> Any:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return value
    text = str(value).strip()
    return SETTINGS.prefix + text[: max(limit - len(SETTINGS.prefix), 1)]


def _team_like(value: Any, team: int) -> Any:
    """`team` in the same JSON type as generated (int, float, numeric string)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return team + 0.25
    if isinstance(value, str):
        return str(team)
    return team


def prepare(case: Any) -> None:
    """Keep a generated case inside the suite's own records; negative data is left untouched.

    * positive names get the run prefix (so everything created can be found and removed);
    * positive `team` values point at the suite's fuzz team (or at a team that does not exist);
    * a pk in the path of an operation that changes records is one of the fuzz pool's records, or 0.
    """
    op = operation_id(case)
    if op in PROJECT_WRITES | TEAM_WRITES and is_positive(case, ParameterLocation.PATH):
        kind = "projects" if op in PROJECT_WRITES else "teams"
        case.path_parameters = {**case.path_parameters, "pk": POOL.pick(kind, case.path_parameters.get("pk"))}
    body = case.body
    if not isinstance(body, dict) or not is_positive(case, ParameterLocation.BODY):
        return
    changed = dict(body)
    if op in ("projects_create", "projects_update", "projects_partial_update", "teams_create") and "name" in body:
        changed["name"] = _prefixed(body["name"], 200)
    if op == "users_create" and "username" in body:
        changed["username"] = _prefixed(body["username"], 150)
    if op in ("projects_create", "projects_update", "projects_partial_update") and "team" in body:
        team = POOL.team if POOL.team is not None else ufdl.world().unused_team()
        changed["team"] = _team_like(body["team"], team)
    if changed != body:
        case.body = changed


def after_call(case: Any, response: Any) -> None:
    """Record whatever a call created (also when a server accepted data it should have refused)."""
    if not 200 <= response.status_code < 300:
        return
    op = operation_id(case)
    try:
        body = response.json()
    except ValueError:
        return
    if not isinstance(body, dict) or not isinstance(body.get("pk"), int):
        return
    if op == "projects_create":
        ufdl.record_project(body)
        POOL.projects.append(body["pk"])
    elif op == "teams_create":
        REGISTRY.add("ufdl", "teams", body["pk"], str(body.get("name", "")))
        POOL.teams.append(body["pk"])
    elif op == "users_create":
        REGISTRY.add("ufdl", "users", body["pk"], str(body.get("username", "")))
