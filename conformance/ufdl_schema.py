"""The UFDL spec as schemathesis sees it: auth provider, per-operation check exclusions and the
preparation that keeps generated requests inside the suite's own records."""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

from . import fuzz, safety, target, ufdl
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
    "users_update": {"positive_data_acceptance": "a schema-valid username may be taken by another user: 400"},
    "users_partial_update": {"positive_data_acceptance": "a schema-valid username may be taken, or a boolean word "
                                                         "not one DRF knows: 400"},
    "teams_update": {"positive_data_acceptance": "a schema-valid name may be taken by another active team: 400"},
    "teams_partial_update": {"positive_data_acceptance": "a schema-valid name may be taken by another active team"},
    "teams_reinstate": {"positive_data_acceptance": "400 when another active team now has the team's name"},
    "teams_hard_delete": {"positive_data_acceptance": "400 for a team a membership or a project refers to"},
}

# The pk lookup (404) precedes the object-permission check (401) on detail routes (spec: order
# of checks), so an anonymous request for a pk that does not exist is rightly 404, not 401.
LOOKUP_FIRST = "an anonymous request for a pk that does not exist is 404: the lookup precedes the permission check"
for _op in ("projects_retrieve", "projects_update", "projects_partial_update", "projects_destroy", "teams_retrieve",
            "teams_update", "teams_partial_update", "teams_destroy", "teams_memberships", "teams_permissions"):
    EXCLUDED.setdefault(_op, {})["missing_required_header"] = LOOKUP_FIRST

# Users and teams cannot be removed again: on a live server they are only created when allowed.
ACCOUNT_CREATES = ("users_create", "teams_create")


def fuzzed_schema() -> Any:
    if SETTINGS.read_only:
        return schema.include(operation_id=list(READ_ONLY_OPERATIONS))
    if SETTINGS.live and not SETTINGS.allow_create_accounts:
        fuzz.not_fuzzed(ACCOUNT_CREATES, "users and teams cannot be removed from a live server; "
                                         "--allow-create-accounts includes them")
        return schema.exclude(operation_id=list(ACCOUNT_CREATES))
    return schema


# What --read-only fuzzes: the operations that cannot change state (the guard refuses the rest).
READ_ONLY_OPERATIONS = ("auth_obtain", "auth_refresh", "auth_verify", "users_list", "users_retrieve", "teams_list",
                        "teams_retrieve", "teams_permissions", "projects_list", "projects_retrieve")


class Pool:
    """Records the generated requests may change: ones the suite made for fuzzing (never the
    records of scenarios or of anyone else). pk 0 stands for "a record that does not exist"."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.projects: list[int] = []
        self.teams: list[int] = []
        self.users: list[str] = []
        self.user_pks: list[int] = []
        self.team: int | None = None
        self.ready = False

    def setup(self) -> None:
        with self.lock:
            if self.ready:
                return
            self.ready = True
        if SETTINGS.read_only:
            return
        w = ufdl.world()
        if w.can_create_accounts:
            self.teams.append(w.new_team("fuzz-team"))
            for label in ("fuzz-user", "fuzz-user-b"):
                session = w.new_user(label)
                self.users.append(session.username)
                self.user_pks.append(session.user_pk)
        self.team = self.teams[0] if self.teams else w.team()
        if self.team is not None:
            for label in ("fuzz-a", "fuzz-b", "fuzz-c"):
                self.projects.append(w.create_project(label, self.team)["pk"])

    def records(self, kind: str) -> list[int]:
        return {"projects": self.projects, "teams": self.teams, "users": self.user_pks}.get(kind, [])

    def chooser(self, kind: str):
        """A function mapping any number to one of the pool's records of `kind` (or 0: none)."""

        def choose(number: int) -> int:
            records = self.records(kind)
            if number in records:
                return number
            choices = [0, *records]
            return choices[number % len(choices)]

        return choose

    def pick(self, kind: str, value: Any) -> Any:
        """`value` made safe for a path or body: the pool's own records or an id that cannot exist.
        Other records of the run are left alone too: scenarios (also on other xdist workers' turns)
        rely on theirs, and only the fuzz team gets memberships (a team with memberships cannot be
        hard-deleted on the real server)."""
        records = self.records(kind)
        avoid = frozenset(safety.owned(ufdl.API, kind) - set(records))
        return safety.make_safe(value, ufdl.API, kind, self.chooser(kind), avoid=avoid)


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


