"""Handlers of the control API, its token check and its error envelope `{"detail", "errors"?}`."""

from __future__ import annotations

import gc
import hmac
from pathlib import Path
from typing import Any

from .. import __version__
from ..api import Reply, RequestContext
from ..errors import (
    BodyIncomplete,
    BodyTooLarge,
    EngineError,
    MalformedBody,
    MethodNotAllowed,
    MockAnswer,
    NotAcceptable,
    PathParamInvalid,
    RequestInvalid,
    RouteNotFound,
    UnsupportedMediaType,
)
from ..persistence import SaveFailed
from ..seeding import seed_violations
from ..sessions import DefaultWorld
from .plane import ControlPlane

DASHBOARD = Path(__file__).resolve().parent / "dashboard.html"
Context = RequestContext[ControlPlane]  # what a handler of the control API receives


class ControlError(Exception):
    def __init__(self, status: int, detail: str, errors: list[str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors


def authenticate(ctx: Context) -> None:
    token = ctx.state.token
    if token is None or ctx.operation.operation_id == "health":
        return
    given = ctx.request.headers.get("X-Mock-Token") or ""  # a header only: query strings end up in logs
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode("utf-8", "surrogateescape")):
        raise ControlError(401, "This control API needs the X-Mock-Token header.")


# what the control API says for the engine's errors (their statuses are their own)
ENGINE_DETAILS: dict[type, str] = {
    RouteNotFound: "No such control endpoint.", PathParamInvalid: "No such control endpoint.",
    MalformedBody: "The body is not valid JSON.", UnsupportedMediaType: "Send JSON.",
    BodyTooLarge: "The body is too large.", NotAcceptable: "This endpoint answers JSON.",
}


def render_error(error: Exception, request_id: str) -> Reply:
    if isinstance(error, ControlError):
        body: dict[str, Any] = {"detail": error.detail}
        if error.errors:
            body["errors"] = error.errors
        return Reply(error.status, body)
    if not isinstance(error, EngineError):
        raise error
    if isinstance(error, (BodyIncomplete, MockAnswer)):
        detail = error.message if isinstance(error, MockAnswer) else f"{error.message}."
        return Reply(error.status, {"detail": detail})
    if isinstance(error, MethodNotAllowed):
        return Reply(error.status, {"detail": f"Method {error.method} not allowed here."},
                     {"Allow": ", ".join(error.allowed)})
    if isinstance(error, RequestInvalid):
        return Reply(error.status, {"detail": "Invalid request.",
                                    "errors": [_readable(v) for v in _causes(error.violations)]})
    detail = ENGINE_DETAILS.get(type(error), f"Internal error in the mock: {type(error).__name__}")
    return Reply(error.status, {"detail": detail})


FAULT_EFFECTS = ("latency_ms", "status", "drop")


def _causes(violations: list[Any]) -> list[Any]:
    """The violations worth reporting: "unevaluated properties" follows from any other failure
    inside an allOf (the properties are then not evaluated), so it is dropped when others exist."""
    others = [v for v in violations if v.keyword != "unevaluatedProperties"]
    return (others or violations)[:10]


def _readable(violation: Any) -> str:
    where = f"{violation.location} {violation.field or '<root>'}"
    instance = violation.instance
    if violation.keyword == "anyOf" and isinstance(instance, dict) and not set(FAULT_EFFECTS) & set(instance):
        return f"{where}: a fault rule needs at least one of {', '.join(FAULT_EFFECTS)}"
    return f"{where}: {violation.readable}"


def _runtimes(ctx: Context) -> list[Any]:
    runtimes = ctx.state.runtimes
    wanted = ctx.query.get("api")
    selected = [r for r in runtimes if wanted in (None, r.name)]
    if not selected:
        raise ControlError(404, f"No API named {wanted!r}; served: {', '.join(r.name for r in runtimes)}.")
    return selected


DEFAULT_WORLD = DefaultWorld()


def _world(ctx: Context, *, open_it: bool) -> Any:
    """The world `?session=` names (opened if `open_it`, else it must exist), or the default one."""
    name = ctx.query.get("session")
    if name is None:
        return DEFAULT_WORLD
    sessions = ctx.state.sessions
    if not sessions.enabled:
        raise ControlError(400, "Sessions are off (--max-sessions 0).")
    world = sessions.open(name) if open_it else sessions.get(name)
    if world is None:
        open_ = ", ".join(s["name"] for s in sessions.describe()[:20]) or "none"
        raise ControlError(404, f"No session named {name!r} is open (open: {open_}).")
    return world


def _changed(ctx: Context, runtimes: list[Any], *, replaced: bool, world: Any = DEFAULT_WORLD) -> None:
    """Save what a control call did to the APIs' states: a replaced state (reset, seed) whole, a
    changed one (purge, merged seed) change by change. Sessions are not saved."""
    store = ctx.state.store
    if store is None or not world.persisted:
        return
    persisted = [r for r in runtimes if r.persisted]
    try:
        if replaced:
            for runtime in persisted:
                store.save_all(runtime.name, runtime.state)
        else:
            store.save_changes([(r.name, r.state) for r in persisted])
    except SaveFailed as exc:
        raise ControlError(503, f"The state file could not be written: {exc.__cause__}") from None


def _settled() -> None:
    """After bulk loads: move the new long-lived records out of the collector's full passes."""
    gc.unfreeze()  # so that what the load replaced can be collected too
    gc.collect()
    gc.freeze()


def dashboard(ctx: Context) -> Reply:
    return Reply(200, DASHBOARD.read_text(encoding="utf-8"), content_type="text/html")


def health(ctx: Context) -> Reply:
    return Reply(200, {"status": "ok", "version": __version__, "apis": {r.name: r.root for r in ctx.state.runtimes}})


def reset(ctx: Context) -> Reply:
    runtimes = _runtimes(ctx)
    world = _world(ctx, open_it=True)
    for runtime in runtimes:
        world.reset(runtime)
    _settled()
    _changed(ctx, runtimes, replaced=True, world=world)
    return Reply(200, {"reset": [r.name for r in runtimes]})


def load_seed(ctx: Context) -> Reply:
    seed = ctx.validated_body()  # an object of sections (control.yaml's Seed); each section is checked here
    problems = seed_violations(seed, [r.definition for r in ctx.state.runtimes], "body")
    if problems:
        raise ControlError(400, "Invalid request.", [_readable(v) for v in _causes(problems)])
    runtimes = [r for r in _runtimes(ctx) if r.name in seed]
    world = _world(ctx, open_it=True)
    merge = ctx.query.get("mode") == "merge"
    for runtime in runtimes:
        try:
            if merge:
                _merge(runtime, world.state(runtime), seed[runtime.name])
            else:
                world.reset(runtime, seed[runtime.name])
        except (ValueError, KeyError) as exc:
            raise ControlError(400, f"{runtime.name}: {exc}") from None
    _settled()
    _changed(ctx, runtimes, replaced=not merge, world=world)
    return Reply(200, {"seeded": [r.name for r in runtimes]})


def _merge(runtime: Any, state: Any, seed: Any) -> None:
    merge = getattr(state, "merge_seed", None)
    if merge is None:
        raise ValueError(f"{runtime.name} cannot merge seeds; load with mode=replace")
    merge(seed)


def purge(ctx: Context) -> Reply:
    prefix = ctx.query["prefix"]
    world = _world(ctx, open_it=False)
    purged = {}
    runtimes = [r for r in _runtimes(ctx) if hasattr(world.state(r), "purge")]
    for runtime in runtimes:
        purged[runtime.name] = world.state(runtime).purge(prefix)
    _changed(ctx, runtimes, replaced=False, world=world)
    return Reply(200, {"purged": purged})


def dump_state(ctx: Context) -> Reply:
    world = _world(ctx, open_it=False)
    dump = {}
    for runtime in _runtimes(ctx):
        dumper = getattr(world.state(runtime), "dump", None)
        dump[runtime.name] = dumper() if dumper else None
    return Reply(200, dump)


def journal(ctx: Context) -> Reply:
    log, query = ctx.state.journal, ctx.query
    entries, count = log.select(limit=query.get("limit"), api=query.get("api"), failed=bool(query.get("failed")),
                                method=query.get("method"), path=query.get("path"), status=query.get("status"),
                                session=query.get("session"))
    return Reply(200, {"capacity": log.capacity, "count": count, "entries": [e.to_json() for e in entries]})


def clear_journal(ctx: Context) -> Reply:
    ctx.state.journal.clear(ctx.query.get("session"))
    return Reply(204)


def list_sessions(ctx: Context) -> Reply:
    sessions = ctx.state.sessions
    return Reply(200, {"limit": sessions.limit, "idle_seconds": sessions.idle_seconds,
                       "sessions": sessions.describe()})


def end_sessions(ctx: Context) -> Reply:
    return Reply(200, {"ended": ctx.state.sessions.end_all()})


def end_session(ctx: Context) -> Reply:
    if not ctx.state.sessions.end(ctx.path_params["name"]):
        raise ControlError(404, f"No session named {ctx.path_params['name']!r} is open.")
    return Reply(204)


def list_faults(ctx: Context) -> Reply:
    return Reply(200, [rule.to_json() for rule in ctx.state.faults.rules])


def add_fault(ctx: Context) -> Reply:
    rule = ctx.state.faults.add(dict(ctx.validated_body()))
    return Reply(201, rule.to_json())


def clear_faults(ctx: Context) -> Reply:
    ctx.state.faults.clear()
    return Reply(204)


def delete_fault(ctx: Context) -> Reply:
    if not ctx.state.faults.remove(ctx.path_params["id"]):
        raise ControlError(404, f"No fault rule #{ctx.path_params['id']}.")
    return Reply(204)


HANDLERS = {
    "dashboard": dashboard, "health": health, "reset": reset, "load_seed": load_seed, "purge": purge,
    "dump_state": dump_state, "journal": journal, "clear_journal": clear_journal,
    "list_sessions": list_sessions, "end_sessions": end_sessions, "end_session": end_session,
    "list_faults": list_faults, "add_fault": add_fault, "clear_faults": clear_faults, "delete_fault": delete_fault,
}
