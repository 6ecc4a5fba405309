"""Profile the mock under the benchmark's workloads with py-spy and print its hot spots.

    python bench/profile.py                          # default workloads of both APIs, 10 s each
    python bench/profile.py --api ufdl --workloads get,list-1k --duration 20
    python bench/profile.py --api ufdl --workloads create-100k --state-file   # bench/persistence.py's

The workloads are bench/run.py's and bench/persistence.py's (create-1k, create-100k, patch-100k,
update-100k...); `--state-file` runs the mock with a state file in a temporary directory.

The mock runs as in bench/run.py (pinned to --server-cpu, its data set seeded through the control
API) while wrk loads it from --client-cpu and `py-spy record` samples it (installed into
bench/.cache/tools on first use). Idle samples (the loop waiting in epoll) are left out, so the
percentages are shares of the time the mock was busy. For each workload it prints the functions
with the most self time and the mock's own functions with the most inclusive time; the raw
collapsed stacks stay in bench/.cache/profile/ (open them in https://www.speedscope.app or
flamegraph.pl).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import wrk  # noqa: E402
from persistence import SIZES as PERSISTENCE_SIZES  # noqa: E402
from persistence import FileMock  # noqa: E402
from persistence import workloads as persistence_workloads  # noqa: E402
from plumbing import APIS, CACHE, ROOT, ensure_wrk, log, mock_event_loop, run_quiet  # noqa: E402
from run import parse_args  # noqa: E402
from servers import Mock  # noqa: E402
from workloads import plan  # noqa: E402

DEFAULTS = {"ufdl": "get,mix,create,list-1k,list-100k-filter", "testiny": "read,update,find-1k,find-100k-filter"}
LINE = re.compile(r":\d+\)$")


def ensure_py_spy() -> str:
    found = shutil.which("py-spy")
    if found:
        return found
    venv = CACHE / "tools" / "venv"
    binary = venv / "bin" / "py-spy"
    if not binary.exists():
        log(f"profile: installing py-spy into {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "py-spy"], check=True)
    return str(binary)


def frame_name(frame: str) -> str:
    """`handle (mockserver/runtime.py:97)` -> `handle (mockserver/runtime.py)`, paths shortened."""
    frame = LINE.sub(")", frame.strip())
    frame = re.sub(r"\(/.*?/(site-packages|lib/python3\.\d+)/", "(", frame)
    return frame.replace(f"({ROOT}/", "(")


def summarize(raw: Path, top: int) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [frame_name(f) for f in stack.split(";") if f.strip()]
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += n
        self_time[frames[-1]] += n
        for name in set(frames):
            inclusive[name] += n
    pct = 100 / total if total else 0
    # the mock's own functions, without the start-up frames every sample passes through (cli.py)
    own = [(name, count * pct) for name, count in inclusive.most_common()
           if "(mockserver/" in name and "(mockserver/cli.py)" not in name and "(mockserver/__main__.py)" not in name]
    return total, [(name, count * pct) for name, count in self_time.most_common(top)], own[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description="Profile the mock with py-spy under the benchmark workloads.")
    parser.add_argument("--api", action="append", choices=APIS, help="API to profile (default: both)")
    parser.add_argument("--workloads", default="", help="workloads (default: " + "; ".join(
        f"{api}: {names}" for api, names in DEFAULTS.items()) + ")")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds sampled per workload (default 10)")
    parser.add_argument("--rate", type=int, default=250, help="samples per second (default 250)")
    parser.add_argument("--top", type=int, default=15, help="rows per list (default 15)")
    parser.add_argument("--nice", type=int, default=0, help="nice level of the mock and wrk (see run.py --nice)")
    parser.add_argument("--state-file", action="store_true",
                        help="run the mock with --state-file (a new file in a temporary directory)")
    parser.add_argument("--out", type=Path, default=CACHE / "profile")
    options = parser.parse_args()
    args = parse_args(["--only", "mock", "--quiet-wait", "0", "--nice", str(options.nice)])
    args.wrk, args.loop = ensure_wrk(), mock_event_loop(args.python)
    py_spy = ensure_py_spy()
    options.out.mkdir(parents=True, exist_ok=True)
    report = [f"Profile of the mock (py-spy {run_quiet([py_spy, '--version']).split()[-1]}, {options.rate} Hz, "
              f"{options.duration:g} s per workload, event loop {args.loop}); % of busy samples.", ""]
    for api in options.api or list(APIS):
        names = (options.workloads or DEFAULTS[api]).split(",")
        known = [*plan(api), *(w for size in PERSISTENCE_SIZES for w in persistence_workloads(api, size))]
        workloads = [w for w in known if w.name in names]
        unknown = sorted(set(names) - {w.name for w in workloads})
        if unknown:
            parser.error(f"{api}: no workload {', '.join(unknown)} (known: {', '.join(w.name for w in known)})")
        with tempfile.TemporaryDirectory() as tmp:
            server = FileMock(api, args, Path(tmp) / "state.db") if options.state_file else Mock(api, args)
            server.start()
            try:
                size = None
                for workload in workloads:
                    if workload.size != size:
                        server.prepare(workload.size)
                        size = workload.size
                    headers = server.auth_headers()
                    etags = server.etags(workload.size, headers) if workload.etag else {}
                    wrk(args, server, workload, headers, 1, etags, Path(tmp))  # warm-up
                    if workload.etag:
                        etags = server.etags(workload.size, headers)
                    raw = options.out / f"{api}-{workload.name}.txt"
                    record = [py_spy, "record", "--pid", str(server.proc.pid), "--rate", str(options.rate),
                              "--duration", str(int(options.duration)), "--format", "raw", "--nonblocking",
                              "--output", str(raw)]
                    spy = subprocess.Popen(record, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    time.sleep(0.3)
                    result = wrk(args, server, workload, headers, options.duration, etags, Path(tmp))
                    spy.wait(timeout=60)
                    rps = result["requests"] / (result["duration_us"] / 1e6)
                    total, hot, own = summarize(raw, options.top)
                    report += [f"### {api} {workload.name}{' with a state file' if options.state_file else ''} "
                               f"({workload.title}; c={workload.connections}, "
                               f"{rps:,.0f} req/s under the profiler, {total} busy samples)", "",
                               "Self time (where the CPU is):", "", "| % | function |", "|---:|---|"]
                    report += [f"| {share:.1f} | `{name}` |" for name, share in hot]
                    report += ["", "Inclusive time, mockserver code:", "", "| % | function |", "|---:|---|"]
                    report += [f"| {share:.1f} | `{name}` |" for name, share in own]
                    report.append("")
                    print("\n".join(report[-(len(hot) + len(own) + 12):]), flush=True)
            finally:
                server.stop()
    (options.out / "summary.md").write_text("\n".join(report) + "\n")
    log(f"profile: summary in {options.out / 'summary.md'}, raw stacks beside it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
