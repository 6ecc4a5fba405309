"""The control API under /__mock__/: health, reset and a dump of the state of every API.

It lives outside every product spec (so conformance runs never fuzz it) and is described by
openapi/control.yaml.
"""

from __future__ import annotations

from aiohttp import web

from . import app as app_module

CONTROL_PREFIX = "/__mock__"


def _runtimes(request: web.Request) -> list:
    runtimes = request.app[app_module.RUNTIMES]
    wanted = request.query.get("api")
    return [r for r in runtimes if wanted in (None, r.name)]


async def health(request: web.Request) -> web.Response:
    runtimes = request.app[app_module.RUNTIMES]
    return web.json_response({"status": "ok", "apis": {r.name: r.base_path or "/" for r in runtimes}})


async def reset(request: web.Request) -> web.Response:
    runtimes = _runtimes(request)
    if not runtimes:
        return web.json_response({"detail": f"no API named {request.query.get('api')!r}"}, status=404)
    for runtime in runtimes:
        runtime.reset()
    return web.json_response({"reset": [r.name for r in runtimes]})


async def state(request: web.Request) -> web.Response:
    dump = {}
    for runtime in _runtimes(request):
        dumper = runtime.definition.dump_state
        dump[runtime.name] = dumper(runtime.state) if dumper else None
    return web.json_response(dump)


def setup_control(app: web.Application) -> None:
    app.router.add_get(CONTROL_PREFIX + "/health", health)
    app.router.add_post(CONTROL_PREFIX + "/reset", reset)
    app.router.add_get(CONTROL_PREFIX + "/state", state)
