"""Rules, advisory checks, deviations and the end-of-run summary.

* `@rule("ufdl.soft-delete.idempotent")` names the rule a scenario checks. The id starts every
  failure message, is recorded as a JUnit property (`rule`) and groups the summary.
* `@advisory("...")` marks a check that rests only on a decision of our mock (ufdl-observed.md §8,
  testiny-projects.md §10). Against a live server a failure becomes an expected failure (xfail)
  with the reason, listed in the summary; against the in-process mock it is a plain failure.
* A deviations file (`--deviations FILE`, YAML `key: reason`) turns accepted differences of a live
  server into expected failures with the reason. A key is a rule id, a test id (or its tail), an
  operation (`POST /v1/projects/create`), or a schema check: `ufdl.schema.<check>` (every
  operation) or `ufdl.schema.<check>@<METHOD /path>` (one operation).
"""

from __future__ import annotations

import contextvars
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

CURRENT_NODE: contextvars.ContextVar[str | None] = contextvars.ContextVar("conformance_node", default=None)


def rule(rule_id: str) -> pytest.MarkDecorator:
    """Name the rule a scenario checks (shown in failures, JUnit properties and the summary)."""
    return pytest.mark.rule(rule_id)


def advisory(reason: str) -> pytest.MarkDecorator:
    """The check rests only on a decision of our mock: against a live server it only warns."""
    return pytest.mark.advisory(reason)


@dataclass
class Note:
    kind: str  # "advisory" or "deviation"
    key: str
    reason: str
    detail: str


@dataclass
class Outcome:
    nodeid: str
    keys: list[str]
    outcome: str  # failed, xfailed, xpassed-deviation
    message: str


@dataclass
class Ledger:
    deviations: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[Note]] = field(default_factory=lambda: defaultdict(list))
    outcomes: list[Outcome] = field(default_factory=list)
    used_deviations: set[str] = field(default_factory=set)
    skips: dict[str, int] = field(default_factory=lambda: defaultdict(int))


LEDGER = Ledger()


