"""The Testiny spec as schemathesis sees it: API-key auth, per-operation check exclusions and the
preparation that keeps generated requests inside the suite's own records."""

from __future__ import annotations

import threading
from typing import Any

from . import fuzz, safety, testiny
from .fuzz import ParameterLocation, is_positive, operation_id
from .settings import SETTINGS

schema = fuzz.load_schema("testiny")


@schema.auth(refresh_interval=None)
class ApiKeyAuth:
    """The configured X-Api-Key (read from module state: this runs during collection)."""

    def get(self, case: Any, ctx: Any) -> str:
        return testiny.api_key()

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = case.headers or {}
        case.headers["X-Api-Key"] = data


OPERATIONS = ("account_me", "permission_me", "project_create", "project_find_query", "project_find", "project_read",
              "project_update", "project_delete", "project_undelete", "project_bulk_create", "project_bulk_update",
              "project_bulk_delete", "project_bulk_undelete")
# testiny-projects.md §10: a method a route does not have is 404 API_ROUTE_NOT_FOUND, while
# unsupported_method expects 405 (checked instead by testiny.route.wrong-method-404, advisory).
WRONG_METHOD = "a method the route does not have is 404 API_ROUTE_NOT_FOUND (§10), not 405"
EXCLUDED: dict[str, dict[str, str]] = {op: {"unsupported_method": WRONG_METHOD} for op in OPERATIONS}
for _op, _why in {
    "project_create": "a schema-valid project_key may be used by a live project: 400 API_INPUT_DATA_CONFLICT",
    "project_bulk_create": "a project_key used by a live project or repeated in the array: 400 conflict",
    "project_update": "400 for a stale or missing _etag without force, a body id differing from the path id, "
                      "or a project_key clash",
    "project_bulk_update": "400 for a stale/missing _etag without force, a key clash or an id listed twice",
    "project_undelete": "400 when a live project now uses the project's key",
    "project_bulk_undelete": "400 when a live project (or another item) now uses a project's key",
    "project_find_query": "q is a string in the schema but must decode (JSON or base64) to a valid DataReadParams",
    "project_find": "a schema-valid filter may name an unknown column, or an operator that does not apply to it "
                    "(400 API_INVALID_INPUT_DATA; ColumnName is only a pattern)",
}.items():
    EXCLUDED[_op]["positive_data_acceptance"] = _why

def advisory(failure: Any, response: Any) -> str | None:
    """On a live Testiny server, which 4xx status and error `code` answer a request is a decision of
    our mock (§10: the docs only say "4XX" with the envelope, which the scenarios check)."""
    checks = getattr(failure, "checks", ())
    if 400 <= response.status_code < 500 and ("status_code_conformance" in checks
                                              or "response_schema_conformance" in checks):
        return "testiny-projects.md §10: the exact 4xx status and error code are mock decisions"
    return None


CREATES = {"project_create", "project_bulk_create"}
# What --read-only fuzzes: the operations that cannot change state (the guard refuses the rest).
READ_ONLY_OPERATIONS = ("account_me", "permission_me", "project_find_query", "project_find", "project_read")


def fuzzed_schema() -> Any:
    return schema.include(operation_id=list(READ_ONLY_OPERATIONS)) if SETTINGS.read_only else schema


class Pool:
    """Projects generated requests may change: ones made for fuzzing or by fuzzing, never others."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: list[int] = []
        self.ready = False

    def setup(self) -> None:
        with self.lock:
            if self.ready:
                return
            self.ready = True
        w = testiny.world()
        w.missing_id()  # ids from there up cannot exist: the guard lets requests refer to them
        if SETTINGS.read_only:
            return
        for label in ("fuzz-a", "fuzz-b", "fuzz-c"):
            self.ids.append(w.create(label)["id"])

    def choose(self, number: int) -> int:
        if number in self.ids:
            return number
        choices = [testiny.world().missing_id(), *self.ids]
        return choices[number % len(choices)]

    def pick(self, value: Any) -> Any:
        """`value` made safe: one of the pool's projects or an id no project has, in the same shape
        (the run's other projects are left to the scenarios that made them)."""
        avoid = frozenset(safety.owned(testiny.API, "projects") - set(self.ids))
        return safety.make_safe(value, testiny.API, "projects", self.choose, avoid=avoid)


POOL = Pool()


def _prefixed(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return SETTINGS.prefix + value.strip()[: 40 - len(SETTINGS.prefix)]


def _item(item: Any, positive: bool) -> Any:
    if not isinstance(item, dict):
        return POOL.pick(item) if not isinstance(item, list) else item
    changed = dict(item)
    if "id" in changed:
        changed["id"] = POOL.pick(changed["id"])
    if positive and "name" in changed:
        changed["name"] = _prefixed(changed["name"])
    return changed


def prepare(case: Any) -> None:
    """Keep a generated case inside the suite's own projects.

    Every id a request that is not a read could refer to (path, `ids` query, body `id`s, bare ids
    of bulk bodies) becomes an id of the fuzz pool or one no project has, in the same JSON shape,
    for negative data too; positive names get the run prefix. The safety guard
    (conformance/safety.py) refuses to send whatever this misses."""
    op = operation_id(case)
    if case.method.upper() not in safety.READ_METHODS and op != "project_find":
        case.path_parameters = {name: POOL.pick(value) if name == "id" else value
                                for name, value in (case.path_parameters or {}).items()}
        if isinstance(case.query, dict) and case.query.get("ids") is not None:
            ids = case.query["ids"]
            parts = ids if isinstance(ids, list) else str(ids).split(",")
            case.query = {**case.query, "ids": ",".join(str(POOL.pick(part)) for part in parts)}
    body = case.body
    positive = is_positive(case, ParameterLocation.BODY)
    if isinstance(body, list):
        case.body = [_item(item, positive) for item in body]
    elif isinstance(body, dict) and op != "project_find":
        changed = _item(body, positive)
        if op == "project_update" and "id" in changed and positive:
            changed["id"] = case.path_parameters.get("id")  # it names the project of the path (else 400 by design)
        case.body = changed


def after_call(case: Any, response: Any) -> None:
    """Record whatever a call created (also when a server accepted data it should have refused)."""
    if not 200 <= response.status_code < 300 or operation_id(case) not in CREATES:
        return
    try:
        body = response.json()
    except ValueError:
        return
    for project in body if isinstance(body, list) else [body]:
        testiny.record(project)
        if isinstance(project, dict) and isinstance(project.get("id"), int):
            POOL.ids.append(project["id"])
