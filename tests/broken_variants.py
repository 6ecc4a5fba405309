"""Deliberately broken variants of the mock, to prove the conformance suite catches breakage.

Each variant is the real `ApiDefinition` with one handler, error renderer or state class replaced
(`dataclasses.replace`), served by `mockserver.app.create_app(definitions=[...])`. `VARIANTS` maps a
variant name to (builder, the rule globs the suite is run with, the rule ids that must fail).
`real_server_bugs()` reproduces the "Real-server bugs" list of ufdl-projects.md.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiohttp import web

from mockserver import MockConfig
from mockserver.api import NO_BODY, ApiDefinition, FormBody, Reply
from mockserver.apis.testiny import API as TESTINY
from mockserver.apis.ufdl import API as UFDL
from mockserver.apis.ufdl.errors import UfdlError
from mockserver.apis.ufdl.state import UfdlState
from mockserver.app import create_app
from mockserver.errors import MalformedBody, MethodNotAllowed, PathParamInvalid, RouteNotFound
from mockserver.jsonio import Encoded

Change = Callable[[Any, Reply], Reply]


def after(api: ApiDefinition, operation: str, change: Change) -> ApiDefinition:
    """`api` with the reply of one operation's handler passed through `change(ctx, reply)` (a body
    the handler sent already encoded is decoded first, so `change` sees JSON values)."""
    original = api.handlers[operation]

    async def handler(ctx):
        reply = original(ctx)
        if inspect.isawaitable(reply):
            reply = await reply
        if isinstance(reply.body, Encoded):
            reply = replace(reply, body=reply.body.value())
        return change(ctx, reply)

    return replace(api, handlers={**api.handlers, operation: handler})


def before(api: ApiDefinition, operation: str, prepare: Callable[[Any], None]) -> ApiDefinition:
    """`api` with `prepare(ctx)` run before one operation's handler."""
    original = api.handlers[operation]

    async def handler(ctx):
        prepare(ctx)
        reply = original(ctx)
        return await reply if inspect.isawaitable(reply) else reply

    return replace(api, handlers={**api.handlers, operation: handler})


def with_state(api: ApiDefinition, state_class: type) -> ApiDefinition:
    def create_state(options, seed):
        state = state_class(options)
        if seed:
            state.load(seed)
        return state

    return replace(api, create_state=create_state)


def with_errors(api: ApiDefinition, override: Callable[[Exception], Reply | None]) -> ApiDefinition:
    """`api` whose error renderer answers `override(error)` where that is not None."""

    def render_error(error: Exception, request_id: str) -> Reply:
        reply = override(error)
        return reply if reply is not None else api.render_error(error, request_id)

    return replace(api, render_error=render_error)


# -- the breakages -------------------------------------------------------------------------------

def create_answers_200() -> ApiDefinition:
    return after(UFDL, "projects_create", lambda ctx, reply: replace(reply, status=200) if reply.status == 201 else reply)


def soft_delete_removes() -> ApiDefinition:
    def gone(ctx, reply):
        if reply.status == 204:
            state = ctx.state
            state.hard_delete(state.get_project(ctx.path_params["pk"]))
        return reply

    return after(UFDL, "projects_destroy", gone)


def reinstate_does_nothing() -> ApiDefinition:
    def noop(ctx):
        return Reply(200, ctx.state.get_project(ctx.path_params["pk"]).to_json())

    return replace(UFDL, handlers={**UFDL.handlers, "projects_reinstate": noop})


def list_shows_soft_deleted() -> ApiDefinition:
    def add_deleted(ctx, reply):
        body = ctx.parsed_body()
        if reply.status != 200 or (isinstance(body, dict) and body.get("include_inactive")):
            return reply
        listed = {p["pk"] for p in reply.body}
        extra = [p.to_json() for p in ctx.state.visible_projects(ctx.user) if not p.active and p.pk not in listed]
        return replace(reply, body=[*reply.body, *extra])

    return after(UFDL, "projects_list", add_deleted)


