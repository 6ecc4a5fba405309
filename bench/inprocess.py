"""In-process microbenchmark: the whole aiohttp stack (parser, server, response writer) fed raw
HTTP requests through a fake transport, for the mock and the ceiling in turn. No sockets, no
`wrk`: steady to about a microsecond, so it shows what one change to the engine is worth.

    python bench/inprocess.py [ufdl-get|ufdl-patch|ufdl-create|ufdl-list|testiny-read|
                               testiny-update|testiny-create|testiny-find|testiny-filter ...] [-n N]

Prints µs per request for both servers, their ratio and the mock's extra µs. Uses uvloop when
installed, like the mock's command line. `--session NAME` sends every request of the mock in a
session holding the same data; `--mock-only --json` prints only the mock's µs per workload, as
JSON (bench/sessions.py runs it so, against this checkout and against an older tree:
`BENCH_MOCKSERVER_TREE=DIR` imports mockserver from DIR); `--json` alone prints
{workload: {mock, ceiling}} (bench/compare.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, os.environ.get("BENCH_MOCKSERVER_TREE") or str(Path(__file__).resolve().parent.parent))
import ceiling  # noqa: E402
import datasets  # noqa: E402

from mockserver import MockConfig, MockService  # noqa: E402

Raw = Callable[[int], bytes]
# BENCH_CPU_TIME=1: the process' CPU time instead of the wall clock (time a busy host steals from
# this VM does not count)
CLOCK = time.process_time if os.environ.get("BENCH_CPU_TIME") == "1" else time.perf_counter


class FakeTransport(asyncio.Transport):
    """Counts what the server writes; never blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes += 1

    def writelines(self, data: Any) -> None:
        self.writes += 1

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, *args: Any, **kwargs: Any) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if body:
        head += f"Content-Length: {len(body)}\r\nContent-Type: application/json\r\n"
    return f"{method} {path} HTTP/1.1\r\nHost: bench\r\n{head}\r\n".encode() + body


async def per_request(runner: web.BaseRunner, raw: Raw, n: int) -> float:
    """µs per request over n requests on one keep-alive connection (after 200 to warm up)."""
    await runner.setup()
    protocol = runner.server()
    transport = FakeTransport()
    protocol.connection_made(transport)
    try:
        for count in (200, n):  # warm up, then measure
            transport.writes = 0
            started = CLOCK()
            for i in range(count):
                protocol.data_received(raw(i))
                while transport.writes <= i:
                    await asyncio.sleep(0)
        return (CLOCK() - started) / n * 1e6
    finally:
        await runner.cleanup()


def workloads(token: str, extra: dict[str, str] | None = None) -> dict[str, tuple[str, int, Raw]]:
    """name -> (api, data set size, request maker); `extra`: headers every request carries."""
    ufdl = {"Authorization": f"Bearer {token}", **(extra or {})}
    key = {"X-Api-Key": ceiling.TESTINY_KEY, **(extra or {})}
    run = time.monotonic_ns()
    return {
        "ufdl-get": ("ufdl", 1000, lambda i: request("GET", f"/v1/projects/{i % 1000 + 1}", ufdl)),
        "ufdl-patch": ("ufdl", 1000, lambda i: request("PATCH", f"/v1/projects/{i % 1000 + 1}", ufdl,
                                                       json.dumps({"name": f"p{run}-{i}"}).encode())),
        "ufdl-create": ("ufdl", 1000, lambda i: request("POST", "/v1/projects/create", ufdl,
                                                        json.dumps({"name": f"c{run}-{i}", "team": 1}).encode())),
        "ufdl-list": ("ufdl", 1000, lambda i: request("POST", "/v1/projects/list", ufdl, b"{}")),
        "testiny-read": ("testiny", 1000, lambda i: request("GET", f"/api/v1/project/{i % 1000 + 1}", key)),
        "testiny-update": ("testiny", 1000, lambda i: request(
            "PUT", f"/api/v1/project/{i % 1000 + 1}?force=true", key, json.dumps({"name": f"u {run} {i}"}).encode())),
        "testiny-create": ("testiny", 1000, lambda i: request("POST", "/api/v1/project", key,
                                                              json.dumps({"name": f"c {run} {i}"}).encode())),
        "testiny-find": ("testiny", 1000, lambda i: request("POST", "/api/v1/project/find", key,
                                                            b'{"pagination":{"limit":1000}}')),
        "testiny-filter": ("testiny", 100_000, lambda i: request(
            "POST", "/api/v1/project/find", key, b'{"filter":{"description":"hot"},"pagination":{"limit":100}}')),
    }


async def main(names: list[str], n: int, session: str | None = None, mock_only: bool = False,
               as_json: bool = False) -> None:
    found = {}
    for name in names:
        service = MockService(MockConfig(apis=("ufdl", "testiny"), access_log=False, demo_data=False))
        api, size, _ = workloads("")[name]
        seed = datasets.ufdl_seed(size) if api == "ufdl" else datasets.testiny_seed(size)
        world = service.sessions.open(session) if session else None
        for runtime in service.runtimes:
            if runtime.name == api:
                world.reset(runtime, seed[api]) if world else runtime.reset(seed[api])
        ufdl = next(r for r in service.runtimes if r.name == "ufdl")
        token = (world.state(ufdl) if world else ufdl.state).tokens.issue("access", 1)
        _, _, raw = workloads(token, {"X-Mock-Session": session} if session else None)[name]
        count = max(n // (100 if size > 1000 else 10 if name.endswith(("list", "find")) else 1), 100)
        mock = await per_request(web.ServerRunner(service.server(access_log=None)), raw, count)
        found[name] = mock
        if mock_only:
            if not as_json:
                print(f"{name:15} mock {mock:7.1f} us")
            continue
        bare = ceiling.create_app([api])
        bare[ceiling.STATE][api] = ceiling.Ufdl(size) if api == "ufdl" else ceiling.Testiny(size)
        if api == "ufdl":
            bare[ceiling.STATE]["ufdl"].tokens.add(token)
        top = await per_request(web.AppRunner(bare, access_log=None), raw, count)
        found[name] = {"mock": mock, "ceiling": top}
        if not as_json:
            print(f"{name:15} ceiling {top:7.1f} us   mock {mock:7.1f} us   ratio {top / mock:4.2f}x   "
                  f"mock extra {mock - top:+6.1f} us")
    if as_json:
        print(json.dumps(found))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=["ufdl-get", "ufdl-patch", "testiny-read", "testiny-update"])
    parser.add_argument("-n", type=int, default=20_000, help="requests per measurement (default 20,000)")
    parser.add_argument("--session", metavar="NAME", help="the mock's requests in this session")
    parser.add_argument("--mock-only", action="store_true", help="measure the mock only")
    parser.add_argument("--json", action="store_true",
                        help="print {workload: mock µs} (with --mock-only) or {workload: {mock, ceiling}} as JSON")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    runner(main(args.workloads, args.n, args.session, args.mock_only, args.json))
