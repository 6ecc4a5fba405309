"""What sessions cost, measured in one run:

    python bench/sessions.py                  # 3 s warm-up + 10 s per workload, two rounds
    python bench/sessions.py --quick          # 1 s + 3 s per workload
    python bench/sessions.py --write-results  # also record the figures in bench/RESULTS.md
    python bench/sessions.py --no-network     # in-process figures only (no wrk runs, ~2 min)

1. The default world's speed: this checkout's mock against the same mock *without the feature* —
   the commit before sessions came (`--baseline REF`, default: the parent of the commit that added
   mockserver/sessions.py), unpacked from git — on the single-project workloads of both APIs.
   In-process (bench/inprocess.py: the whole aiohttp stack fed raw requests, steady to about a
   microsecond on a quiet machine): µs per request, 15 short rounds alternating the two trees (and
   this tree in a session), the fastest run of each compared — on a shared VM the slower runs
   measure the neighbours (CPU time is no steadier there than the wall clock). Target: within
   5 %. Over the network (wrk, as run.py measures): both mocks side by side on the server core,
   each workload on one, the other, and this mock in a session, in two rounds of opposite order;
   on a shared machine these move by ±15 % between runs of the same code, so they are shown, not
   judged.
2. The same workloads with every request in a session (`X-Mock-Session`), for what a session adds.
3. Making a session from the demo data: in-process, `Sessions.open` of a new name (median, p99 of
   1,000), and over HTTP the first request of a new session against a request of an open one.
   Target: under 5 ms.
4. Memory: RSS of a mock started with 1,000 projects per API, then with 100 sessions open (each a
   world of both APIs, 1,000 projects each). Target: under 500 MB.

Uses `run.py`'s harness (wrk, pinning, warm-up, preflight checks); see bench/README.md.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import datasets as ds  # noqa: E402
from measure import Row, measure  # noqa: E402
from plumbing import ROOT, SIZES, TESTINY_KEY, boosted, call, ensure_wrk, log, mock_event_loop, rss_kb, unpack_tree  # noqa: E402
from report import fmt, machine_facts, print_report, render_markdown, verdict, write_results_section  # noqa: E402
from run import parse_args  # noqa: E402
from servers import Mock, Server  # noqa: E402
from workloads import Workload, plan  # noqa: E402

TARGETS = {"ratio": 0.95, "create_ms": 5.0, "rss_mb": 500.0}
SESSIONS = 100
SESSION_SIZE = 1000


class BaselineMock(Mock):
    """The mock as it was before sessions, from a copy of that commit's tree."""

    kind, label = "baseline", "mock without sessions"

    def __init__(self, api: str, args: Any, tree: Path) -> None:
        super().__init__(api, args)
        self.run_dir = tree

    def env(self) -> dict[str, str]:
        env = super().env()
        env["PYTHONPATH"] = str(self.run_dir)
        return env


def baseline_tree(ref: str | None, workdir: Path) -> tuple[Path, str]:
    """Unpack `ref` (default: the commit before sessions) into workdir; (its directory, its short id)."""
    if ref is None:
        added = subprocess.run(["git", "-C", str(ROOT), "log", "--diff-filter=A", "--format=%H", "--",
                                "mockserver/sessions.py"], capture_output=True, text=True, check=True).stdout.split()
        if not added:
            raise SystemExit("bench/sessions.py: no commit adds mockserver/sessions.py; give --baseline REF")
        ref = added[-1] + "^"
    return unpack_tree(ref, workdir)


def workloads(api: str) -> list[Workload]:
    wanted = {"ufdl": ("get", "mix", "create"), "testiny": ("read", "update", "mix", "create")}[api]
    return [w for w in plan(api) if w.name in wanted]


def session_headers(server: Server, name: str) -> dict[str, str]:
    """The credentials of the session's own world, and its header."""
    headers = {"X-Mock-Session": name}
    if server.api == "testiny":
        return {"X-Api-Key": TESTINY_KEY, **headers}
    status, body, _ = call(server.port, "POST", "/v1/auth/obtain", {"username": "admin", "password": "admin"},
                                   headers)
    if status != 200:
        raise RuntimeError(f"obtain in session {name} answered {status}: {body[:200]!r}")
    return {"Authorization": "Bearer " + json.loads(body)["access"], **headers}


