"""`MockTestServer`: a `MockService` on aiohttp's test server, served as the command line serves it.

    service = MockService(MockConfig(apis=("ufdl",)))
    client = await aiohttp_client(MockTestServer(service))   # pytest-aiohttp
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import BaseTestServer

from .service import MockService


class MockTestServer(BaseTestServer):
    """aiohttp's low-level server running `service.handle`, on a free local port."""

    def __init__(self, service: MockService, **kwargs: Any) -> None:
        self.service = service
        super().__init__(**kwargs)

    async def _make_runner(self, **kwargs: Any) -> web.ServerRunner:
        kwargs.pop("handler_cancellation", None)  # as the command line runs it: handlers are not cancelled
        return web.ServerRunner(self.service.server(access_log=None), **kwargs)

    async def close(self) -> None:
        await super().close()
        self.service.close()