def filter_exact_inverted() -> ApiDefinition:
    def invert_exact(ctx):
        body = ctx.parsed_body()
        if isinstance(body, dict):
            for expression in body.get("expressions", []):
                if isinstance(expression, dict) and expression.get("type") == "exact":
                    expression["invert"] = not expression.get("invert", False)

    return before(UFDL, "projects_list", invert_exact)


def ordering_ignored() -> ApiDefinition:
    return after(UFDL, "projects_list",
                 lambda ctx, reply: replace(reply, body=sorted(reply.body, key=lambda p: p["pk"]))
                 if reply.status == 200 else reply)


def field_renamed() -> ApiDefinition:
    def rename(project):
        return {("created" if key == "creation_time" else key): value for key, value in project.items()}

    api = UFDL
    for operation in ("projects_create", "projects_retrieve", "projects_update", "projects_partial_update",
                      "projects_list"):
        def change(ctx, reply):
            if isinstance(reply.body, list):
                return replace(reply, body=[rename(p) for p in reply.body])
            if isinstance(reply.body, dict) and "creation_time" in reply.body:
                return replace(reply, body=rename(reply.body))
            return reply

        api = after(api, operation, change)
    return api


def error_wrong_envelope() -> ApiDefinition:
    def envelope(error):
        if isinstance(error, UfdlError) and error.status == 404:
            return Reply(404, {"error": error.body.get("detail", "not found")})
        return None

    return with_errors(UFDL, envelope)


def malformed_json_500() -> ApiDefinition:
    return with_errors(UFDL, lambda error: Reply(500, {"detail": "A server error occurred."})
                       if isinstance(error, MalformedBody) else None)


def auth_not_enforced() -> ApiDefinition:
    def authenticate(ctx):
        UFDL.authenticate(ctx)
        if ctx.user is None and ctx.operation.secured:
            ctx.user = ctx.state.users[1]  # everyone is the superuser

    return replace(UFDL, authenticate=authenticate)


class WriteNeedsOnlyRead(UfdlState):
    def has_level(self, user, team, minimum):
        return super().has_level(user, team, "R" if minimum == "W" else minimum)


def permission_level_ignored() -> ApiDefinition:
    return with_state(UFDL, WriteNeedsOnlyRead)


class ReusingPks(UfdlState):
    def _take_pk(self, table):
        if table == "project":
            return max(self.projects, default=0) + 1
        return super()._take_pk(table)


def pk_reused() -> ApiDefinition:
    return with_state(UFDL, ReusingPks)


def long_names_truncated() -> ApiDefinition:
    """Names over the limit are cut to it instead of being refused (a silent data change)."""
    def truncate(ctx):
        body = ctx.parsed_body()
        if isinstance(body, dict) and isinstance(body.get("name"), str):
            body["name"] = body["name"][:200]

    api = UFDL
    for operation in ("projects_create", "projects_update", "projects_partial_update"):
        api = before(api, operation, truncate)
    return api


def team_rename_ignored() -> ApiDefinition:
    """PUT/PATCH on a team answer 200 with the team unchanged."""
    def unchanged(ctx):
        team = ctx.state.get_team(ctx.path_params["pk"])
        return Reply(200, ctx.state.team_json(team))

    return replace(UFDL, handlers={**UFDL.handlers, "teams_update": unchanged, "teams_partial_update": unchanged})


def team_reinstate_keeps_deletion() -> ApiDefinition:
    def noop(ctx):
        return Reply(200, ctx.state.team_json(ctx.state.get_team(ctx.path_params["pk"])))

    return replace(UFDL, handlers={**UFDL.handlers, "teams_reinstate": noop})


def user_delete_does_nothing() -> ApiDefinition:
    return replace(UFDL, handlers={**UFDL.handlers, "users_destroy": lambda ctx: Reply(204)})


def etag_not_checked() -> ApiDefinition:
    def force(ctx):
        ctx.query["force"] = "1"

    return before(TESTINY, "project_update", force)


@dataclass(frozen=True)
class Variant:
    build: Callable[[], ApiDefinition]
    api: str
    select: tuple[str, ...]  # --rule globs for the suite run
    must_fail: tuple[str, ...]  # rule ids the suite must report as failed


