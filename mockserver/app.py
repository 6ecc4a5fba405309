"""`create_app(config)`: the aiohttp application serving the selected APIs and the control API.

One middleware, `edge`, does what surrounds every request: fault rules, CORS, the journal, the
console line, the state-file trigger and a last-resort 500 guard.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from . import apis as api_registry
from .api import ApiDefinition
from .config import MockConfig
from .control import CONTROL_PREFIX, ControlPlane, control_definition
from .keys import CONFIG, PLANE, RUNTIMES
from .persistence import StateFile
from .runtime import NOTE, ApiRuntime
from .seeding import demo_seed, load_seed_file

log = logging.getLogger("mockserver")
access_log = logging.getLogger("mockserver.access")

CONTROL = web.AppKey("control_runtime", object)
HandlerType = Callable[[web.Request], Awaitable[web.StreamResponse]]
CORS_ALLOW_HEADERS = "Authorization, Content-Type, Accept, X-Api-Key, X-Mock-Token, X-Requested-With"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

__all__ = ["CONFIG", "RUNTIMES", "build_runtimes", "create_app", "runtime_for"]


def build_runtimes(config: MockConfig, definitions: Iterable[ApiDefinition] | None = None,
                   seeds: dict | None = None) -> list[ApiRuntime]:
    """One runtime per API, seeded from `seeds`, else the seed file, else the demo data (or nothing)."""
    if definitions is None:
        definitions = [api_registry.load(name) for name in config.apis or api_registry.AVAILABLE]
    if seeds is None:
        if config.seed_file is not None:
            seeds = load_seed_file(config.seed_file)
        else:
            seeds = demo_seed() if config.demo_data else {}
    runtimes = []
    for definition in definitions:
        options = config.options_for(definition.name, definition.default_options)
        runtimes.append(ApiRuntime(definition, options, strict=config.strict, seed=seeds.get(definition.name) or {}))
    return sorted(runtimes, key=lambda r: len(r.base_path), reverse=True)


def create_app(config: MockConfig | None = None, *, definitions: Iterable[ApiDefinition] | None = None,
               seeds: dict | None = None) -> web.Application:
    """Build the application. `definitions` overrides the API registry (tests use broken variants)."""
    config = config or MockConfig()
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[edge])
    app[CONFIG] = config
    app[RUNTIMES] = build_runtimes(config, definitions, seeds)
    plane = ControlPlane(token=config.control_token)
    app[PLANE] = plane
    if config.state_file is not None:
        plane.state_file = StateFile(config.state_file)
        plane.state_file.attach(app[RUNTIMES])
        plane.state_file.load_into(app[RUNTIMES])
        app.on_shutdown.append(_final_save)
    if config.control:
        app[CONTROL] = ApiRuntime(control_definition(plane), strict=config.strict)
    app.router.add_route("*", "/{tail:(?s:.*)}", dispatch)  # (?s): paths with %0A match too
    return app


async def _final_save(app: web.Application) -> None:
    app[PLANE].state_file.close()


def runtime_for(app: web.Application, path: str) -> ApiRuntime | None:
    for runtime in app[RUNTIMES]:
        if runtime.router.owns(path):
            return runtime
    return None


def _is_control(request: web.Request) -> bool:
    return CONTROL in request.app and (request.path == CONTROL_PREFIX or request.path.startswith(CONTROL_PREFIX + "/"))


async def dispatch(request: web.Request) -> web.StreamResponse:
    if _is_control(request):
        return await request.app[CONTROL].handle(request)
    runtime = runtime_for(request.app, request.path)
    if runtime is None:
        mounted = [f"{r.name} under {r.base_path or '/'}" for r in request.app[RUNTIMES]]
        return web.json_response({"detail": "Not found.", "mounted": mounted}, status=404)
    return await runtime.handle(request)


@web.middleware
async def edge(request: web.Request, handler: HandlerType) -> web.StreamResponse:
    """Everything around a request, in one middleware (each layer costs on every request):
    fault rules, CORS headers, the journal entry and console line, the state-file trigger, and a
    last-resort guard that turns an escaped exception into a 500."""
    started = time.perf_counter()
    app = request.app
    plane = app[PLANE]
    control = _is_control(request)
    try:
        response = None
        if plane.faults.rules and not control:
            response = await _apply_fault(request)
        if response is None:
            response = await handler(request)
    except web.HTTPException as exc:  # from aiohttp itself: answer it as JSON
        response = web.json_response({"detail": exc.reason}, status=exc.status, headers=_allow_of(exc))
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error for %s %s", request.method, request.path)
        response = web.json_response({"detail": "Internal error in the mock server."}, status=500)
    _cors(request, response)
    elapsed = (time.perf_counter() - started) * 1000
    if not control:
        body = request._read_bytes if request.body_exists else None  # only what a handler already read
        plane.journal.record(method=request.method, path=request.path, query=request.query_string,
                             status=response.status, duration_ms=elapsed, body=body, note=request.get(NOTE))
        if plane.state_file is not None and request.method not in SAFE_METHODS and response.status < 400:
            plane.state_file.changed()
    if app[CONFIG].access_log:
        access_log.info("%s %s %s %.1fms", request.method, request.path_qs, response.status, elapsed)
    return response


async def _apply_fault(request: web.Request) -> web.StreamResponse | None:
    """Apply the first matching fault rule: latency, a forced status, or a dropped connection."""
    runtime = runtime_for(request.app, request.path)
    rule = request.app[PLANE].faults.pick(request.method, request.path, runtime.name if runtime else None)
    if rule is None:
        return None
    request[NOTE] = {"fault": rule.describe(), "api": runtime.name if runtime else None}
    if rule.latency_ms:
        await asyncio.sleep(rule.latency_ms / 1000)
    if rule.drop:
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError()
    if rule.status:
        if runtime is None:
            return web.json_response({"detail": "Fault injected by the mock."}, status=rule.status)
        return runtime.fault_response(request, rule.status)
    return None


def _allow_of(exc: web.HTTPException) -> dict[str, str]:
    return {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}


def _cors(request: web.Request, response: web.StreamResponse) -> None:
    """Any origin may call the mock; preflights are answered with the path's allowed methods."""
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        headers["Access-Control-Allow-Methods"] = headers.get("Allow") or "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
        requested = request.headers.get("Access-Control-Request-Headers")
        headers["Access-Control-Allow-Headers"] = requested or CORS_ALLOW_HEADERS
        headers["Access-Control-Max-Age"] = "600"
    else:
        headers["Access-Control-Expose-Headers"] = "Allow, WWW-Authenticate, X-Request-Id"
