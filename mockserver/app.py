"""`create_app(config)`: the mock as an aiohttp application (for tests and for embedding).

The application has one catch-all route to `MockService.handle`; the command line serves the same
service on aiohttp's low-level server instead (see `mockserver/service.py`).
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from .api import ApiDefinition
from .config import MockConfig
from .keys import CONFIG, PLANE, RUNTIMES, SERVICE
from .service import MockService

__all__ = ["CONFIG", "RUNTIMES", "SERVICE", "create_app"]


def create_app(config: MockConfig | None = None, *, definitions: Iterable[ApiDefinition] | None = None,
               seeds: dict | None = None) -> web.Application:
    """Build the application. `definitions` overrides the API registry (tests use broken variants)."""
    service = MockService(config, definitions=definitions, seeds=seeds)
    app = web.Application(client_max_size=service.config.max_body_bytes)
    app[SERVICE] = service
    app[CONFIG] = service.config
    app[RUNTIMES] = service.runtimes
    app[PLANE] = service.plane
    app.router.add_route("*", "/{tail:(?s:.*)}", service.handle)  # (?s): paths with %0A match too
    app.on_shutdown.append(_final_save)
    return app


async def _final_save(app: web.Application) -> None:
    app[SERVICE].close()

