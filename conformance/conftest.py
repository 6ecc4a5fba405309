"""Options, target, reporting and cleanup of the conformance suite (see README.md here).

`pytest conformance` starts the mock in-process (empty) and checks every API it serves;
`pytest conformance --base-url URL --api ufdl|testiny` checks a live server instead.
"""

from __future__ import annotations

import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:  # `conformance.*` imports work from any cwd and under --import-mode=importlib
    sys.path.insert(0, ROOT)

from conformance import reporting, settings, target  # noqa: E402
from conformance.cleanup import REGISTRY, purge_mock  # noqa: E402
from conformance.client import CURRENT_RULE  # noqa: E402

MARKERS = (
    "rule(id): the rule a conformance scenario checks (shown in failures, JUnit and the summary)",
    "advisory(reason): the check rests only on a decision of our mock; on a live server a failure only warns",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    settings.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    settings.configure(config)
    reporting.load_deviations(settings.SETTINGS.deviations_file)


def pytest_unconfigure(config: pytest.Config) -> None:
    REGISTRY.run()
    target.shutdown()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [i for i in items if _ours(i)]
    if settings.SETTINGS.rules:
        wanted = settings.SETTINGS.rules
        dropped = [i for i in ours if not any(fnmatch(reporting.item_rule(i) or "", g) for g in wanted)]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            dropped_ids = {id(i) for i in dropped}
            items[:] = [i for i in items if id(i) not in dropped_ids]
            ours = [i for i in ours if id(i) not in dropped_ids]
    reporting.apply_deviations(ours)


def _ours(item: pytest.Item) -> bool:
    return Path(str(item.fspath)).resolve().is_relative_to(Path(__file__).resolve().parent)


@pytest.fixture(autouse=True)
def _current_rule(request: pytest.FixtureRequest):
    """Makes the rule id and test id available to failure messages and notes."""
    rule_token = CURRENT_RULE.set(reporting.item_rule(request.node))
    node_token = reporting.CURRENT_NODE.set(request.node.nodeid)
    yield
    CURRENT_RULE.reset(rule_token)
    reporting.CURRENT_NODE.reset(node_token)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    rep = yield
    if _ours(item):
        reporting.finish_report(item, call, rep, live=settings.SETTINGS.live)
    return rep


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    tgt = target.resolved()
    if tgt is not None and tgt.live and tgt.is_mock:
        REGISTRY.on_cleanup("mock-purge", lambda: purge_mock(tgt.root_url))  # runs after the API cleaners
    REGISTRY.run()  # before the in-process mock stops, also after failures or Ctrl-C


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    tgt = target.resolved()
    if config.option.collectonly or (tgt is None and not reporting.LEDGER.outcomes):
        return
    s = settings.SETTINGS
    header = []
    if tgt is not None:
        header.append(f"target: {tgt.kind} {tgt.root_url}; APIs: {', '.join(tgt.apis) or 'none'}; "
                      f"names start with {s.prefix}")
    lines = reporting.summary_lines(header, REGISTRY.run())
    terminalreporter.write_sep("=", "conformance summary")
    for line in lines:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def ufdl_world():
    """The UFDL account, team and helpers of this run (skips when the target has no UFDL API)."""
    if not target.target().serves("ufdl"):
        pytest.skip("the target does not serve the UFDL API")
    from conformance import ufdl

    return ufdl.world()


@pytest.fixture(scope="session")
def testiny_world():
    """The Testiny key and helpers of this run (skips when the target has no Testiny API)."""
    if not target.target().serves("testiny"):
        pytest.skip("the target does not serve the Testiny API")
    from conformance import testiny

    return testiny.world()
