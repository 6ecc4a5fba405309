"""The cost of `--state-file` and the bounds under a flood, measured in one run:

    python bench/persistence.py                  # 1k and 100k projects, 3 s warm-up + 10 s per workload
    python bench/persistence.py --quick          # 1 s + 3 s per workload
    python bench/persistence.py --write-results  # also record the figures in bench/RESULTS.md

For each API two mocks run side by side on the server core, one in memory and one with a state
file, on the same data sets (1k, then 100k projects); each write workload (create, and PATCH /
PUT of existing projects) runs on one and then the other, so the ratio compares runs seconds
apart. Then: the start-up time with 100k projects in the state file against an empty start, and
the RSS of an in-memory mock under a flood of refused 600 KB bodies (1,000 Testiny posts with an
invalid name, 1,000 unauthenticated UFDL posts: both journaled).

Uses `run.py`'s harness (wrk, pinning, warm-up, preflight checks); see bench/README.md.
"""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from measure import measure  # noqa: E402
from plumbing import TESTINY_KEY, call, ensure_wrk, log, mock_event_loop, rss_kb  # noqa: E402
from report import fmt, machine_facts, print_report, render_markdown, verdict, write_results_section  # noqa: E402
from run import parse_args  # noqa: E402
from servers import Mock, Server  # noqa: E402
from workloads import Workload, size_label  # noqa: E402

SIZES = (1000, 100_000)
FLOOD_POSTS = 1000
FLOOD_BYTES = 600 * 1024
TARGETS = {"ratio": 0.7, "p99_ms": 10.0, "load_s": 2.0, "flood_rss_mb": 200.0}


class FileMock(Mock):
    kind, label = "mock+file", "mock + state file"

    def __init__(self, api: str, args: Any, path: Path) -> None:
        super().__init__(api, args)
        self.state_path = path

    def command(self) -> list[str]:
        return [*super().command(), "--state-file", str(self.state_path)]


def workloads(api: str, size: int) -> list[Workload]:
    label = size_label(size)
    if api == "ufdl":
        return [
            Workload(f"create-{label}", api, size, 32, "create", "POST", "/v1/projects/create",
                             write_body='{"name":"cr-{nonce}-{n}","team":1}', single=True, status=201,
                             title=f"create, {size:,} projects"),
            Workload(f"patch-{label}", api, size, 32, "write", item_path="/v1/projects/",
                             write_method="PATCH", write_body='{"name":"pa-{nonce}-{n}"}', single=True,
                             title=f"PATCH a name, {size:,} projects"),
        ]
    return [
        Workload(f"create-{label}", api, size, 32, "create", "POST", "/api/v1/project",
                         write_body='{"name":"cr {nonce} {n}"}', single=True, title=f"create, {size:,} projects"),
        Workload(f"update-{label}", api, size, 32, "write", item_path="/api/v1/project/", write_method="PUT",
                         write_body='{"name":"up {nonce} {n}","_etag":"{etag}"}', etag=True, single=True,
                         title=f"PUT with the current _etag, {size:,} projects"),
    ]


def bench_writes(args: Any, api: str, workdir: Path) -> tuple[list[list[str]], list[dict[str, Any]], Path]:
    memory, persisted = Mock(api, args), FileMock(api, args, workdir / f"state-{api}.db")
    table, results = [], []
    try:
        for server in (memory, persisted):
            log(f"persistence: starting {server.kind} ({api})")
            server.start()
        for size in SIZES:
            for server in (memory, persisted):
                seconds = server.prepare(size)
                log(f"persistence: {server.kind} ({api}) seeded {size:,} projects in {seconds:.1f} s")
            for workload in workloads(api, size):
                rows = {}
                for server in (memory, persisted):
                    headers = server.auth_headers()
                    rows[server.kind] = measure(args, server, workload, headers, workdir)
                    row = rows[server.kind]
                    log(f"persistence: {api} {workload.name} {server.kind}: {row.rps or 0:,.0f} req/s, "
                                f"p99 {row.p99_ms or 0:.1f} ms {row.check}")
                base, disk = rows["mock"], rows["mock+file"]
                ratio = disk.rps / base.rps if disk.rps and base.rps else None
                results.append({"api": api, "workload": workload.name, "size": size, "ratio": ratio,
                                "p99_ms": disk.p99_ms, "memory_rps": base.rps, "file_rps": disk.rps,
                                "errors": base.error_count + disk.error_count, "check": base.check or disk.check})
                table.append([api, workload.name, fmt(base.rps), fmt(disk.rps),
                              f"{ratio:.2f}x" if ratio else "-", fmt(base.p99_ms, 1),
                              fmt(disk.p99_ms, 1), str(base.error_count + disk.error_count),
                              base.check or disk.check or ""])
        persisted.prepare(max(SIZES))  # the load measured next is of exactly this many projects
    finally:
        memory.stop()
        persisted.stop()
    return table, results, persisted.state_path


def time_to_healthy(server: Server) -> float:
    started = time.monotonic()
    server.start()
    return time.monotonic() - started


