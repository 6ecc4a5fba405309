"""Measuring one workload on one server with wrk: warm-up, the run, CPU and memory, into a `Row`."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plumbing import BENCH, RSS_SIZE, Unavailable, boosted, call, log, mock_version
from servers import SERVER_CLASSES, Server
from workloads import Workload, count_items

# -- measuring ---------------------------------------------------------------------------------

@dataclass
class Row:
    api: str
    workload: str
    server: str
    connections: int
    size: int
    title: str = ""
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    errors: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    kb_per_response: float | None = None
    check: str = ""  # preflight: "" when fine, else what was wrong
    skipped: str = ""
    server_cpu: float | None = None  # % of one core used by the server during the measured run
    other_cpu: float | None = None  # % of the server's core used by other processes meanwhile
    runs: list[int] = field(default_factory=list)  # req/s of every run (--repeat); the row is the best
    noisy: bool = False  # other processes used more than --quiet-threshold of a core meanwhile
    note: str = ""  # e.g. Prism's list answers are its spec example, whatever the data set

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


CLK_TCK = os.sysconf("SC_CLK_TCK")


def busy_ticks(cpu: int) -> int:
    """CPU time of processes on one core (user, nice, system) plus the hypervisor's steal, in clock
    ticks; interrupt time is left out (the loopback traffic of the benchmark itself lands there)."""
    prefix = f"cpu{cpu} "
    line = next(line for line in Path("/proc/stat").read_text().splitlines() if line.startswith(prefix))
    fields = [int(v) for v in line.split()[1:]]
    return fields[0] + fields[1] + fields[2] + fields[7]


def process_ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks; 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def wait_quiet(args: argparse.Namespace) -> float:
    """Wait (at most --quiet-wait s) until other processes use less than --quiet-threshold % of the
    server core. Returns the last sample. The servers are idle here, so that core's busy time is foreign.
    """
    deadline = time.monotonic() + args.quiet_wait
    while True:
        before, clock = busy_ticks(args.server_cpu), time.monotonic()
        time.sleep(0.5)
        busy = 100 * (busy_ticks(args.server_cpu) - before) / CLK_TCK / (time.monotonic() - clock)
        if busy < args.quiet_threshold or time.monotonic() >= deadline:
            return busy
        log(f"bench:   waiting for a quiet server core (other processes use {busy:.0f}% of it)")
        time.sleep(2)


def wrk(args: argparse.Namespace, server: Server, workload: Workload, headers: dict[str, str], seconds: float,
        etags: dict[int, str], workdir: Path) -> dict[str, Any]:
    nonce = secrets.token_hex(3)
    out = workdir / f"wrk-{nonce}.json"
    env = {**os.environ, **workload.env(nonce), "BENCH_OUT": str(out),
           "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in headers.items())}
    env["BENCH_PATH"], env["BENCH_ITEM_PATH"] = server.path(env["BENCH_PATH"]), server.path(env["BENCH_ITEM_PATH"])
    if workload.etag:
        if args.testiny_force:
            env["BENCH_QUERY"] = "?force=true"
        else:
            etag_file = workdir / "etags.txt"
            etag_file.write_text("".join(f"{pid} {etag}\n" for pid, etag in etags.items()))
            env["BENCH_ETAGS"], env["BENCH_TRACK_ETAG"] = str(etag_file), "1"
    timeout = max(30, int(seconds) + 10)
    cmd = ["taskset", "-c", str(args.client_cpu), args.wrk, "-t1", f"-c{workload.connections}",
           f"-d{max(1, round(seconds))}s", f"--timeout={timeout}s", "-s", str(BENCH / "wrk.lua"),
           f"http://127.0.0.1:{server.port}"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + timeout + 60,
                          preexec_fn=boosted(args.nice))
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[:500]}")
    result = json.loads(out.read_text())
    out.unlink()
    return result


def preflight(server: Server, workload: Workload, headers: dict[str, str], etags: dict[int, str]) -> tuple[str, str]:
    """Send the workload's first request once: (problem or '', note or '')."""
    method, path, body = workload.first_request(etags)
    status, payload, _ = call(server.port, method, server.path(path), body, headers)
    if status >= 300:
        return f"{method} {path} answered {status}: {payload[:160].decode(errors='replace')}", ""
    if server.stateful and status != workload.status:
        return f"{method} {path} answered {status}, expected {workload.status}", ""
    if workload.items is not None:
        found = count_items(workload.api, payload)
        if server.kind == "prism":
            return "", f"spec example: {found} projects"
        if found != workload.items:
            return f"answer holds {found} projects, expected {workload.items}", ""
    return "", ""


