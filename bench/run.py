"""Benchmark the mock against a bare aiohttp ceiling, Prism and WireMock, in one run.

    python bench/run.py                      # everything: 4 servers x 2 APIs x all workloads
    python bench/run.py --quick              # a few seconds per workload (smoke run)
    python bench/run.py --quick --only mock,ceiling   # no npm, Node or Java needed

Each server is pinned to one core (taskset, --server-cpu) and loaded by `wrk` pinned to another
(--client-cpu), one wrk thread. Every workload gets a warm-up of its own before it is measured
(the JIT of WireMock needs it). See bench/README.md for the workloads and the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from measure import Row, bench_api
from plumbing import APIS, CACHE, SERVERS, ensure_wrk, log, mock_event_loop
from report import machine_facts, memory_table, render_markdown, render_text, result_table, target_rows
from workloads import plan

# -- main --------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the mock against a bare aiohttp ceiling, Prism and "
                                                 "WireMock (see bench/README.md).")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s per workload after 1 s of warm-up")
    parser.add_argument("--only", default=",".join(SERVERS),
                        help=f"servers to run, comma-separated (default: {','.join(SERVERS)})")
    parser.add_argument("--apis", default=",".join(APIS), help="APIs to run (default: ufdl,testiny)")
    parser.add_argument("--workloads", default="", help="only these workloads, comma-separated (e.g. get,list-1k)")
    parser.add_argument("--duration", type=float, help="measured seconds per workload (default 10, quick 3)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per workload (default 3, quick 1)")
    parser.add_argument("--server-warmup", type=float,
                        help="seconds of the first workload on each server after its start, before any measurement "
                             "(default 15, quick 3)")
    parser.add_argument("--server-cpu", type=int, default=0, help="core the servers are pinned to (default 0)")
    parser.add_argument("--client-cpu", type=int, default=1, help="core wrk is pinned to (default 1)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter for the mock and the ceiling (default: this one; needs aiohttp)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each workload N times per server, interleaved, and keep the best (default 1)")
    parser.add_argument("--quiet-threshold", type=float, default=25.0, metavar="PCT",
                        help="a run is 'noisy' when other processes use more than PCT %% of the server core "
                             "(default 25)")
    parser.add_argument("--quiet-wait", type=float, metavar="S",
                        help="before each run, wait up to S s for the server core to go below the threshold "
                             "(default 30, or 0 with --nice: boosted runs do not need to wait)")
    parser.add_argument("--nice", type=int, default=0, metavar="N",
                        help="run the servers and wrk at this nice level, their sessions' autogroups too "
                             "(e.g. -15 as root on a machine shared with other work)")
    parser.add_argument("--testiny-force", action="store_true",
                        help="Testiny updates use ?force=true instead of tracking each project's current _etag")
    parser.add_argument("--out", type=Path, default=CACHE / "results",
                        help="folder for the JSON and Markdown results (default bench/.cache/results)")
    args = parser.parse_args(argv)
    args.duration = args.duration if args.duration is not None else (3.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    if args.server_warmup is None:
        args.server_warmup = 3.0 if args.quick else 15.0
    if args.quiet_wait is None:
        args.quiet_wait = 0.0 if args.nice < 0 else 30.0
    args.servers = [s.strip() for s in args.only.split(",") if s.strip()]
    args.api_list = [a.strip() for a in args.apis.split(",") if a.strip()]
    for name in args.servers:
        if name not in SERVERS:
            parser.error(f"unknown server {name!r}; choose from {', '.join(SERVERS)}")
    for name in args.api_list:
        if name not in APIS:
            parser.error(f"unknown API {name!r}; choose from {', '.join(APIS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.wrk = ensure_wrk()
    if not shutil.which("taskset"):
        raise SystemExit("bench: taskset (util-linux) is needed to pin the server and wrk to cores")
    if os.cpu_count() and max(args.server_cpu, args.client_cpu) >= os.cpu_count():
        raise SystemExit(f"bench: this machine has {os.cpu_count()} CPUs; pick --server-cpu/--client-cpu below that")
    args.loop = mock_event_loop(args.python)
    servers = [s for s in SERVERS if s in args.servers]
    wanted = {w.strip() for w in args.workloads.split(",") if w.strip()}
    report: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "skipped": [], "memory": [],
                              "argv": sys.argv[1:]}
    report["machine"] = machine_facts(args, servers)
    rows: list[Row] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mockbench-") as tmp:
        for api in args.api_list:
            workloads = [w for w in plan(api) if not wanted or w.name in wanted]
            if not workloads:
                continue
            rows += bench_api(args, api, servers, workloads, Path(tmp), report)
    report["seconds"] = round(time.monotonic() - started)
    versions = report.get("mock_versions", {})
    if len(set(versions.values())) > 1:
        report["machine"]["mock commit"] = "; ".join(f"{api}: {v}" for api, v in versions.items()) + (
            " (the code changed during the run; each API's mock ran the code of its start)")
        log("bench: WARNING: the mock's code changed during the run: " + report["machine"]["mock commit"])
    results = result_table(rows, servers)
    targets = target_rows(rows, report)
    memory = memory_table(report)

    print()
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in report["machine"].items()))
    print()
    print(render_text(results))
    print()
    print("Targets (mock vs the ceiling: bare aiohttp, same event loop and JSON library, same run):")
    print(render_text(targets))
    if len(memory) > 1:
        print()
        print("Memory at 100k projects:")
        print(render_text(memory))
    for skip in report["skipped"]:
        print(f"skipped: {skip['server']} ({skip['api']}): {skip['why']}")
    print(f"\n{len(rows)} rows in {report['seconds']} s")

    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report["rows"] = [r.__dict__ for r in rows]
    (args.out / f"run-{stamp}.json").write_text(json.dumps(report, indent=1))
    markdown = ["Machine:", ""] + [f"- {k}: {v}" for k, v in report["machine"].items()]
    markdown += ["", render_markdown(results), "", "Targets:", "", render_markdown(targets)]
    if len(memory) > 1:
        markdown += ["", "Memory at 100k projects:", "", render_markdown(memory)]
    (args.out / f"run-{stamp}.md").write_text("\n".join(markdown) + "\n")
    log(f"bench: results in {args.out}/run-{stamp}.json and .md")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