def load_deviations(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise pytest.UsageError(f"--deviations {path}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise pytest.UsageError(f"--deviations {path}: expected a YAML mapping of rule/test id to a reason string")
    LEDGER.deviations = {str(k): v for k, v in data.items()}
    return LEDGER.deviations


def item_rule(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("rule")
    return marker.args[0] if marker else None


def item_operation(item: pytest.Item) -> str | None:
    """`POST /v1/projects/create` for a schemathesis item (from its id), else None."""
    name = item.name
    if "[" in name and name.endswith("]") and " /" in name:
        return name[name.index("[") + 1: -1]
    return None


def deviation_for_item(item: pytest.Item) -> tuple[str, str] | None:
    keys = [item_rule(item), item_operation(item)]
    for key, reason in LEDGER.deviations.items():
        if key in keys or item.nodeid == key or item.nodeid.endswith("::" + key) or item.nodeid.endswith("/" + key):
            return key, reason
    return None


def deviation_for_check(api: str, check: str, operation: str) -> tuple[str, str] | None:
    for key in (f"{api}.schema.{check}@{operation}", f"{api}.schema.{check}"):
        if key in LEDGER.deviations:
            return key, LEDGER.deviations[key]
    return None


def note(kind: str, key: str, reason: str, detail: str) -> None:
    node = CURRENT_NODE.get()
    if node is not None and all((n.kind, n.key, n.detail) != (kind, key, detail) for n in LEDGER.notes[node]):
        LEDGER.notes[node].append(Note(kind, key, reason, detail))
        if kind == "deviation":
            LEDGER.used_deviations.add(key)


def apply_deviations(items: list[pytest.Item]) -> None:
    for item in items:
        found = deviation_for_item(item)
        if found:
            key, reason = found
            LEDGER.used_deviations.add(key)
            item.add_marker(pytest.mark.xfail(reason=f"deviation {key}: {reason}", strict=False))


def first_lines(text: str, count: int = 3) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(ln.strip() for ln in lines[:count])


def failure_keys(item: pytest.Item, call: pytest.CallInfo) -> list[str]:
    rule_id = item_rule(item)
    if rule_id:
        return [rule_id]
    operation = item_operation(item)
    checks = failed_checks(call.excinfo.value) if call.excinfo else []
    if operation:
        return [f"{operation} [{', '.join(checks) or 'error'}]"]
    return [item.nodeid]


def failed_checks(exc: BaseException) -> list[str]:
    found: list[str] = []
    for failure in getattr(exc, "exceptions", ()) or ():
        names = getattr(failure, "checks", ()) or (type(failure).__name__,)
        for name in names[:1]:
            if name not in found:
                found.append(name)
    return found


def finish_report(item: pytest.Item, call: pytest.CallInfo, rep: pytest.TestReport, live: bool) -> None:
    if rep.skipped and not hasattr(rep, "wasxfail"):
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        LEDGER.skips[reason.removeprefix("Skipped: ")] += 1
        return
    if rep.when != "call":
        if rep.failed:
            LEDGER.outcomes.append(Outcome(item.nodeid, [item_rule(item) or item.nodeid], "error",
                                           first_lines(str(rep.longrepr), 2)))
        return
    rule_id = item_rule(item)
    # junitxml writes the properties of the teardown report, which copies item.user_properties
    if rule_id:
        item.user_properties.append(("rule", rule_id))
    operation = item_operation(item)
    if operation:
        item.user_properties.append(("operation", operation))
    advisory_marker = item.get_closest_marker("advisory")
    if rep.failed:
        keys = failure_keys(item, call)
        message = str(call.excinfo.value) if call.excinfo else str(rep.longrepr)
        for key in keys:
            item.user_properties.append(("failure", key))
        if advisory_marker and live:
            reason = f"advisory ({advisory_marker.args[0]}): {first_lines(message, 3)}"
            rep.outcome = "skipped"
            rep.wasxfail = reason
            LEDGER.outcomes.append(Outcome(item.nodeid, keys, "advisory", reason))
        else:
            LEDGER.outcomes.append(Outcome(item.nodeid, keys, "failed", first_lines(message, 4)))
        return
    if hasattr(rep, "wasxfail"):
        kind = "xfailed" if rep.skipped else "xpassed"
        LEDGER.outcomes.append(Outcome(item.nodeid, [rule_id or operation or item.nodeid], kind, rep.wasxfail))
        return
    notes = LEDGER.notes.get(item.nodeid)
    if rep.passed and notes:
        reason = "; ".join(f"{n.kind} {n.key}: {n.reason} ({n.detail})" for n in notes[:3])
        rep.outcome = "skipped"
        rep.wasxfail = reason
        for n in notes:
            LEDGER.outcomes.append(Outcome(item.nodeid, [n.key], n.kind, f"{n.reason} ({n.detail})"))


def summary_lines(header: list[str], cleanup: list[str]) -> list[str]:
    lines = list(header)
    groups: dict[str, dict[str, list[Outcome]]] = {"failed": defaultdict(list), "error": defaultdict(list),
                                                   "xfailed": defaultdict(list), "deviation": defaultdict(list),
                                                   "advisory": defaultdict(list), "xpassed": defaultdict(list)}
    for outcome in LEDGER.outcomes:
        for key in outcome.keys:
            groups.setdefault(outcome.outcome, defaultdict(list))[key].append(outcome)
    titles = {
        "failed": "FAILURES by rule / operation",
        "error": "ERRORS (setup/teardown)",
        "xfailed": "EXPECTED FAILURES (deviations file)",
        "deviation": "EXPECTED FAILURES (deviations file, schema checks)",
        "advisory": "ADVISORY (rests on a mock decision; not a failure on a live server)",
        "xpassed": "DEVIATIONS NO LONGER NEEDED (passed although listed)",
    }
    for kind, title in titles.items():
        group = groups.get(kind) or {}
        if not group:
            continue
        lines.append(f"{title}:")
        for key in sorted(group):
            entries = group[key]
            lines.append(f"  {key}  ({len(entries)})")
            for entry in entries[:2]:
                lines.append(f"      {entry.nodeid}")
                lines.append(f"        {entry.message[:300]}")
    unused = sorted(set(LEDGER.deviations) - LEDGER.used_deviations)
    if unused:
        lines.append("DEVIATIONS THAT MATCHED NOTHING: " + ", ".join(unused))
    if not any(groups.values()):
        lines.append("no failures")
    if LEDGER.skips:
        lines.append("SKIPPED (not checked on this target):")
        lines.extend(f"  {count} x {reason}" for reason, count in sorted(LEDGER.skips.items()))
    lines.extend(cleanup)
    return lines


def outcome_counts() -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for outcome in LEDGER.outcomes:
        counts[outcome.outcome] += 1
    return dict(counts)


__all__ = ["LEDGER", "advisory", "rule"]