def seed_session(server: Server, name: str, size: int) -> None:
    seed = ds.ufdl_seed(size) if server.api == "ufdl" else ds.testiny_seed(size)
    status, body, _ = call(server.port, "POST", f"/__mock__/seed?session={name}", seed)
    if status != 200:
        raise RuntimeError(f"seeding session {name} answered {status}: {body[:300]!r}")


def bench_speed(args: Any, api: str, tree: Path, workdir: Path) -> tuple[list[list[str]], list[dict[str, Any]]]:
    base, current = BaselineMock(api, args, tree), Mock(api, args)
    table, results = [], []
    try:
        for server in (base, current):
            log(f"sessions: starting {server.kind} ({api})")
            server.start()
            server.prepare(SIZES[0])
        seed_session(current, "bench", SIZES[0])
        for workload in workloads(api):
            runs: dict[str, list[Row]] = {"baseline": [], "mock": [], "session": []}
            # two rounds in opposite order, so that no variant always runs first or last
            plan = [("baseline", base), ("mock", current), ("session", current)]
            for order in (plan, plan[::-1]):
                for kind, server in order:
                    headers = session_headers(server, "bench") if kind == "session" else server.auth_headers()
                    row = measure(args, server, workload, headers, workdir)
                    runs[kind].append(row)
                    log(f"sessions: {api} {workload.name} {kind}: {row.rps or 0:,.0f} req/s, "
                                f"p99 {row.p99_ms or 0:.1f} ms {row.check}")
            total = {kind: sum(r.rps or 0 for r in rows) / len(rows) for kind, rows in runs.items()}
            problems = "; ".join(r.check for rows in runs.values() for r in rows if r.check)
            errors = sum(r.error_count for rows in runs.values() for r in rows)
            ratio = total["mock"] / total["baseline"] if total["baseline"] else None
            in_session = total["session"] / total["mock"] if total["mock"] else None
            results.append({"api": api, "workload": workload.name, "ratio": ratio, "errors": errors,
                            "check": problems})
            table.append([api, workload.name, fmt(total["baseline"]), fmt(total["mock"]),
                          f"{ratio:.3f}x" if ratio else "-", fmt(total["session"]),
                          f"{in_session:.3f}x" if in_session else "-",
                          fmt(max(r.p99_ms or 0 for r in runs["mock"]), 1), str(errors), problems])
    finally:
        base.stop()
        current.stop()
    return table, results


INPROCESS = ("ufdl-get", "ufdl-patch", "ufdl-create", "testiny-read", "testiny-update", "testiny-create")
ROUNDS = 15


def bench_inprocess(args: Any, tree: Path) -> tuple[list[list[str]], list[dict[str, Any]]]:
    """The fastest µs per request of the baseline tree, this tree, and this tree in a session."""
    variants = {"baseline": ({"BENCH_MOCKSERVER_TREE": str(tree)}, []), "mock": ({}, []),
                "session": ({}, ["--session", "bench"])}
    timings: dict[str, dict[str, list[float]]] = {kind: {w: [] for w in INPROCESS} for kind in variants}
    count = "2000" if args.quick else "8000"
    for number in range(ROUNDS):
        order = list(variants) if number % 2 == 0 else list(reversed(variants))
        for kind in order:
            env, extra = variants[kind]
            command = ["taskset", "-c", str(args.server_cpu), args.python, str(BENCH / "inprocess.py"), *INPROCESS,
                       "--mock-only", "--json", "-n", count, *extra]
            done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600,
                                  env={**os.environ, **env}, preexec_fn=boosted(args.nice))
            for workload, micros in json.loads(done.stdout.strip().splitlines()[-1]).items():
                timings[kind][workload].append(micros)
        log(f"sessions: in-process round {number + 1}/{ROUNDS} done")
    table, results = [], []
    for workload in INPROCESS:
        base, mock, session = (min(timings[kind][workload]) for kind in variants)
        spread = max(timings["mock"][workload]) - min(timings["mock"][workload])
        ratio = base / mock
        results.append({"api": workload.split("-")[0], "workload": workload, "ratio": ratio, "errors": 0, "check": ""})
        table.append([workload, f"{base:.1f}", f"{mock:.1f}", f"{ratio:.3f}x", f"{session:.1f}",
                      f"{session - mock:+.1f}", f"{spread:.1f}"])
    return table, results


