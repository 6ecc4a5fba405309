"""The `mockserver` command: serve the mock (default), check the specs (`check-spec`) or run the
conformance suite (`conformance`)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import ipaddress
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from . import __version__
from . import apis as api_registry
from .collector import freeze_after_full_collections
from .config import DEFAULT_MAX_BODY_BYTES, MockConfig
from .persistence import StateFileError
from .seeding import SeedError


def port_number(text: str) -> int:
    """A TCP port: 1-65535, or 0 for a free one (argparse type)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 1-65535, or 0 for a free one")
    return port


def count(text: str) -> int:
    """A whole number, 0 or more (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def seconds(text: str) -> float:
    """A positive number of seconds (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver",
        description="Stateful mock of the UFDL and Testiny project APIs, driven by their OpenAPI specs.",
        epilog="Other commands: `mockserver check-spec [FILE ...]` validates the OpenAPI specs; "
               "`mockserver conformance [--base-url URL] [options]` runs the conformance suite "
               "(`mockserver conformance --help` lists its options).",
    )
    parser.add_argument("--version", action="version", version=f"mockserver {__version__}")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8000,
                        help="port to listen on, 1-65535 (default: 8000; 0 picks a free one)")
    parser.add_argument("--api", action="append", choices=api_registry.names(), metavar="NAME",
                        help=f"serve only this API (repeatable; default: all of {', '.join(api_registry.names())})")
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--empty", action="store_true",
                      help="start without demo data: only each API's built-in account (the clean slate for CI)")
    data.add_argument("--seed", type=Path, metavar="FILE", help="start with the data of this YAML/JSON seed file")
    parser.add_argument("--strict", action="store_true",
                        help="check every response against the spec; a mismatch becomes a loud 500")
    parser.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES, metavar="N",
                        help=f"larger request bodies get 413 (default: {DEFAULT_MAX_BODY_BYTES})")
    parser.add_argument("--state-file", type=Path, metavar="PATH",
                        help="load the state from PATH at start (if it exists) and save it there after changes")
    parser.add_argument("--journal-entries", type=int, default=1000, metavar="N",
                        help="the request journal keeps the last N requests (default: 1000)")
    parser.add_argument("--journal-bytes", type=int, default=8 * 1024 * 1024, metavar="N",
                        help="...and at most N bytes in all, oldest entries dropped first (default: 8 MiB)")
    parser.add_argument("--journal-body-bytes", type=int, default=4096, metavar="N",
                        help="...and of each request body its first N bytes (default: 4096)")
    parser.add_argument("--header-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="a client gets this long to send a request's line and headers (default: 10)")
    parser.add_argument("--body-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="...and this long to send its body, else 400 in the API's envelope (default: 30)")
    parser.add_argument("--max-sessions", type=count, default=100, metavar="N",
                        help="at most N sessions (X-Mock-Session header or mock_session cookie) at a time; "
                             "0 turns sessions off (default: 100)")
    parser.add_argument("--session-idle", type=seconds, default=1800.0, metavar="SECONDS",
                        help="a session unused this long ends (default: 1800)")
    parser.add_argument("--no-control", action="store_true", help="do not serve the control API under /__mock__/")
    parser.add_argument("--control-token", metavar="TOKEN",
                        help="require X-Mock-Token: TOKEN on control calls (needed to serve it on a non-loopback host)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--quiet", action="store_true", help="no line per request on the console")
    for definition in api_registry.definitions():
        if definition.cli.add_arguments:
            definition.cli.add_arguments(parser)
    return parser


def config_from_args(args: argparse.Namespace) -> MockConfig:
    loopback = is_loopback(args.host)
    control = not args.no_control and (loopback or args.control_token is not None)
    if not args.no_control and not control:
        print("mockserver: control API off on a non-loopback host without --control-token", file=sys.stderr)
    apis = tuple(dict.fromkeys(args.api)) if args.api else api_registry.names()
    api_options = {}
    for name in apis:
        definition = api_registry.load(name)
        if definition.cli.options_from_args:
            api_options[name] = definition.cli.options_from_args(args)
    return MockConfig(
        host=args.host, port=args.port, apis=apis, demo_data=not args.empty, strict=args.strict,
        max_body_bytes=args.max_body_bytes, api_options=api_options, seed_file=args.seed,
        state_file=args.state_file, control=control, control_token=args.control_token,
        access_log=not args.quiet, log_level=args.log_level, journal_entries=args.journal_entries,
        journal_bytes=args.journal_bytes, journal_body_bytes=args.journal_body_bytes,
        header_timeout=args.header_timeout, body_timeout=args.body_timeout,
        max_sessions=args.max_sessions, session_idle=args.session_idle,
    )


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this machine's loopback interface, judged by address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(config: MockConfig) -> int:
    from .service import MockService

    logging.basicConfig(level=config.log_level.upper(), format="%(message)s")
    try:
        service = MockService(config)
    except (SeedError, StateFileError, ValueError) as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2
    # the seed's records live as long as the server: keep them out of the cyclic collector's
    # full passes (gen-2 pauses of 20-80 ms showed up as p99 spikes under load)
    gc.collect()
    gc.freeze()
    try:
        run(_serve_until_stopped(service, config))
    except OSError as exc:
        print(f"mockserver: cannot listen on {config.host}:{config.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


async def _serve_until_stopped(service: Any, config: MockConfig) -> None:
    """Listen, print where and how to log in, and stop cleanly on Ctrl-C / SIGTERM."""
    runner = web.ServerRunner(service.server(access_log=None), shutdown_timeout=10.0)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        service.close()
        raise
    uninstall = freeze_after_full_collections(asyncio.get_running_loop())
    port = runner.addresses[0][1]  # the real port, also when --port 0
    host = config.host if config.host not in ("0.0.0.0", "::") else "localhost"
    base = f"http://{host}:{port}"
    lines = [f"mockserver {__version__} listening on {base}  (Ctrl-C to stop)", f"data     {service.loaded}"]
    for runtime in service.runtimes:
        if runtime.definition.cli.banner:
            lines.extend(runtime.definition.cli.banner(runtime, base))
        else:  # an API that says nothing of itself at start-up: at least where it is
            lines.append(f"{runtime.name:8} {base}{runtime.root}")
    if config.max_sessions:
        lines.append(f"sessions X-Mock-Session: NAME (header) or mock_session=NAME (cookie): a world of its own "
                     f"(at most {config.max_sessions}, each ending after {config.session_idle:g} s unused)")
    if config.control:
        lines.append(f"control  {base}/__mock__/  (dashboard, health, reset, state, sessions)")
    print("\n".join(lines), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        print("mockserver: shutting down", flush=True)
        await runner.cleanup()  # finishes in-flight requests first
        service.close()
        uninstall()


def run(coroutine: Any) -> Any:
    """Run the server on uvloop when it is installed, else on asyncio's default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def check_spec(argv: list[str]) -> int:
    """`mockserver check-spec [FILE ...]`: validate OpenAPI specs (the bundled ones by default)."""
    parser = argparse.ArgumentParser(prog="mockserver check-spec",
                                     description="Validate OpenAPI 3.1 documents as the mock reads them: against "
                                                 "the OpenAPI schema (openapi-spec-validator), then compiled by "
                                                 "the mock (routes, parameters, schemas).")
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE",
                        help="spec files to check (default: every bundled spec)")
    args = parser.parse_args(argv)
    import yaml
    from openapi_spec_validator import validate

    from .spec import compile_spec, find_spec_file

    files = args.files or [find_spec_file(name) for name in (*(d.spec_file for d in api_registry.definitions()),
                                                                "control.yaml")]
    failed = 0
    for path in files:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            validate(document)
            compile_spec(document)
            print(f"ok      {path}")
        except Exception as exc:  # report every file, then fail
            failed += 1
            print(f"INVALID {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
    return 1 if failed else 0


def run_conformance(args: list[str]) -> int:
    """`mockserver conformance [options]`: the conformance suite (needs the `conformance` extra)."""
    try:
        from conformance.runner import main as run_suite
    except ImportError as exc:
        print(f"mockserver conformance: {exc}; install the suite with: pip install 'mockserver[conformance]'",
              file=sys.stderr)
        return 2
    return run_suite(args)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "check-spec":
        return check_spec(argv[1:])
    if argv and argv[0] == "conformance":
        return run_conformance(argv[1:])
    if argv and argv[0] == "serve":
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2
    return serve(config)
