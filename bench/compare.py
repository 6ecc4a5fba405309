"""This checkout against another commit, in one run: the single-call ratio of each to the ceiling.

    python bench/compare.py --baseline REF [--rounds 9] [-n 8000] [--nice -15] [--write-results]

Runs bench/inprocess.py (the whole aiohttp stack fed raw requests, no sockets) for the mock of
`REF` (unpacked from git) and for this checkout's, alternating, `--rounds` times; each run measures
the ceiling too. For every workload it reports the fastest µs of each and the ratio ceiling ÷ mock
before and after. The verdict: the ratio after is not lower than before, within `--tolerance`
(default 3 %, what two runs of one tree differ by on a noisy 2-core VM).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from plumbing import boosted, log  # noqa: E402
from plumbing import unpack_tree as unpack  # noqa: E402
from report import print_report, render_markdown, verdict, write_results_section  # noqa: E402

WORKLOADS = ("ufdl-get", "ufdl-patch", "ufdl-create", "ufdl-list", "testiny-read", "testiny-update",
             "testiny-create", "testiny-find")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, metavar="REF", help="the commit to compare with (git ref)")
    parser.add_argument("--rounds", type=int, default=9, help="runs of each tree, alternating (default 9)")
    parser.add_argument("-n", type=int, default=8000, help="requests per measurement (default 8,000)")
    parser.add_argument("--tolerance", type=float, default=0.03, help="allowed drop of the ratio (default 0.03)")
    parser.add_argument("--server-cpu", type=int, default=0, help="the core the runs are pinned to (default 0)")
    parser.add_argument("--nice", type=int, default=0, help="nice level of the runs (negative needs root)")
    parser.add_argument("--write-results", action="store_true", help="record the table in bench/RESULTS.md")
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    return parser.parse_args(argv)


def run_once(args: argparse.Namespace, env: dict[str, str]) -> dict[str, dict[str, float]]:
    command = ["taskset", "-c", str(args.server_cpu), sys.executable, str(BENCH / "inprocess.py"), *args.workloads,
               "--json", "-n", str(args.n)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=900,
                          env={**os.environ, **env}, preexec_fn=boosted(args.nice))
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mockbench-compare-") as tmp:
        tree, short = unpack(args.baseline, Path(tmp))
        variants = {"before": {"BENCH_MOCKSERVER_TREE": str(tree)}, "after": {}}
        best: dict[str, dict[str, dict[str, float]]] = {kind: {} for kind in variants}
        for number in range(args.rounds):
            for kind in (variants if number % 2 == 0 else reversed(list(variants))):
                for workload, found in run_once(args, variants[kind]).items():
                    seen = best[kind].setdefault(workload, {"mock": float("inf"), "ceiling": float("inf")})
                    seen["mock"] = min(seen["mock"], found["mock"])
                    seen["ceiling"] = min(seen["ceiling"], found["ceiling"])
            log(f"compare: round {number + 1}/{args.rounds} done")
    table = [["workload", "ceiling µs", f"mock {short} µs", "ratio before", "mock now µs", "ratio now", "change"]]
    targets = [["target", "measured", "verdict"]]
    for workload in args.workloads:
        before, after = best["before"][workload], best["after"][workload]
        ceiling = min(before["ceiling"], after["ceiling"])  # the same code in both runs
        old, new = ceiling / before["mock"], ceiling / after["mock"]
        table.append([workload, f"{ceiling:.1f}", f"{before['mock']:.1f}", f"{old:.3f}x", f"{after['mock']:.1f}",
                      f"{new:.3f}x", f"{(new / old - 1) * 100:+.1f} %"])
        targets.append([f"{workload}: ratio to the ceiling does not drop", f"{old:.3f}x → {new:.3f}x",
                        verdict(new >= old * (1 - args.tolerance))])
    failed = print_report([table], targets, time.monotonic() - started)
    if args.write_results:
        write_results_section(f"This checkout against {short}, in-process", [
            f"`python bench/compare.py --baseline {args.baseline} --rounds {args.rounds} -n {args.n}`: fastest of "
            f"{args.rounds} alternating runs per tree, µs per request; ratio = ceiling ÷ mock (higher is better).",
            "", render_markdown(table), "", render_markdown(targets)])
    return failed


if __name__ == "__main__":
    sys.exit(main())
