"""Rules, findings, deviations, advisory checks and the end-of-run summary.

* `@rule("ufdl.soft-delete.idempotent")` names the rule a scenario checks.
* A **finding** is one defect seen in one response (or one expectation of a scenario): the rule it
  breaks, the operation, what was expected and what came, the schemathesis checks the response
  fired and the curl line. A test collects all its findings (a scenario runs all its cases, a
  schema test all its generated cases) and fails once, listing them grouped by rule.
* Schema-layer findings are attributed to one rule per response: a named rule where the API's
  classifier recognises the defect (`ufdl.http.method-not-allowed-405` for a 500 on a wrong
  method), else `<api>.schema.<primary check>`; the other checks the same response fired are
  listed with it, not counted again.
* `@advisory("...")` marks a check that rests only on a decision of our mock (ufdl-observed.md §8,
  testiny-projects.md §10): against a live server its findings are reported, not counted.
* A deviations file (`--deviations FILE`, YAML `key: reason`) marks findings as expected. A key is
  a rule id (covering every finding of that rule, in scenarios and in the schema layer, with all
  the checks its responses fired), `<api>.schema.<check>[@<METHOD /path>]` (findings whose
  primary check that is), an operation (`POST /v1/projects/create`) or a test id (or its tail).
  A test whose findings are all expected is reported as xfailed with the reasons.

Findings travel on the test reports (`report.conformance`), so the summary and the report file
are complete under pytest-xdist too.
"""

from __future__ import annotations

import contextvars
import threading
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest
import yaml

CURRENT_NODE: contextvars.ContextVar[str | None] = contextvars.ContextVar("conformance_node", default=None)
CASES_SHOWN = 3  # per rule and operation in a failure message


def rule(rule_id: str) -> pytest.MarkDecorator:
    """Name the rule a scenario checks (shown in failures, JUnit properties and the summary)."""
    return pytest.mark.rule(rule_id)


def advisory(reason: str) -> pytest.MarkDecorator:
    """The check rests only on a decision of our mock: against a live server it only warns."""
    return pytest.mark.advisory(reason)


@dataclass
class Finding:
    rule: str
    operation: str  # "POST /v1/projects/list" (spec template), or the test's own label
    expected: str
    actual: str
    curl: str = ""
    checks: list[str] = field(default_factory=list)  # schemathesis checks the response fired, primary first
    api: str = ""
    status: str = "failed"  # failed | deviation | advisory
    reason: str = ""  # of a deviation or an advisory
    deviation: str = ""  # the deviations-file key that matched
    count: int = 1  # identical findings (same rule, operation, checks, status code) seen

    @property
    def signature(self) -> tuple:
        return self.rule, self.operation, tuple(self.checks), self.actual[:40]

    def render(self) -> str:
        lines = [f"[{self.rule}] {self.operation}"]
        if self.checks:
            lines.append(f"  checks:   {', '.join(self.checks)}")
        lines.append(f"  expected: {self.expected}")
        lines.append(f"  actual:   {self.actual}")
        if self.curl:
            lines.append(f"  request:  {self.curl}")
        if self.count > 1:
            lines.append(f"  (seen in {self.count} generated cases)")
        return "\n".join(lines)