VARIANTS: dict[str, Variant] = {
    "create-answers-200": Variant(create_answers_200, "ufdl", ("ufdl.lifecycle.*",), ("ufdl.lifecycle.create-201",)),
    "soft-delete-removes": Variant(soft_delete_removes, "ufdl", ("ufdl.soft-delete.*",),
                                   ("ufdl.soft-delete.still-retrievable", "ufdl.soft-delete.idempotent")),
    "reinstate-does-nothing": Variant(reinstate_does_nothing, "ufdl", ("ufdl.reinstate.*",), ("ufdl.reinstate.restores",)),
    "list-shows-soft-deleted": Variant(list_shows_soft_deleted, "ufdl", ("ufdl.soft-delete.*",),
                                       ("ufdl.soft-delete.hidden-from-list",)),
    "filter-exact-inverted": Variant(filter_exact_inverted, "ufdl", ("ufdl.filter.*",), ("ufdl.filter.exact",)),
    "ordering-ignored": Variant(ordering_ignored, "ufdl", ("ufdl.order.*",), ("ufdl.order.by-name",)),
    "field-renamed": Variant(field_renamed, "ufdl", ("ufdl.lifecycle.*",), ("ufdl.lifecycle.create-201",)),
    "error-wrong-envelope": Variant(error_wrong_envelope, "ufdl", ("ufdl.errors.*", "ufdl.hard-delete.*"),
                                    ("ufdl.errors.detail-envelope", "ufdl.hard-delete.gone-404")),
    "malformed-json-500": Variant(malformed_json_500, "ufdl", ("ufdl.http.*",), ("ufdl.http.malformed-json-400",)),
    "auth-not-enforced": Variant(auth_not_enforced, "ufdl", ("ufdl.auth.*",), ("ufdl.auth.required-401",)),
    "permission-level-ignored": Variant(permission_level_ignored, "ufdl", ("ufdl.perm.*",),
                                        ("ufdl.perm.update-needs-write", "ufdl.perm.create-needs-write")),
    "pk-reused": Variant(pk_reused, "ufdl", ("ufdl.pk.*",), ("ufdl.pk.never-reused",)),
    "etag-not-checked": Variant(etag_not_checked, "testiny", ("testiny.etag.*",), ("testiny.etag.stale-rejected",)),
    "long-names-truncated": Variant(long_names_truncated, "ufdl", ("ufdl.names.*",), ("ufdl.names.max-length-400",)),
    "team-rename-ignored": Variant(team_rename_ignored, "ufdl", ("ufdl.teams.*",), ("ufdl.teams.rename",)),
    "team-reinstate-keeps-deletion": Variant(team_reinstate_keeps_deletion, "ufdl", ("ufdl.teams.*",),
                                             ("ufdl.teams.reinstate",)),
    "user-delete-does-nothing": Variant(user_delete_does_nothing, "ufdl", ("ufdl.users.*",), ("ufdl.users.deactivate",)),
}


# -- a server with the real UFDL backend's bugs (ufdl-projects.md, "Real-server bugs") --------------

SERVER_ERROR = Reply(500, "<h1>Server Error (500)</h1>", content_type="text/html")
HTML_404 = Reply(404, "<h1>Page not found</h1>", content_type="text/html")


def _real_errors(error: Exception) -> Reply | None:
    if isinstance(error, MethodNotAllowed):  # unmapped method on a viewset route -> 500
        return SERVER_ERROR
    if isinstance(error, PathParamInvalid):  # huge pk -> 500; non-numeric pk -> Django's HTML 404 page
        return SERVER_ERROR if error.raw.isdigit() else HTML_404
    if isinstance(error, RouteNotFound):
        return HTML_404
    return None