def bench_creation() -> dict[str, float]:
    """In-process: Sessions.open of a new name on a mock holding the demo data."""
    from mockserver import MockConfig
    from mockserver.service import MockService

    service = MockService(MockConfig(max_sessions=2000, access_log=False))
    timings = []
    for number in range(1000):
        started = time.perf_counter()
        service.sessions.open(f"s{number}")
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"median_ms": statistics.median(timings), "p99_ms": timings[int(len(timings) * 0.99)],
            "max_ms": timings[-1]}


def bench_first_request(args: Any) -> dict[str, float]:
    """Over HTTP, demo data: the first request of a new session against one of an open session."""
    server = Mock("testiny", args)
    server.command = lambda: [args.python, "-m", "mockserver", "--host", "127.0.0.1", "--port", str(server.port),
                              "--quiet", "--log-level", "warning", "--max-sessions", "1000"]
    key = {"X-Api-Key": TESTINY_KEY}
    first, again = [], []
    try:
        server.start()
        for number in range(300):
            name = {"X-Mock-Session": f"http-{number}", **key}
            first.append(call(server.port, "GET", "/api/v1/project/1", None, name)[2] * 1000)
            again.append(call(server.port, "GET", "/api/v1/project/1", None, name)[2] * 1000)
    finally:
        server.stop()
    return {"first_ms": statistics.median(first), "again_ms": statistics.median(again),
            "first_p99_ms": sorted(first)[int(len(first) * 0.99)]}