NAMED_WRITES = ("projects_create", "projects_update", "projects_partial_update", "teams_create", "teams_update",
                "teams_partial_update")
USER_WRITES = ("users_create", "users_update", "users_partial_update")


def _path_kind(case: Any) -> str | None:
    for prefix, kind in ufdl.POLICY.collections.items():
        if case.path.startswith(prefix):
            return kind
    return None


def prepare(case: Any) -> None:
    """Keep a generated case inside the suite's own records.

    * every id a request that is not a read could refer to — path pks, `team`, `username` —
      becomes one of the fuzz pool's records or one that cannot exist, in the same JSON shape,
      for negative data too (a server that wrongly accepts it still lands on our own record);
    * positive names get the run prefix (so everything created can be found and removed);
    * positive `team` values point at the suite's fuzz team (or at a team that does not exist).
    The safety guard (conformance/safety.py) refuses to send whatever this misses."""
    op = operation_id(case)
    kind = _path_kind(case)
    if case.method.upper() not in safety.READ_METHODS and kind is not None:
        params = dict(case.path_parameters or {})
        if "pk" in params:
            params["pk"] = POOL.pick(kind, params["pk"])
            value = params["pk"]
            if kind == "users" and isinstance(value, str) and not safety.numbers_in(value) \
                    and not safety.name_is_safe(ufdl.API, "users", value):
                params["pk"] = SETTINGS.prefix + value  # /v1/users/<name>: a name nobody else has
        if isinstance(params.get("username"), str) and not safety.name_is_safe(ufdl.API, "users", params["username"]):
            params["username"] = POOL.users[0] if POOL.users else SETTINGS.prefix + "nobody"
        case.path_parameters = params
    body = case.body
    if not isinstance(body, dict):
        return
    changed = dict(body)
    if is_positive(case, ParameterLocation.BODY):
        if op in NAMED_WRITES and "name" in body:
            changed["name"] = _prefixed(body["name"], 200)
        if op in USER_WRITES and "username" in body:
            changed["username"] = _prefixed(body["username"], 150)
        if op in ("projects_create", "projects_update", "projects_partial_update") and "team" in body:
            team = POOL.team if POOL.team is not None else ufdl.world().unused_team()
            changed["team"] = _team_like(body["team"], team)
    if "team" in changed:
        fallback = POOL.team if POOL.team is not None else 0
        changed["team"] = safety.make_safe(changed["team"], ufdl.API, "teams",
                                           lambda n: n if n == fallback else fallback, role="container")
    if SETTINGS.live and op in USER_WRITES and "is_staff" in changed:
        changed["is_staff"] = False  # never make an admin account on someone's server, even of our own users
    username = changed.get("username")
    if op in USER_WRITES and isinstance(username, (int, float)) and not isinstance(username, bool):
        username = str(username)  # a number is stored as its text: the same name rules apply
    if isinstance(username, str) and not safety.name_is_safe(ufdl.API, "users", username):
        if op == "teams_memberships":  # a member of our own, or a name nobody has
            changed["username"] = POOL.users[0] if POOL.users else SETTINGS.prefix + "nobody"
        else:  # a new user's name, negative data too: with the prefix it cannot be anyone else's
            changed["username"] = SETTINGS.prefix + username
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
        POOL.user_pks.append(body["pk"])


# -- naming the defect a failing response shows (see fuzz.record_failures) ----------------------

LIST_OPERATIONS = {"projects_list", "teams_list", "users_list"}