def real_server_bugs() -> ApiDefinition:
    api = with_errors(UFDL, _real_errors)

    def anonymous_create_500(ctx):
        if ctx.user is None:
            raise TypeError("'AnonymousUser' object is not iterable")  # the real TypeError

    api = before(api, "projects_create", anonymous_create_500)

    def huge_pk_500(ctx):
        if ctx.path_params.get("pk", 0) > 2**63 - 1:
            raise OverflowError("Python int too large to convert to SQLite INTEGER")

    for operation in ("projects_retrieve", "projects_update", "projects_partial_update", "projects_destroy"):
        api = before(api, operation, huge_pk_500)

    def sqlite_contains(ctx):  # observed, not a bug: `contains` ignores ASCII case on SQLite
        body = ctx.parsed_body()
        for expression in body.get("expressions", []) if isinstance(body, dict) else []:
            if isinstance(expression, dict) and expression.get("type") == "contains":
                expression["case_insensitive"] = True

    api = before(api, "projects_list", sqlite_contains)

    def body_not_object_500(ctx):  # JSON null, a number, a string or an array -> TypeError
        try:
            body = ctx.parsed_body()
        except Exception:
            return
        lists = ctx.operation.operation_id.endswith("_list")
        if body is NO_BODY or isinstance(body, (dict, FormBody)) or (lists and body == []):
            return
        raise TypeError("string indices must be integers, not 'str'")

    for operation in ("projects_list", "teams_list", "users_list", "users_create", "teams_memberships"):
        api = before(api, operation, body_not_object_500)

    def list_field_errors_500(ctx):
        body = ctx.parsed_body()
        if not isinstance(body, dict):
            return
        for expression in body.get("expressions") or []:
            if isinstance(expression, dict) and expression.get("field") == "pk" and isinstance(expression.get("value"), str) \
                    and not expression["value"].isdigit():
                raise ValueError(f"Field 'id' expected a number but got {expression['value']!r}.")
        for order in body.get("order_by") or []:
            if isinstance(order, dict) and "." in str(order.get("field", "")):
                raise LookupError(f"Cannot resolve keyword {order['field']!r} into field.")  # Django's FieldError

    api = before(api, "projects_list", list_field_errors_500)

    def add_existing_member_500(ctx):
        body = ctx.parsed_body()
        if isinstance(body, dict) and body.get("method") == "add":
            user = ctx.state.user_named(str(body.get("username")))
            if user is not None and ctx.state.membership(user.pk, ctx.path_params["pk"]) is not None:
                raise RuntimeError("UNIQUE constraint failed: simple_django_teams_membership.user_id, team_id")

    api = before(api, "teams_memberships", add_existing_member_500)

    def huge_team_500(ctx):
        body = ctx.parsed_body()
        if isinstance(body, dict) and isinstance(body.get("team"), int) and body["team"] > 2**63 - 1:
            raise OverflowError("Python int too large to convert to SQLite INTEGER")

    for operation in ("projects_create", "projects_update", "projects_partial_update"):
        api = before(api, operation, huge_team_500)

    def team_hard_delete_500(ctx):  # removes the team (when it can), then fails to write the answer
        state = ctx.state
        if ctx.user is None or not ctx.user.is_admin:
            return  # the admin check comes first
        team = state.get_team(ctx.path_params["pk"])
        if state.team_referenced(team):
            state.destroy_team(team)
            raise RuntimeError("FOREIGN KEY constraint failed")
        state.hard_delete_team(team)
        raise ValueError('"<Team>" needs to have a value for field "id" before this many-to-many relationship')

    def team_reinstate_500(ctx):
        team = ctx.state.get_team(ctx.path_params["pk"])
        if not team.active and ctx.state.team_named(team.name) is not None:
            raise RuntimeError("UNIQUE constraint failed: simple_django_teams_team.name")

    api = before(api, "teams_hard_delete", team_hard_delete_500)
    api = before(api, "teams_reinstate", team_reinstate_500)
    for operation in ("projects_update", "projects_partial_update", "projects_reinstate", "projects_list"):
        original = api.handlers[operation]

        async def handler(ctx, original=original):
            try:
                reply = original(ctx)
                return await reply if inspect.isawaitable(reply) else reply
            except UfdlError as error:
                detail = error.body.get("detail", "") if isinstance(error.body, dict) else ""
                if detail.startswith("UNIQUE constraint") or detail.startswith("Cannot resolve keyword"):
                    return SERVER_ERROR  # IntegrityError / FieldError
                raise

        api = replace(api, handlers={**api.handlers, operation: handler})
    return api


