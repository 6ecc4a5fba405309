"""Testiny settings: the API keys the mock accepts, and the command-line options that add keys.

The demo key is always accepted (the banner prints it); `--testiny-api-key KEY` adds keys of
your own, one user per key, in the order given.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

DEMO_API_KEY = "testiny-mock-demo-key"


@dataclass(frozen=True)
class TestinyOptions:
    """Accepted API keys; the first is the demo key (user 1), the others are users 2, 3, ..."""

    __test__ = False  # a name pytest would take for a test class where tests import it
    api_keys: tuple[str, ...] = (DEMO_API_KEY,)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Testiny")
    group.add_argument("--testiny-api-key", action="append", default=[], metavar="KEY",
                       help=f"also accept this X-Api-Key (repeatable; the demo key {DEMO_API_KEY} always works)")


def options_from_args(args: argparse.Namespace) -> TestinyOptions:
    extra = [key.strip() for key in args.testiny_api_key]
    if any(not key for key in extra):
        raise ValueError("--testiny-api-key needs a non-empty KEY")
    return TestinyOptions(tuple(dict.fromkeys([DEMO_API_KEY, *extra])))