def item_properties(op_id: str) -> dict[str, Any]:
    """The properties of the records a list operation answers (read from the spec)."""
    document = target.spec_document(ufdl.API)
    for item in document["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == op_id:
                schema_ = op["responses"]["200"]["content"]["application/json"]["schema"]["items"]
                name = schema_["$ref"].rsplit("/", 1)[1]
                return document["components"]["schemas"][name]["properties"]
    return {}


def _fields(expressions: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for expression in expressions if isinstance(expressions, list) else []:
        if isinstance(expression, dict):
            if "field" in expression:
                found.append(expression)
            found.extend(_fields(expression.get("sub_expressions")))
    return found


def _list_defect(op: str, raw: bytes | str | None, body: Any) -> str | None:
    raw = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if raw and body is None:  # JSON null, or a body that does not parse
        return "ufdl.list.body-not-object-400" if raw.strip() == b"null" else "ufdl.http.malformed-json-400"
    if isinstance(body, (int, float, str, bool)) or (isinstance(body, list) and body):  # `[]` means "no filter"
        return "ufdl.list.body-not-object-400"
    if not isinstance(body, dict):
        return None
    properties = item_properties(op)
    for expression in _fields(body.get("expressions")):
        name = str(expression["field"])
        if re.split(r"\.|__", name)[0] not in properties:
            return "ufdl.filter.unknown-field-400"
        column = properties.get(name, {})
        types = column.get("type") if isinstance(column.get("type"), list) else [column.get("type")]
        value = expression.get("value")
        if "integer" in types and isinstance(value, str) and not value.strip().lstrip("+-").isdigit():
            return "ufdl.filter.value-type-400"
    for order in body.get("order_by") or [] if isinstance(body.get("order_by"), list) else []:
        name = str(order.get("field", "")) if isinstance(order, dict) else ""
        if re.split(r"\.|__", name)[0] not in properties:
            return "ufdl.filter.unknown-field-400"
        if "." in name:
            return "ufdl.order.dotted-field-no-500"
    return None


def _active_name_taken(pk: int | None, name: Any, team: Any) -> bool:
    """Another active project of `team` is named `name` (as the server trims it)."""
    if not isinstance(name, (str, int, float)) or isinstance(name, bool):
        return False
    client = ufdl.world().client
    response = client.post("/v1/projects/list", json={"expressions": [
        {"type": "exact", "field": "name", "value": str(name).strip()}, {"type": "exact", "field": "team", "value": team}]})
    listed = response.json() if response.status_code == 200 else []
    return any(isinstance(p, dict) and p.get("pk") != pk for p in listed)


def _active_team_named(name: Any, pk: Any) -> bool:
    response = ufdl.world().client.post("/v1/teams/list", json={"expressions": [
        {"type": "exact", "field": "name", "value": str(name)}]})
    return response.status_code == 200 and any(t.get("pk") != pk for t in response.json() if isinstance(t, dict))


def _project(pk: Any) -> dict[str, Any] | None:
    response = ufdl.world().client.get(f"/v1/projects/{pk}")
    return response.json() if response.status_code == 200 else None


def _huge(value: Any) -> bool:
    return any(n > safety.LARGEST_ID for n in safety.numbers_in(value))


def _pk_segment(request: Any) -> str | None:
    """The text of the first id segment of the request path (`/v1/projects/<this>/...`)."""
    path = unquote(urlsplit(request.url or "").path)
    for prefix in ufdl.POLICY.collections:
        if path.startswith(prefix):
            return path[len(prefix):].split("/", 1)[0]
    return None


def _anonymous(request: Any) -> bool:
    """No credentials as simplejwt reads them: no Authorization header, or one of another scheme
    (`Token x`, an empty value), which it ignores rather than refuses."""
    value = request.headers.get("Authorization")
    return value is None or not str(value).strip().lower().startswith("bearer")


def classify(case: Any, response: Any, checks: list[str]) -> str | None:
    """The named rule a failing response shows, where the request (and, for conflicts, a follow-up
    read) identifies the defect; None leaves it as `ufdl.schema.<primary check>`."""
    request = response.request
    method = (request.method or "").upper()
    op = operation_id(case)
    primary = checks[0]
    status = response.status_code
    if method == "OPTIONS" and (primary in ("allow_header_conformance", "unsupported_method") or status >= 500):
        return "ufdl.http.options-200"
    if primary == "unsupported_method":
        return "ufdl.http.method-not-allowed-405"
    if op == "projects_create" and (primary == "ignored_auth" or (status >= 500 and _anonymous(request))):
        return "ufdl.auth.anonymous-create-401"
    segment = _pk_segment(request)
    literals = safety.literal_segments(ufdl.API)
    if segment and segment not in literals and not re.fullmatch(r"[0-9]+", segment):
        if status == 404 and "json" not in (response.headers.get("content-type") or [""])[0]:
            return "ufdl.pk.non-numeric-json-404"
    if segment and re.fullmatch(r"[0-9]+", segment) and int(segment) > safety.LARGEST_ID and status >= 500:
        return "ufdl.pk.huge-404"
    content_type = request.headers.get("Content-Type", "")
    body = safety.decode_body(content_type, request.body)
    if status < 500:
        return None
    if op in ("users_update", "users_partial_update", "users_destroy") and segment and not segment.isdigit():
        return "ufdl.http.method-not-allowed-405"  # /v1/users/<name> is the real server's GET-only route
    if op == "teams_hard_delete":
        return "ufdl.teams.hard-delete-no-500"
    if op == "teams_reinstate":
        team = ufdl.world().client.get(f"/v1/teams/{(case.path_parameters or {}).get('pk')}")
        if team.status_code == 200 and _active_team_named(team.json().get("name"), team.json().get("pk")):
            return "ufdl.teams.reinstate-duplicate-name-400"
    if op in LIST_OPERATIONS:
        return _list_defect(op, request.body, body)
    raw = request.body.encode("utf-8", "surrogatepass") if isinstance(request.body, str) else request.body or b""
    if isinstance(body, list) or (body is not None and not isinstance(body, dict)) or raw.strip() == b"null":
        return "ufdl.errors.body-not-object-400"
    if not isinstance(body, dict):
        return None
    pk = (case.path_parameters or {}).get("pk")
    if op in ("projects_create", "projects_update", "projects_partial_update") and _huge(body.get("team")):
        return "ufdl.pk.huge-team-400"
    if op in ("projects_update", "projects_partial_update") and "name" in body:
        current = _project(pk)
        team = body.get("team", current.get("team") if current else None)
        if current is not None and _active_name_taken(current["pk"], body["name"], team):
            return "ufdl.names.duplicate-rename-400"
    if op == "projects_reinstate":
        current = _project(pk)
        if current is not None and _active_name_taken(current["pk"], current["name"], current["team"]):
            return "ufdl.reinstate.duplicate-name-400"
    if op == "teams_memberships" and body.get("method") == "add":
        team = ufdl.world().client.get(f"/v1/teams/{pk}")
        members = team.json().get("members", []) if team.status_code == 200 else []
        if any(m.get("username") == body.get("username") for m in members if isinstance(m, dict)):
            return "ufdl.membership.add-existing-400"
    return None


def accepted(case: Any, response: Any, checks: list[str]) -> bool:
    """`GET /v1/users/<not a number>` is the real server's users-by-username route (ufdl-observed.md
    §3: 200 with an array, `[]` for an unknown name), which openapi/ufdl.yaml does not describe yet."""
    segment = _pk_segment(response.request)
    return (operation_id(case) == "users_retrieve" and response.status_code == 200 and segment is not None
            and not re.fullmatch(r"[0-9]+", segment) and set(checks) <= {"response_schema_conformance",
                                                                      "negative_data_rejection"})


fuzz.CLASSIFIERS[ufdl.API] = classify
fuzz.ACCEPTED[ufdl.API] = accepted