class Collector:
    """Findings of the running tests, by test id (the schema layer records instead of raising)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_node: dict[str, list[Finding]] = defaultdict(list)

    def add(self, finding: Finding) -> None:
        node = CURRENT_NODE.get() or "?"
        with self.lock:
            found = self.by_node[node]
            for existing in found:
                if existing.signature == finding.signature:
                    existing.count += 1
                    return
            found.append(finding)

    def pop(self, node: str) -> list[Finding]:
        with self.lock:
            return self.by_node.pop(node, [])


COLLECTOR = Collector()


def record(finding: Finding) -> None:
    COLLECTOR.add(finding)


# -- deviations -------------------------------------------------------------------------------

@dataclass
class Deviations:
    entries: dict[str, str] = field(default_factory=dict)

    def load(self, path: Path | None) -> None:
        if path is None:
            return
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise pytest.UsageError(f"--deviations {path}: {exc}") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise pytest.UsageError(f"--deviations {path}: expected a YAML mapping of rule/test id to a reason string")
        self.entries = {str(k): v for k, v in data.items()}

    def match(self, finding: Finding, nodeid: str) -> tuple[str, str] | None:
        keys = [finding.rule, finding.operation]
        if finding.checks and finding.api:
            primary = finding.checks[0]
            keys += [f"{finding.api}.schema.{primary}@{finding.operation}", f"{finding.api}.schema.{primary}"]
        for key in keys:
            if key in self.entries:
                return key, self.entries[key]
        for key, reason in self.entries.items():
            if nodeid == key or nodeid.endswith("::" + key) or nodeid.endswith("/" + key):
                return key, reason
        return None


DEVIATIONS = Deviations()


def load_deviations(path: Path | None) -> None:
    DEVIATIONS.load(path)


# -- turning a test's outcome into findings ---------------------------------------------------

def item_rule(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("rule")
    return marker.args[0] if marker else None


def item_operation(item: pytest.Item) -> str | None:
    """`POST /v1/projects/create` for a schemathesis item (from its id), else None."""
    name = item.name
    if "[" in name and name.endswith("]") and " /" in name:
        return name[name.index("[") + 1: -1]
    return None


def first_lines(text: str, count: int = 3) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(ln.strip() for ln in lines[:count])


def findings_of_exception(item: pytest.Item, exc: BaseException) -> list[Finding] | None:
    """The findings a scenario's ConformanceFailure carries (None: not a conformance failure)."""
    from .client import ConformanceFailure

    if not isinstance(exc, ConformanceFailure):
        return None
    rule_id = item_rule(item) or item.nodeid
    found = []
    for f in exc.findings:
        found.append(Finding(rule=f.get("rule") or rule_id, operation=f.get("operation") or item.name,
                             expected=f.get("expected", ""), actual=f.get("actual", ""), curl=f.get("curl", ""),
                             api=f.get("api", "")))
    return found


def finish_report(item: pytest.Item, call: pytest.CallInfo, rep: pytest.TestReport, live: bool) -> None:
    """Attach the test's findings to its report and set the outcome they mean (failed, xfailed
    by deviations or advisory, passed), with a short failure text."""
    rule_id = item_rule(item)
    operation = item_operation(item)
    if rep.when == "call":
        if rule_id:
            item.user_properties.append(("rule", rule_id))
        if operation:
            item.user_properties.append(("operation", operation))
    label = rule_id or (f"{item_operation(item)} (schema checks)" if operation else item.name)
    if rep.when != "call":
        rep.conformance = {"rule": rule_id, "label": label, "findings": []}
        return
    findings = COLLECTOR.pop(item.nodeid)
    if call.excinfo is not None and _held_back(call.excinfo.value):
        from .settings import SETTINGS

        if SETTINGS.read_only:  # the scenario needs a request --read-only does not send
            path, line, _ = item.location
            rep.outcome, rep.longrepr = "skipped", (path, (line or 0) + 1, f"--read-only: {call.excinfo.value}")
            rep.conformance = {"rule": rule_id, "label": label, "findings": []}
            return
    if call.excinfo is not None and not rep.skipped:
        from_exc = findings_of_exception(item, call.excinfo.value)
        if from_exc is None:  # an error of the test itself (or a raw check failure): keep pytest's report
            rep.conformance = {"rule": rule_id, "label": label, "findings": [asdict(f) for f in findings]}
            return
        findings.extend(from_exc)
    advisory_marker = item.get_closest_marker("advisory")
    for finding in findings:
        if finding.status == "advisory":
            continue
        matched = DEVIATIONS.match(finding, item.nodeid)
        if matched:
            finding.status, finding.deviation, finding.reason = "deviation", matched[0], matched[1]
        elif advisory_marker and live:
            finding.status, finding.reason = "advisory", advisory_marker.args[0]
    rep.conformance = {"rule": rule_id, "label": label, "findings": [asdict(f) for f in findings]}
    for finding in findings:
        item.user_properties.append(("failure" if finding.status == "failed" else finding.status, finding.rule))
    failed = [f for f in findings if f.status == "failed"]
    if failed:
        rep.outcome = "failed"
        rep.longrepr = render_findings(findings)
    elif findings:
        rep.outcome = "skipped"
        rep.wasxfail = "; ".join(sorted({f"{f.status} {f.deviation or f.rule}: {f.reason}" for f in findings}))[:1000]
        rep.longrepr = None


def _held_back(exc: BaseException) -> bool:
    from .safety import UnsafeRequest

    return isinstance(exc, UnsafeRequest)


