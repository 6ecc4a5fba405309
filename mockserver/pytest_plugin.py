"""pytest fixtures for your own tests (installed with mockserver; pytest finds them by itself).

    def test_my_client_lists_projects(mockserver):
        client = MyUfdlClient(mockserver.ufdl_url, headers=mockserver.ufdl_headers())
        assert client.projects() == []

`mockserver` is one mock for the whole session (in-process, on a free port, in a thread of its
own), reset to its start-up data before each test (sessions a test opened end with it).
Settings in pytest.ini / pyproject.toml:

    mockserver_apis = ufdl testiny       # what to serve (default: both)
    mockserver_seed = tests/seed.yaml    # start-up data (default: empty, only the built-in accounts)
    mockserver_demo_data = false         # true: start with the demo data instead
    mockserver_reset = test              # test (default), module or never: when to reset

`@pytest.mark.mockserver_seed({...} or "file.yaml")` gives one test its own data (the start-up
data comes back for the next test).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .testing import RunningMock


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mockserver_apis", "APIs the mockserver fixture serves (default: all)", type="args", default=[])
    parser.addini("mockserver_seed", "seed file the mockserver fixture starts with", default="")
    parser.addini("mockserver_demo_data", "start the mockserver fixture with the demo data", type="bool",
                  default=False)
    parser.addini("mockserver_reset", "when the mockserver fixture resets: test, module or never", default="test")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mockserver_seed(data): the mockserver fixture holds this seed for this test")


@pytest.fixture(scope="session")
def mockserver_session(pytestconfig: pytest.Config) -> Iterator[RunningMock]:
    """The session's mock, as started (no reset between tests): prefer `mockserver`."""
    seed = pytestconfig.getini("mockserver_seed") or None
    mock = RunningMock(apis=tuple(pytestconfig.getini("mockserver_apis")), seed=seed,
                       demo_data=bool(pytestconfig.getini("mockserver_demo_data")))
    with mock:
        yield mock


@pytest.fixture
def mockserver(mockserver_session: RunningMock, request: pytest.FixtureRequest) -> Iterator[RunningMock]:
    """The mock, reset to its start-up data before this test (see the module docstring)."""
    when = request.config.getini("mockserver_reset")
    if when not in ("test", "module", "never"):
        raise pytest.UsageError(f"mockserver_reset must be test, module or never, not {when!r}")
    module = request.node.module.__name__ if request.node.module else None
    if when == "test" or (when == "module" and getattr(mockserver_session, "_module", None) != module):
        mockserver_session.reset()
        mockserver_session.end_sessions()  # a session a test opened is not the next test's
    mockserver_session._module = module
    marker = request.node.get_closest_marker("mockserver_seed")
    if marker is not None:
        mockserver_session.seed(_marker_seed(marker))
    yield mockserver_session
    if marker is not None:
        mockserver_session.reset()  # the next test sees the start-up data again
        mockserver_session._module = None


def _marker_seed(marker: Any) -> Any:
    if len(marker.args) != 1:
        raise pytest.UsageError("@pytest.mark.mockserver_seed takes one argument: a seed dict or a seed file")
    return marker.args[0]
