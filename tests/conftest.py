"""Fixtures for white-box tests of the mock: an in-process app in strict mode, per API.

Strict mode checks every answer (errors included) against the API's spec; the `mock` fixture
fails the test at teardown if any answer broke the contract, so mock and spec cannot drift.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockserver import MockConfig
from mockserver.service import MockService
from mockserver.testing import MockTestServer

ClientFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_mock(aiohttp_client) -> ClientFactory:
    """Build a strict in-process mock: `await make_mock(apis=("ufdl",), seeds={...})`, served on aiohttp's
    low-level server as the command line serves it (`client.server.service` is the MockService)."""
    services = []

    async def factory(*, apis: tuple[str, ...] = (), demo_data: bool = False, seeds: dict[str, Any] | None = None,
                      **settings: Any) -> TestClient:
        config = MockConfig(apis=apis, demo_data=demo_data, strict=True, access_log=False, **settings)
        service = MockService(config, seeds=seeds)
        services.append(service)
        return await aiohttp_client(MockTestServer(service))

    yield factory
    violations = [v for service in services for runtime in service.runtimes for v in runtime.contract_violations]
    assert not violations, "the mock broke its own spec:\n" + "\n".join(violations)