def bench_load(args: Any, path: Path, api: str, workdir: Path) -> dict[str, float]:
    """Start-up with the 100k projects the write run left in the state file, against an empty start."""
    empty = FileMock(api, args, workdir / f"empty-{api}.db")
    loaded = FileMock(api, args, path)
    try:
        empty_s = time_to_healthy(empty)
        loaded_s = time_to_healthy(loaded)
        headers = loaded.auth_headers()
        count = count_projects(loaded, api, headers)
    finally:
        empty.stop()
        loaded.stop()
    return {"api": api, "projects": count, "empty_s": empty_s, "loaded_s": loaded_s, "load_s": loaded_s - empty_s}


def count_projects(server: Server, api: str, headers: dict[str, str]) -> int:
    status, body, _ = call(server.port, "GET", "/__mock__/state?api=" + api)
    assert status == 200, body[:200]
    return len(json.loads(body)[api]["projects"])


def bench_flood(args: Any) -> dict[str, float]:
    """RSS of an in-memory mock (default limits) before and after 2,000 refused 600 KB posts."""
    server = Mock("testiny", args)
    server.command = lambda: [args.python, "-m", "mockserver", "--host", "127.0.0.1", "--port", str(server.port),
                              "--quiet", "--log-level", "warning"]
    try:
        server.start()
        before = rss_kb(server.proc.pid)["rss_kb"]
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        filler = "x" * FLOOD_BYTES
        testiny = ('{"name": "x", "description": "' + filler + '"}').encode()
        ufdl = ('{"name": "' + filler + '", "team": 1}').encode()
        statuses: dict[int, int] = {}
        started = time.monotonic()
        for number in range(2 * FLOOD_POSTS):
            path, body, headers = (("/api/v1/project", testiny, {"X-Api-Key": TESTINY_KEY}) if number % 2 == 0
                                   else ("/v1/projects/create", ufdl, {}))
            connection.request("POST", path, body=body, headers={**headers, "Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
        seconds = time.monotonic() - started
        memory = rss_kb(server.proc.pid)
    finally:
        server.stop()
    return {"before_mb": before / 1024, "after_mb": memory["rss_kb"] / 1024, "peak_mb": memory["hwm_kb"] / 1024,
            "statuses": statuses, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    write_results = "--write-results" in (argv if argv is not None else sys.argv[1:])
    argv = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--write-results"]
    args = parse_args(argv + ["--only", "mock"])
    args.wrk = ensure_wrk()
    args.loop = mock_event_loop(args.python)
    started = time.monotonic()
    table = [["api", "workload", "in memory req/s", "state file req/s", "ratio", "p99 ms (memory)",
              "p99 ms (file)", "errors", "check"]]
    results, loads = [], []
    with tempfile.TemporaryDirectory(prefix="mockbench-persist-") as tmp:
        workdir = Path(tmp)
        for api in args.api_list:
            rows, found, path = bench_writes(args, api, workdir)
            table += rows
            results += found
            loads.append(bench_load(args, path, api, workdir))
    flood = bench_flood(args)
    targets = [["target", "measured", "verdict"]]
    at_scale = [r for r in results if r["size"] == max(SIZES)]
    for r in at_scale:
        ok = r["ratio"] is not None and r["ratio"] >= TARGETS["ratio"] and r["p99_ms"] < TARGETS["p99_ms"] \
            and not r["errors"] and not r["check"]
        targets.append([f"{r['api']} {r['workload']}: ≥ {TARGETS['ratio']}x in-memory, p99 < {TARGETS['p99_ms']:g} ms",
                        f"{r['ratio']:.2f}x, p99 {r['p99_ms']:.1f} ms", verdict(ok)])
    for load in loads:
        targets.append([f"{load['api']}: load {load['projects']:,} projects < {TARGETS['load_s']:g} s",
                        f"{load['load_s']:.2f} s ({load['loaded_s']:.2f} s to healthy, empty start "
                        f"{load['empty_s']:.2f} s)", verdict(load["load_s"] < TARGETS["load_s"])])
    targets.append([f"RSS under {2 * FLOOD_POSTS:,} refused 600 KB posts < {TARGETS['flood_rss_mb']:g} MB",
                    f"{flood['after_mb']:.0f} MB (peak {flood['peak_mb']:.0f}, before {flood['before_mb']:.0f}; "
                    f"answers {flood['statuses']})", verdict(flood["peak_mb"] < TARGETS["flood_rss_mb"])])
    seconds = time.monotonic() - started
    facts = machine_facts(args, ["mock"])
    status = print_report([table], targets, seconds)
    if write_results:
        record(facts, table, targets, seconds, argv)
    return status


def record(facts: dict[str, str], table: list[list[str]], targets: list[list[str]], seconds: float,
           argv: list[str]) -> None:
    """Replace the persistence section of bench/RESULTS.md with this run's figures."""
    write_results_section("Persistence (bench/persistence.py)", [
        f"`python bench/persistence.py {' '.join(argv)}`".replace(" `", "`") + f" against mockserver "
        f"**{facts['mock commit']}**, {seconds:.0f} s; {facts['cpu']}; {facts['pinning']}; {facts['duration']}.",
        "Each ratio is the mock with `--state-file` ÷ the same mock in memory, measured seconds apart.", "",
        render_markdown(table), "", render_markdown(targets), "",
    ])

if __name__ == "__main__":
    sys.exit(main())