def bench_memory(args: Any, workdir: Path) -> dict[str, float]:
    """RSS with 1,000 projects per API at start, then with 100 sessions of that data open."""
    seed_file = workdir / "seed.json"
    seed_file.write_text(json.dumps({"ufdl": ds.ufdl_seed(SESSION_SIZE)["ufdl"],
                                     "testiny": ds.testiny_seed(SESSION_SIZE)["testiny"]}))
    server = Mock("testiny", args)
    server.command = lambda: [args.python, "-m", "mockserver", "--host", "127.0.0.1", "--port", str(server.port),
                              "--quiet", "--log-level", "warning", "--seed", str(seed_file),
                              "--max-sessions", str(SESSIONS)]
    try:
        server.start()
        before = rss_kb(server.proc.pid)["rss_kb"] / 1024
        for number in range(SESSIONS):
            name = {"X-Mock-Session": f"mem-{number}", "X-Api-Key": TESTINY_KEY}
            status, body, _ = call(server.port, "POST", "/api/v1/project/find", {}, name)
            assert status == 200, body[:200]
        status, body, _ = call(server.port, "GET", "/__mock__/state?session=mem-99")
        state = json.loads(body)
        held = (len(state["ufdl"]["projects"]), len(state["testiny"]["projects"]))
        memory = rss_kb(server.proc.pid)
    finally:
        server.stop()
    return {"before_mb": before, "after_mb": memory["rss_kb"] / 1024, "peak_mb": memory["hwm_kb"] / 1024,
            "per_session_mb": (memory["rss_kb"] / 1024 - before) / SESSIONS, "held": held}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    write_results = "--write-results" in argv
    argv = [a for a in argv if a != "--write-results"]
    network = "--no-network" not in argv
    argv = [a for a in argv if a != "--no-network"]
    ref = None
    if "--baseline" in argv:
        at = argv.index("--baseline")
        ref = argv[at + 1]
        del argv[at:at + 2]
    args = parse_args(argv + ["--only", "mock"])
    args.wrk = ensure_wrk()
    args.loop = mock_event_loop(args.python)
    started = time.monotonic()
    table = [["api", "workload", "without sessions req/s", "with req/s", "ratio", "in a session req/s",
              "session ÷ default", "p99 ms", "errors", "check"]]
    steady = [["workload", "without sessions µs", "with µs", "ratio", "in a session µs", "session extra µs",
               f"spread of {ROUNDS} runs µs"]]
    with tempfile.TemporaryDirectory(prefix="mockbench-sessions-") as tmp:
        workdir = Path(tmp)
        tree, short = baseline_tree(ref, workdir)
        log(f"sessions: baseline is {short}")
        rows, results = bench_inprocess(args, tree)
        steady += rows
        for api in args.api_list if network else ():
            rows, _ = bench_speed(args, api, tree, workdir)
            table += rows
        creation = bench_creation()
        first = bench_first_request(args)
        memory = bench_memory(args, workdir)
    targets = [["target", "measured", "verdict"]]
    for r in results:
        ok = r["ratio"] is not None and r["ratio"] >= TARGETS["ratio"] and not r["errors"] and not r["check"]
        targets.append([f"{r['workload']}: default world within 5 % of the mock without sessions (in-process)",
                        f"{r['ratio']:.3f}x" if r["ratio"] else "-", verdict(ok)])
    targets.append([f"a session from the demo data < {TARGETS['create_ms']:g} ms",
                    f"in-process median {creation['median_ms']:.3f} ms, p99 {creation['p99_ms']:.3f} ms; over HTTP "
                    f"the first request {first['first_ms']:.2f} ms (p99 {first['first_p99_ms']:.2f}) against "
                    f"{first['again_ms']:.2f} ms in an open session",
                    verdict(max(creation["p99_ms"], first["first_p99_ms"]) < TARGETS["create_ms"])])
    targets.append([f"{SESSIONS} sessions of {SESSION_SIZE:,} projects per API < {TARGETS['rss_mb']:g} MB",
                    f"{memory['after_mb']:.0f} MB (peak {memory['peak_mb']:.0f}; {memory['before_mb']:.0f} MB "
                    f"before, {memory['per_session_mb']:.2f} MB per session; the last holds "
                    f"{memory['held'][0]:,} + {memory['held'][1]:,} projects)",
                    verdict(memory["peak_mb"] < TARGETS["rss_mb"]
                                    and memory["held"] == (SESSION_SIZE, SESSION_SIZE))])
    seconds = time.monotonic() - started
    facts = machine_facts(args, ["mock"])
    status = print_report([steady, table], targets, seconds)
    if write_results:
        record(facts, short, steady, table, targets, seconds, argv)
    return status


def record(facts: dict[str, str], baseline: str, steady: list[list[str]], table: list[list[str]],
           targets: list[list[str]], seconds: float, argv: list[str]) -> None:
    """Replace the sessions section of bench/RESULTS.md with this run's figures."""
    write_results_section("Sessions (bench/sessions.py)", [
        f"`python bench/sessions.py {' '.join(argv)}`".replace(" `", "`") + f" against mockserver "
        f"**{facts['mock commit']}** and, without sessions, **{baseline}**; {seconds:.0f} s; {facts['cpu']}; "
        f"{facts['pinning']}; {facts['duration']}.",
        f"In-process (bench/inprocess.py, µs per request, the fastest of {ROUNDS} runs alternating the trees; "
        "a ratio above 1 means faster with sessions):", "",
        render_markdown(steady), "",
        "Over the network (wrk; each ratio is of the throughput summed over two rounds of opposite order, "
        "measured seconds apart; \"in a session\" runs the same workload with `X-Mock-Session` on every "
        "request). Shown, not judged: on this shared machine runs of the same code differ by up to 15 %.", "",
        render_markdown(table), "", render_markdown(targets), "",
    ])

if __name__ == "__main__":
    sys.exit(main())