def render_findings(findings: list[Finding]) -> str:
    """Failure text: unexpected findings first, grouped by rule; a few cases each."""
    failed = [f for f in findings if f.status == "failed"]
    other = [f for f in findings if f.status != "failed"]
    rules = list(dict.fromkeys(f.rule for f in failed))
    lines = [f"{len(rules)} rule(s) broken: {', '.join(rules)}" if len(rules) > 1 else ""]
    shown: Counter = Counter()
    for rule_id in rules:
        for finding in (f for f in failed if f.rule == rule_id):
            shown[(finding.rule, finding.operation)] += 1
            if shown[(finding.rule, finding.operation)] > CASES_SHOWN:
                continue
            lines.append(finding.render())
        hidden = sum(max(n - CASES_SHOWN, 0) for (r, _), n in shown.items() if r == rule_id)
        if hidden:
            lines.append(f"  ... and {hidden} more case(s) of {rule_id}")
    for finding in other:
        lines.append(f"(also {finding.status}: [{finding.rule}] {finding.operation} - {finding.reason[:200]})")
    return "\n".join(line for line in lines if line)


# -- the run's ledger (built from reports: complete under xdist) -------------------------------

@dataclass
class Ledger:
    findings: list[tuple[str, Finding]] = field(default_factory=list)  # (nodeid, finding)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (nodeid, first lines) of non-conformance failures
    passed_rules: set[str] = field(default_factory=set)
    deviation_keys_used: set[str] = field(default_factory=set)
    headers: list[str] = field(default_factory=list)
    worker_lines: list[str] = field(default_factory=list)

    def add_report(self, report: pytest.TestReport) -> None:
        data = getattr(report, "conformance", None)
        if data is None:
            return
        for raw in data.get("findings", []):
            self.findings.append((report.nodeid, Finding(**raw)))
            if raw.get("deviation"):
                self.deviation_keys_used.add(raw["deviation"])
        if report.when == "call" and report.passed:
            self.passed_rules.add(data.get("rule") or data.get("label") or report.nodeid)
        if report.failed and not data.get("findings"):
            self.errors.append((report.nodeid, first_lines(str(report.longrepr), 3)))


LEDGER = Ledger()


def defects() -> dict[str, dict[str, list[Finding]]]:
    """status -> rule -> findings."""
    grouped: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for _, finding in LEDGER.findings:
        grouped[finding.status][finding.rule].append(finding)
    return grouped


def summary_lines(header: list[str], stats: dict[str, int], skips: Counter, tail: list[str]) -> list[str]:
    lines = list(header)
    grouped = defects()
    titles = {"failed": "FAILED RULES (each a distinct defect; operations where it showed)",
              "deviation": "EXPECTED FAILURES (deviations file)",
              "advisory": "ADVISORY (rests on a decision of our mock; not a failure on a live server)"}
    for status, title in titles.items():
        rules = grouped.get(status) or {}
        if not rules:
            continue
        lines.append(f"{title}:")
        for rule_id in sorted(rules):
            found = rules[rule_id]
            by_op: dict[str, list[Finding]] = defaultdict(list)
            for finding in found:
                by_op[finding.operation].append(finding)
            cases = sum(f.count for f in found)
            lines.append(f"  {rule_id}  ({cases} case(s) in {len(by_op)} operation(s))"
                         + (f" - {found[0].reason}" if found[0].reason else ""))
            for op, op_findings in sorted(by_op.items()):
                first = op_findings[0]
                lines.append(f"      {op}: {first.actual[:160]}")
                if status == "failed" and first.curl:
                    lines.append(f"        {first.curl[:300]}")
    if LEDGER.errors:
        lines.append("ERRORS (the test itself failed; not a finding of a rule):")
        for nodeid, text in LEDGER.errors:
            lines.append(f"  {nodeid}: {text[:300]}")
    unused = sorted(set(DEVIATIONS.entries) - LEDGER.deviation_keys_used)
    no_longer = sorted(k for k in unused if k in LEDGER.passed_rules)
    if no_longer:
        lines.append("DEVIATIONS NO LONGER NEEDED (the rule passed): " + ", ".join(no_longer))
    unmatched = sorted(set(unused) - set(no_longer))
    if unmatched:
        lines.append("DEVIATIONS THAT MATCHED NOTHING: " + ", ".join(unmatched))
    if not grouped.get("failed") and not LEDGER.errors:
        lines.append("no failures")
    if skips:
        lines.append("SKIPPED (not checked on this target):")
        lines.extend(f"  {count} x {reason}" for reason, count in sorted(skips.items()))
    lines.extend(tail)
    counts = ", ".join(f"{n} {k}" for k, n in stats.items() if n)
    failed_rules = len(grouped.get("failed") or {})
    lines.append(f"tests: {counts or 'none'}; distinct defects: {failed_rules}")
    return lines


__all__ = ["COLLECTOR", "DEVIATIONS", "LEDGER", "Finding", "advisory", "record", "rule"]
