"""The report: tables of the rows, the targets and their verdicts, machine facts, and bench/RESULTS.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
from pathlib import Path
from typing import Any

from measure import Row
from plumbing import APIS, BENCH, PRISM_VERSION, WIREMOCK_VERSION, log, mock_version, run_quiet
from workloads import plan

# -- report ------------------------------------------------------------------------------------

TARGETS = [
    # (id, workload per API, kind, threshold, description)
    ("get", {"ufdl": "get", "testiny": "read"}, "ratio", 0.8, "GET one project: req/s >= 0.8x ceiling"),
    ("mix", {"ufdl": "mix", "testiny": "mix"}, "ratio", 0.75, "80/20 GET/write mix: req/s >= 0.75x ceiling"),
    ("create", {"ufdl": "create", "testiny": "create"}, "ratio", 0.6, "create: req/s >= 0.6x ceiling"),
    ("list", {"ufdl": "list-1k", "testiny": "find-1k"}, "ratio", 0.8, "list of 1k projects: req/s >= 0.8x ceiling"),
    ("filter", {"ufdl": "list-100k-filter", "testiny": "find-100k-filter"}, "p50", 20.0,
     "filtered list over 100k (100 match): p50 < 20 ms (1 connection)"),
]
P99_LIMIT_MS = 5.0
RSS_LIMIT_MB = 250.0


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def find(rows: list[Row], api: str, workload: str, server: str) -> Row | None:
    return next((r for r in rows if (r.api, r.workload, r.server) == (api, workload, server)), None)


def result_table(rows: list[Row], servers: list[str]) -> list[list[str]]:
    header = ["API", "workload", "conns", "server", "req/s", "p50 ms", "p99 ms", "errors", "KB/resp",
              "x ceiling", "x Prism", "x WireMock", "srv CPU", "others", "check"]
    table = [header]
    seen: list[tuple[str, str]] = []
    for r in rows:
        if (r.api, r.workload) not in seen:
            seen.append((r.api, r.workload))
    for api, workload in seen:
        base = {s: find(rows, api, workload, s) for s in ("ceiling", "prism", "wiremock")}
        for server in servers:
            r = find(rows, api, workload, server)
            if r is None:
                continue
            if r.skipped:
                table.append([api, workload, str(r.connections), server, "skipped", "", "", "", "", "", "", "",
                              "", "", r.skipped[:60]])
                continue
            errors = str(r.error_count) if not r.errors else f"{r.error_count} ({', '.join(r.errors)})"
            table.append([
                api, workload, str(r.connections), server, fmt(r.rps), fmt(r.p50_ms, 2), fmt(r.p99_ms, 2), errors,
                fmt(r.kb_per_response, 1),
                *[ratio(r.rps, base[s].rps if base[s] else None) for s in ("ceiling", "prism", "wiremock")],
                pct(r.server_cpu), pct(r.other_cpu),
                r.check[:80] or ", ".join(x for x in (r.note, "noisy" if r.noisy else "") if x) or "ok",
            ])
    return table


def target_rows(rows: list[Row], report: dict[str, Any]) -> list[list[str]]:
    table = [["API", "target", "measured", "x Prism", "x WireMock", "verdict"]]
    apis = sorted({r.api for r in rows}, key=APIS.index)
    for api in apis:
        for _, names, kind, limit, text in TARGETS:
            name = names[api]
            mock, ceiling = find(rows, api, name, "mock"), find(rows, api, name, "ceiling")
            prism, wiremock = find(rows, api, name, "prism"), find(rows, api, name, "wiremock")
            if mock is None or mock.skipped or mock.rps is None:
                table.append([api, text, "not measured", "", "", "n/a"])
                continue
            if kind == "ratio":
                if ceiling is None or not ceiling.rps:
                    table.append([api, text, f"mock {fmt(mock.rps)} req/s, no ceiling", "", "", "n/a"])
                    continue
                value = mock.rps / ceiling.rps
                ok = value >= limit
                measured = f"{value:.3f}x ({fmt(mock.rps)} vs {fmt(ceiling.rps)} req/s)"
            else:
                ok = mock.p50_ms is not None and mock.p50_ms < limit
                measured = f"p50 {fmt(mock.p50_ms, 1)} ms, p99 {fmt(mock.p99_ms, 1)} ms"
                if ceiling is not None and ceiling.p50_ms:
                    measured += f" (ceiling p50 {fmt(ceiling.p50_ms, 1)} ms)"
            verdict = "PASS" if ok and not mock.error_count and not mock.check else "MISS"
            if ok and (mock.error_count or mock.check):
                verdict += " (errors)"
            if mock.noisy or (kind == "ratio" and ceiling.noisy):
                verdict += " (noisy)"
            table.append([api, text, measured, ratio(mock.rps, prism.rps if prism else None),
                          ratio(mock.rps, wiremock.rps if wiremock else None), verdict])
        singles = [r for r in rows if r.api == api and r.server == "mock" and not r.skipped and r.p99_ms is not None
                   and any(w.single and w.name == r.workload for w in plan(api))]
        if singles:
            worst = max(singles, key=lambda r: r.p99_ms)
            ok = worst.p99_ms < P99_LIMIT_MS
            measured = ", ".join(f"{r.workload} {r.p99_ms:.1f}" for r in singles) + " ms"
            table.append([api, "single-project calls: p99 < 5 ms at 32 connections", measured, "", "",
                          "PASS" if ok else f"MISS ({worst.workload})"])
        memory = next((m for m in report["memory"] if m["server"] == "mock" and m["api"] == api), None)
        if memory and memory.get("seeded"):
            values = [memory["seeded"]["rss_kb"] / 1024]
            measured = f"{values[0]:.0f} MB after the seed"
            if memory.get("after_load"):
                values.append(memory["after_load"]["rss_kb"] / 1024)
                peak = memory["after_load"]["hwm_kb"] / 1024
                measured += f", {values[1]:.0f} MB after the 100k workloads (peak {peak:.0f} MB)"
            ok = max(values) < RSS_LIMIT_MB
            table.append([api, "RSS at 100k projects < 250 MB", measured, "", "", "PASS" if ok else "MISS"])
        else:
            table.append([api, "RSS at 100k projects < 250 MB", "not measured", "", "", "n/a"])
    return table


def memory_table(report: dict[str, Any]) -> list[list[str]]:
    table = [["API", "server", "RSS after seeding 100k", "RSS after the 100k workloads", "peak RSS", "seed time"]]
    for m in report["memory"]:
        seeded, after = m.get("seeded") or {}, m.get("after_load") or {}
        table.append([m["api"], m["server"], fmt(seeded.get("rss_kb", 0) / 1024) + " MB",
                      fmt(after.get("rss_kb", 0) / 1024) + " MB", fmt(after.get("hwm_kb", 0) / 1024) + " MB",
                      f"{m.get('seed_seconds', 0):.1f} s"])
    return table


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_report(tables: list[list[list[str]]], targets: list[list[str]], seconds: float) -> int:
    """Print the tables and the targets; the exit status: 0 when every target passes."""
    for table in [*tables, targets]:
        print()
        print(render_text(table))
    print(f"\n{seconds:.0f} s")
    return 0 if all(row[-1] == "PASS" for row in targets[1:]) else 1


def write_results_section(heading: str, lines: list[str]) -> None:
    """Replace the section `## {heading}` of bench/RESULTS.md with `lines` (added before
    "## Machine" when it is not there yet)."""
    results = BENCH / "RESULTS.md"
    text = results.read_text()
    section = "\n".join([f"## {heading}", "", *lines])
    pattern = re.compile(r"## " + re.escape(heading) + r"\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _: section.rstrip("\n") + "\n", text) if pattern.search(text) else \
        text.replace("\n## Machine", "\n" + section + "\n## Machine", 1)
    results.write_text(text)
    log(f"bench: figures written to bench/RESULTS.md ({heading})")


def render_text(table: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for n, row in enumerate(table):
        cells = [cell.rjust(w) if _numeric(cell) else cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(table: list[list[str]]) -> str:
    lines = ["| " + " | ".join(table[0]) + " |", "|" + "|".join("---" for _ in table[0]) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in table[1:]]
    return "\n".join(lines)


def _numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,.]+[x%]?|-", cell))


def machine_facts(args: argparse.Namespace, servers: list[str]) -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    probe = ("import sys, aiohttp\nv = {'python': sys.version.split()[0], 'aiohttp': aiohttp.__version__}\n"
             "for m in ('orjson', 'uvloop'):\n"
             "    try: v[m] = __import__(m).__version__\n"
             "    except ImportError: v[m] = 'not installed'\n"
             "print(__import__('json').dumps(v))")
    try:
        versions = json.loads(run_quiet([args.python, "-c", probe]) or "{}")
    except ValueError:
        versions = {}
    facts = {
        "cpu": f"{os.cpu_count()} x {cpu}",
        "nproc": run_quiet(["nproc"]),
        "kernel": platform.release(),
        "memory": next((line.split(":", 1)[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()
                        if line.startswith("MemTotal")), "?"),
        **{k: str(v) for k, v in versions.items()},
        "mock event loop": args.loop + (" (mockserver does not use uvloop)" if args.loop == "asyncio" else ""),
        "mock JSON": "orjson" if versions.get("orjson", "not installed") != "not installed" else "stdlib json",
        "mock commit": mock_version(),
        "wrk": run_quiet([args.wrk, "-v"]).splitlines()[0] if run_quiet([args.wrk, "-v"]) else "?",
        "pinning": f"server on CPU {args.server_cpu}, wrk (1 thread) on CPU {args.client_cpu}"
                   + (f", both at nice {args.nice}" if args.nice else ""),
        "duration": f"{args.warmup:g} s warm-up + {args.duration:g} s measured per workload "
                    f"(after {args.server_warmup:g} s of warm-up per server)",
    }
    if "prism" in servers:
        facts["node"] = run_quiet(["node", "--version"])
        facts["prism"] = f"@stoplight/prism-cli {PRISM_VERSION}"
    if "wiremock" in servers:
        facts["java"] = run_quiet(["java", "-version"]).splitlines()[0] if shutil.which("java") else "?"
        facts["wiremock"] = f"wiremock {WIREMOCK_VERSION} (npm), standalone jar, --no-request-journal"
    return facts