def measure(args: argparse.Namespace, server: Server, workload: Workload, headers: dict[str, str],
            workdir: Path) -> Row:
    row = Row(workload.api, workload.name, server.kind, workload.connections, workload.size, workload.title)
    etags = server.etags(workload.size, headers) if workload.etag else {}
    row.check, row.note = preflight(server, workload, headers, etags)
    if workload.etag:
        etags = server.etags(workload.size, headers)
    if args.quiet_wait > 0:
        wait_quiet(args)
    if args.warmup > 0:
        wrk(args, server, workload, headers, args.warmup, etags, workdir)
        if workload.etag:
            etags = server.etags(workload.size, headers)
    core, own, clock = busy_ticks(args.server_cpu), process_ticks(server.proc.pid), time.monotonic()
    result = wrk(args, server, workload, headers, args.duration, etags, workdir)
    elapsed = time.monotonic() - clock
    server_cpu = (process_ticks(server.proc.pid) - own) / CLK_TCK
    other_cpu = (busy_ticks(args.server_cpu) - core) / CLK_TCK - server_cpu
    row.server_cpu = 100 * server_cpu / elapsed
    row.other_cpu = min(100.0, max(0.0, 100 * other_cpu / elapsed))
    seconds = result["duration_us"] / 1e6
    row.requests = result["requests"]
    row.rps = result["requests"] / seconds if seconds else None
    latency = result["latency_us"]
    row.p50_ms, row.p99_ms, row.max_ms = latency["p50"] / 1000, latency["p99"] / 1000, latency["max"] / 1000
    row.errors = {k: v for k, v in result["errors"].items() if v}
    row.kb_per_response = result["bytes"] / result["requests"] / 1024 if result["requests"] else None
    if not server.alive():
        row.check = (row.check + "; " if row.check else "") + "server died: " + server.log_tail()
    row.noisy = row.other_cpu > args.quiet_threshold
    return row


def bench_api(args: argparse.Namespace, api: str, kinds: list[str], workloads: list[Workload], workdir: Path,
              report: dict[str, Any]) -> list[Row]:
    """Start every server of the API (all pinned to the server core, idle but one at a time) and
    run each workload on each server in turn, so that the ratios compare runs minutes apart at most."""
    rows: list[Row] = []
    servers: dict[str, Server] = {}
    dead: dict[str, str] = {}

    def skip(kind: str, why: str, todo: list[Workload]) -> None:
        dead[kind] = why
        report["skipped"].append({"server": kind, "api": api, "why": why})
        rows.extend(Row(api, w.name, kind, w.connections, w.size, w.title, skipped=why) for w in todo)

    try:
        for kind in kinds:
            server = SERVER_CLASSES[kind](api, args)
            try:
                log(f"bench: starting {kind} ({api})")
                if kind == "mock":  # the code a running mock executes is the code at its start
                    report.setdefault("mock_versions", {})[api] = mock_version()
                server.start()
                servers[kind] = server
            except Unavailable as exc:
                log(f"bench: skipping {kind} for {api}: {exc}")
                skip(kind, str(exc), workloads)
        memory = {kind: {"server": kind, "api": api} for kind, s in servers.items() if s.stateful}
        by_size: dict[int, list[Workload]] = {}
        for workload in workloads:
            by_size.setdefault(workload.size, []).append(workload)
        for size, group in by_size.items():
            headers: dict[str, dict[str, str]] = {}
            for kind, server in servers.items():
                if kind in dead:
                    continue
                try:
                    seconds = server.prepare(size)
                    headers[kind] = server.auth_headers()
                except (RuntimeError, OSError) as exc:
                    skip(kind, f"aborted: {exc}", [w for w in workloads if w.size >= size])
                    continue
                if server.stateful:
                    log(f"bench: {kind} ({api}) holds {size:,} projects (loaded in {seconds:.1f} s)")
                if size == RSS_SIZE and kind in memory:
                    memory[kind].update(seeded=server.memory(), seed_seconds=round(seconds, 2))
                if size == workloads[0].size and args.server_warmup > 0:
                    # once per server: long enough for WireMock's JIT to compile the request path
                    log(f"bench: warming up {kind} ({api}) with {workloads[0].name} for {args.server_warmup:g} s")
                    try:
                        wrk(args, server, workloads[0], headers[kind], args.server_warmup, {}, workdir)
                    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                        log(f"bench:   warm-up failed: {exc}")
            for workload in group:
                best: dict[str, Row] = {}
                for attempt in range(args.repeat):
                    for kind, server in servers.items():
                        if kind in dead:
                            continue
                        run_no = f"  (run {attempt + 1})" if args.repeat > 1 else ""
                        log(f"bench: {kind:8} {api:7} {workload.name:18} c={workload.connections:<3} "
                            f"{args.warmup:g}+{args.duration:g} s{run_no}")
                        try:
                            row = measure(args, server, workload, headers[kind], workdir)
                        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                            row = Row(api, workload.name, kind, workload.connections, workload.size, workload.title,
                                      check=f"failed: {exc}")
                        if row.check:
                            log(f"bench:   check: {row.check}")
                        row.runs = (best[kind].runs if kind in best else []) + [round(row.rps or 0)]
                        if kind not in best or (row.rps or 0) > (best[kind].rps or 0):
                            best[kind] = row
                        else:
                            best[kind].runs = row.runs
                        if not server.alive():
                            rows.append(best.pop(kind))
                            later = workloads[workloads.index(workload) + 1:]
                            skip(kind, f"died: {server.log_tail()}", later)
                rows.extend(best.values())
            if size == RSS_SIZE:
                for kind in memory:
                    if kind not in dead:
                        memory[kind]["after_load"] = servers[kind].memory()
        report["memory"].extend(m for m in memory.values() if "seeded" in m)
    finally:
        for server in servers.values():
            server.stop()
    return rows
