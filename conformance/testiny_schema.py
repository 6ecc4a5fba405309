"""The Testiny spec as schemathesis sees it: API-key auth, per-operation check exclusions and the
preparation that keeps generated requests inside the suite's own records."""

from __future__ import annotations

import threading
from typing import Any

from . import fuzz, testiny
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


PATH_WRITES = {"project_update", "project_delete", "project_undelete"}
BODY_WRITES = {"project_bulk_update", "project_bulk_delete", "project_bulk_undelete"}
CREATES = {"project_create", "project_bulk_create"}


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
        for label in ("fuzz-a", "fuzz-b", "fuzz-c"):
            self.ids.append(w.create(label)["id"])

    def pick(self, value: Any) -> Any:
        if not isinstance(value, int) or isinstance(value, bool) or value in self.ids:
            return value
        choices = [testiny.world().missing_id(), *self.ids]
        return choices[value % len(choices)]


POOL = Pool()


def _prefixed(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return SETTINGS.prefix + value.strip()[: 40 - len(SETTINGS.prefix)]


def _item(item: Any, creates: bool) -> Any:
    if isinstance(item, int) and not isinstance(item, bool):
        return POOL.pick(item)
    if not isinstance(item, dict):
        return item
    changed = dict(item)
    if "id" in changed and not creates:
        changed["id"] = POOL.pick(changed["id"])
    if "name" in changed:
        changed["name"] = _prefixed(changed["name"])
    return changed


def prepare(case: Any) -> None:
    """Keep a generated case inside the suite's own projects; negative data is left untouched.

    Positive names get the run prefix; ids of projects to change (path, bulk bodies, `?ids=`) become
    ids of the fuzz pool or an id no project has."""
    op = operation_id(case)
    if op in PATH_WRITES and is_positive(case, ParameterLocation.PATH):
        case.path_parameters = {**case.path_parameters, "id": POOL.pick(case.path_parameters.get("id"))}
    if op == "project_bulk_delete" and is_positive(case, ParameterLocation.QUERY) and case.query.get("ids"):
        ids = [POOL.pick(int(part)) for part in str(case.query["ids"]).split(",") if part.isdigit()]
        case.query = {**case.query, "ids": ",".join(str(i) for i in ids)}
    if not is_positive(case, ParameterLocation.BODY):
        return
    body = case.body
    if op in CREATES | BODY_WRITES and isinstance(body, list):
        case.body = [_item(item, op in CREATES) for item in body]
    elif op == "project_create" and isinstance(body, dict):
        case.body = _item(body, creates=True)
    elif op == "project_update" and isinstance(body, dict):
        changed = _item(body, creates=False)
        if "id" in changed:  # it names the project of the path (a different id is 400 by design)
            changed["id"] = case.path_parameters.get("id")
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