@web.middleware
async def options_500(request: web.Request, handler):
    """OPTIONS on a viewset route -> 500 (the real server has no permission class for `metadata`)."""
    if request.method == "OPTIONS" and request.path.startswith("/v1/projects"):
        return web.Response(status=500, text="<h1>Server Error (500)</h1>", content_type="text/html")
    return await handler(request)


REAL_SERVER_BUGS = {
    "ufdl.teams.hard-delete-no-500": "team hard delete -> 500 (after removing the team)",
    "ufdl.teams.hard-delete-referenced-400": "hard delete of a team with a project -> 500 (after soft-deleting it)",
    "ufdl.teams.reinstate-duplicate-name-400": "team reinstate onto an active name -> 500",
    "ufdl.list.body-not-object-400": "list body null/number/string -> 500",
    "ufdl.filter.value-type-400": "exact pk 'abc' -> 500",
    "ufdl.order.dotted-field-no-500": "order_by team.name -> 500",
    "ufdl.membership.add-existing-400": "adding an active member again -> 500",
    "ufdl.reinstate.duplicate-name-400": "reinstate onto an active name -> 500",
    "ufdl.pk.huge-team-400": "team pk beyond 64 bit -> 500",
    "ufdl.errors.body-not-object-400": "users/create or memberships with a null body -> 500",
    "ufdl.http.method-not-allowed-405": "405 -> 500",
    "ufdl.http.options-200": "OPTIONS -> 500",
    "ufdl.auth.anonymous-create-401": "anonymous create -> 500",
    "ufdl.names.duplicate-rename-400": "duplicate rename -> 500",
    "ufdl.pk.huge-404": "huge pk -> 500",
    "ufdl.filter.unknown-field-400": "unknown filter field -> 500",
    "ufdl.pk.non-numeric-json-404": "non-numeric pk -> HTML 404",
}


# -- serving --------------------------------------------------------------------------------------

def build_app(definitions: list[ApiDefinition], middlewares: tuple = (), **settings) -> web.Application:
    app = create_app(MockConfig(demo_data=False, access_log=False, **settings), definitions=definitions)
    for middleware in middlewares:
        app.middlewares.insert(0, middleware)
    return app


@contextmanager
def serve(app: web.Application):
    """Serve an aiohttp app on 127.0.0.1:<free port> from a daemon thread; yield its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))

    async def start():
        await runner.setup()
        await web.SockSite(runner, sock).start()

    loop.run_until_complete(start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


# -- running the suite as a user would -------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {
    "ufdl": ["test_ufdl_lifecycle.py", "test_ufdl_filters.py", "test_ufdl_permissions.py", "test_ufdl_protocol.py",
             "test_ufdl_accounts.py"],
    "testiny": ["test_testiny_projects.py", "test_testiny_find.py"],
}


@dataclass
class Run:
    returncode: int
    output: str
    outcomes: dict[str, str] = field(default_factory=dict)  # rule id -> passed/failed/skipped/xfailed
    messages: dict[str, str] = field(default_factory=dict)  # rule id -> failure or skip message

    def failed(self) -> set[str]:
        return {rule for rule, outcome in self.outcomes.items() if outcome == "failed"}


def run_suite(url: str, api: str, tmp_path: Path, *args: str) -> Run:
    junit = tmp_path / f"junit-{api}.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "UFDL_", "TESTINY_"))}
    command = [sys.executable, "-m", "pytest", *(f"conformance/{name}" for name in SCENARIOS[api]),
               "--base-url", url, "--api", api, "--allow-create-accounts", "-p", "no:cacheprovider",
               f"--junitxml={junit}", "-q", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    run = Run(done.returncode, done.stdout + done.stderr)
    assert junit.exists(), run.output[-3000:]
    for case in ET.parse(junit).iter("testcase"):
        rules = [p.get("value") for p in case.iter("property") if p.get("name") == "rule"]
        rule = rules[0] if rules else case.get("name")
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        if failure is not None:
            run.outcomes[rule], run.messages[rule] = "failed", failure.get("message", "") + (failure.text or "")
        elif skipped is not None:
            kind = "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"
            run.outcomes[rule], run.messages[rule] = kind, skipped.get("message", "")
        else:
            run.outcomes[rule] = "passed"
    return run
