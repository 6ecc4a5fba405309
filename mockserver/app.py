"""`create_app(config)`: the aiohttp application serving the selected APIs and the control API."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from . import apis as api_registry
from .api import ApiDefinition
from .config import MockConfig
from .runtime import ApiRuntime
from .seeding import demo_seed, load_seed_file

log = logging.getLogger("mockserver")
access_log = logging.getLogger("mockserver.access")

RUNTIMES = web.AppKey("runtimes", list)  # ApiRuntime, the longest base path first
CONFIG = web.AppKey("config", MockConfig)

HandlerType = Callable[[web.Request], Awaitable[web.StreamResponse]]
CORS_ALLOW_HEADERS = "Authorization, Content-Type, Accept, X-Api-Key, X-Requested-With"


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
        seed = seeds.get(definition.name) or {}
        runtimes.append(ApiRuntime(definition, options, strict=config.strict, seed=seed))
    return sorted(runtimes, key=lambda r: len(r.base_path), reverse=True)


def create_app(config: MockConfig | None = None, *, definitions: Iterable[ApiDefinition] | None = None,
               seeds: dict | None = None) -> web.Application:
    """Build the application. `definitions` overrides the API registry (tests use broken variants)."""
    config = config or MockConfig()
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[request_log, cors])
    app[CONFIG] = config
    app[RUNTIMES] = build_runtimes(config, definitions, seeds)
    if config.control:
        from .control import setup_control

        setup_control(app)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


def runtime_for(app: web.Application, path: str) -> ApiRuntime | None:
    for runtime in app[RUNTIMES]:
        if runtime.router.owns(path):
            return runtime
    return None


async def dispatch(request: web.Request) -> web.StreamResponse:
    runtime = runtime_for(request.app, request.path)
    if runtime is None:
        mounted = [f"{r.name} under {r.base_path or '/'}" for r in request.app[RUNTIMES]]
        return web.json_response({"detail": "Not found.", "mounted": mounted}, status=404)
    return await runtime.handle(request)


@web.middleware
async def cors(request: web.Request, handler: HandlerType) -> web.StreamResponse:
    """Any origin may call the mock; preflights are answered with the path's allowed methods."""
    response = await handler(request)
    response.headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        allowed = response.headers.get("Allow") or "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Methods"] = allowed
        requested = request.headers.get("Access-Control-Request-Headers")
        response.headers["Access-Control-Allow-Headers"] = requested or CORS_ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response


@web.middleware
async def request_log(request: web.Request, handler: HandlerType) -> web.StreamResponse:
    """One compact line per request (method, path, status, ms); never lets an exception escape."""
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # raised by the control API
        response = exc
    except Exception:
        log.exception("unhandled error for %s %s", request.method, request.path)
        response = web.json_response({"detail": "Internal error in the mock server."}, status=500)
    elapsed = (time.perf_counter() - started) * 1000
    if request.app[CONFIG].access_log:
        access_log.info("%s %s %s %.1fms", request.method, request.path_qs, response.status, elapsed)
    return response
