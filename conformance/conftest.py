"""Options, target, reporting and cleanup of the conformance suite (see README.md here).

`pytest conformance` starts the mock in-process (empty) and checks every API it serves;
`pytest conformance --base-url URL --api ufdl|testiny` checks a live server instead. Under
pytest-xdist (`-n auto`) every worker has its own target, records and cleanup; findings travel on
the test reports and each worker's cleanup lines in its output, so the summary is complete.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:  # `conformance.*` imports work from any cwd and under --import-mode=importlib
    sys.path.insert(0, ROOT)

from conformance import fuzz, report_file, reporting, safety, settings, target  # noqa: E402
from conformance.cleanup import REGISTRY, purge_mock  # noqa: E402
from conformance.client import CURRENT_RULE  # noqa: E402

MARKERS = (
    "rule(id): the rule a conformance scenario checks (shown in failures, JUnit and the summary)",
    "advisory(reason): the check rests only on a decision of our mock; on a live server a failure only warns",
)
RUN_ID_ENV = "CONFORMANCE_RUN_ID"  # the controller's run id, shared with its xdist workers
WORKER_KEY = "conformance"


def pytest_addoption(parser: pytest.Parser) -> None:
    settings.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    worker = getattr(config, "workerinput", None)
    if worker is None:
        os.environ[RUN_ID_ENV] = settings.SETTINGS.run_id
    else:  # one prefix per worker under the controller's run id: isolated, and purged together
        settings.SETTINGS.run_id = f"{os.environ.get(RUN_ID_ENV, settings.SETTINGS.run_id)}-{worker['workerid']}"
    settings.configure(config)
    reporting.load_deviations(settings.SETTINGS.deviations_file)


def pytest_unconfigure(config: pytest.Config) -> None:
    REGISTRY.run()
    target.shutdown()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not settings.SETTINGS.rules:
        return
    wanted = settings.SETTINGS.rules
    dropped = [i for i in items if _ours(i) and not any(fnmatch(reporting.item_rule(i) or "", g) for g in wanted)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        dropped_ids = {id(i) for i in dropped}
        items[:] = [i for i in items if id(i) not in dropped_ids]


def _ours(item: pytest.Item) -> bool:
    return Path(str(item.fspath)).resolve().is_relative_to(Path(__file__).resolve().parent)


@pytest.fixture(autouse=True)
def _current_rule(request: pytest.FixtureRequest):
    """Makes the rule id and test id available to failure messages and findings."""
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


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    reporting.LEDGER.add_report(report)  # on the controller under xdist: reports carry the findings


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    tgt = target.resolved()
    if tgt is not None and tgt.is_mock:  # removes what the APIs cannot; runs after the API cleaners
        REGISTRY.on_cleanup("mock-purge", lambda: purge_mock(tgt.root_url))
    lines = [*fuzz.unsent_lines(), *safety.HELD.lines(), *REGISTRY.run()]  # before the in-process mock stops, also after failures or Ctrl-C
    header = _header(tgt)
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput[WORKER_KEY] = {"header": header, "lines": lines}
    else:
        reporting.LEDGER.worker_lines.extend(lines)
        reporting.LEDGER.headers.extend(header)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # pytest-xdist: a worker finished
    output = getattr(node, "workeroutput", {}).get(WORKER_KEY, {})
    worker = getattr(node, "gateway", None)
    label = f"[{worker.id}] " if worker is not None else ""
    reporting.LEDGER.headers.extend(label + line for line in output.get("header", []))
    reporting.LEDGER.worker_lines.extend(label + line for line in output.get("lines", []))


def _header(tgt: target.Target | None) -> list[str]:
    if tgt is None:
        return []
    s = settings.SETTINGS
    mode = " (read-only)" if s.read_only else ""
    return [f"target: {tgt.kind}{mode} {tgt.root_url}; APIs: {', '.join(tgt.apis) or 'none'}; "
            f"names start with {s.prefix}"]


STAT_KEYS = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "deselected")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if config.option.collectonly or hasattr(config, "workerinput"):
        return
    ledger = reporting.LEDGER
    if not ledger.headers and not ledger.findings and not ledger.worker_lines:
        return
    stats = {key: len(terminalreporter.stats.get(key, [])) for key in STAT_KEYS}  # what pytest's last line counts
    skips: Counter = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        skips[reason.removeprefix("Skipped: ")] += 1
    lines = reporting.summary_lines(ledger.headers, stats, skips, ledger.worker_lines)
    terminalreporter.write_sep("=", "conformance summary")
    for line in lines:
        terminalreporter.write_line(line)
    path = settings.SETTINGS.report_file
    if path is not None:
        report_file.write(path, ledger.headers, stats, skips, ledger.worker_lines)
        terminalreporter.write_line(f"report written to {path}")


@pytest.fixture(scope="session")
def ufdl_world():
    """The UFDL account, team and helpers of this run (skips when the target has no UFDL API)."""
    if not target.target().serves("ufdl"):
        pytest.skip("the target does not serve the UFDL API")
    from conformance import ufdl

    return ufdl.world()


@pytest.fixture(scope="session")
def ufdl_members(ufdl_world):
    """A team of this run with one user per membership level (R, X, W, A) and an outsider: the
    users the permission scenarios act as (made once per run: on a live server users stay)."""
    from types import SimpleNamespace

    w = ufdl_world
    w.require_accounts()
    pk = w.new_team("perm-team")
    members = {}
    for level in ("R", "X", "W", "A"):
        session = w.new_user(f"user-{level.lower()}")
        w.add_member(pk, session, level)
        members[level] = session
    outsider = w.new_user("outsider")
    return SimpleNamespace(w=w, pk=pk, members=members, outsider=outsider)


@pytest.fixture(scope="session")
def testiny_world():
    """The Testiny key and helpers of this run (skips when the target has no Testiny API)."""
    if not target.target().serves("testiny"):
        pytest.skip("the target does not serve the Testiny API")
    from conformance import testiny

    return testiny.world()
