"""The report to attach to a CI run (`--report FILE`): results grouped by rule — failed, expected
failure (deviations file), advisory, passed — with the curl line of each failure; Markdown, or a
self-contained HTML page when FILE ends in `.html`."""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

from .reporting import LEDGER, Finding, defects

SECTIONS = (("failed", "Failed rules"), ("deviation", "Expected failures (deviations file)"),
            ("advisory", "Advisory (rests on a decision of our mock)"))
CASES_PER_OPERATION = 3


def markdown(headers: list[str], stats: dict[str, int], skips: Counter, tail: list[str]) -> str:
    grouped = defects()
    out = ["# Conformance report", "", f"Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.", ""]
    out += [f"- {h}" for h in headers]
    counts = ", ".join(f"{n} {k}" for k, n in stats.items() if n)
    out += [f"- tests: {counts or 'none'}", f"- distinct defects: {len(grouped.get('failed') or {})}", ""]
    for status, title in SECTIONS:
        rules = grouped.get(status) or {}
        out += [f"## {title} ({len(rules)})", ""]
        if not rules:
            out += ["None.", ""]
        for rule_id in sorted(rules):
            out += _rule_markdown(rule_id, rules[rule_id], with_curl=status != "advisory")
    with_findings = {rule_id for rules in grouped.values() for rule_id in rules}
    passed = sorted(LEDGER.passed_rules - with_findings)
    out += [f"## Passed ({len(passed)})", ""] + [f"- `{name}`" for name in passed] + [""]
    if skips:
        out += ["## Skipped", ""] + [f"- {count} x {reason}" for reason, count in sorted(skips.items())] + [""]
    if tail:
        out += ["## Safety and cleanup", ""] + [f"- {line}" for line in tail] + [""]
    return "\n".join(out)


def _rule_markdown(rule_id: str, findings: list[Finding], with_curl: bool) -> list[str]:
    by_op: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_op[finding.operation].append(finding)
    cases = sum(f.count for f in findings)
    out = [f"### `{rule_id}`", "", f"{cases} case(s) in {len(by_op)} operation(s)."
           + (f" Reason: {findings[0].reason}" if findings[0].reason else ""), ""]
    for op, op_findings in sorted(by_op.items()):
        out.append(f"- **{op}**")
        for finding in op_findings[:CASES_PER_OPERATION]:
            checks = f" (checks: {', '.join(finding.checks)})" if finding.checks else ""
            out.append(f"  - expected {finding.expected}; got {finding.actual}{checks}")
            if with_curl and finding.curl:
                out += ["", "    ```bash", f"    {finding.curl}", "    ```", ""]
        if len(op_findings) > CASES_PER_OPERATION:
            out.append(f"  - ... {len(op_findings) - CASES_PER_OPERATION} more")
    out.append("")
    return out


def as_html(text: str) -> str:
    """The Markdown above as a plain HTML page (headings, lists and code blocks only)."""
    body, in_code = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            body.append("</code></pre>" if in_code else "<pre><code>")
            in_code = not in_code
        elif in_code:
            body.append(html.escape(stripped))
        elif stripped.startswith("#"):
            level = len(stripped) - len(stripped.lstrip("#"))
            body.append(f"<h{level}>{_inline(stripped[level:].strip())}</h{level}>")
        elif stripped.startswith("- "):
            indent = "margin-left:2em" if line.startswith("  ") else ""
            body.append(f'<div style="{indent}">&bull; {_inline(stripped[2:])}</div>')
        elif stripped:
            body.append(f"<p>{_inline(stripped)}</p>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Conformance report</title>"
            "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}pre{background:#f4f4f4;"
            "padding:.5em;white-space:pre-wrap}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _inline(text: str) -> str:
    escaped = html.escape(text)
    parts = escaped.split("`")
    escaped = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    parts = escaped.split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))


def write(path: Path, headers: list[str], stats: dict[str, int], skips: Counter, tail: list[str]) -> None:
    text = markdown(headers, stats, skips, tail)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(as_html(text) if path.suffix.lower() in (".html", ".htm") else text, encoding="utf-8")
