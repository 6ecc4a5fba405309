"""Command-line options of the suite, read once in `pytest_configure` (before collection).

Schemathesis builds cases (and calls auth providers) while collecting, so everything here is a
plain module-level object rather than a fixture.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APIS = ("ufdl", "testiny")


@dataclass
class Settings:
    base_url: str | None = None  # None: start the mock in-process
    apis: tuple[str, ...] = ()  # empty: every API the target serves
    username: str | None = None
    password: str | None = None
    api_key: str | None = None
    team: int | None = None
    allow_create_accounts: bool = False
    read_only: bool = False
    thorough: bool = False
    max_examples: int | None = None
    deviations_file: Path | None = None
    report_file: Path | None = None
    rules: tuple[str, ...] = ()
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))

    @property
    def live(self) -> bool:
        return self.base_url is not None

    @property
    def prefix(self) -> str:
        """Every name the suite gives a record starts with this (run-specific) prefix."""
        return f"cf-{self.run_id}-"

    def examples(self, default: int, thorough: int) -> int:
        if self.max_examples is not None:
            return self.max_examples
        return thorough if self.thorough else default


SETTINGS = Settings()


def add_options(parser: Any) -> None:
    group = parser.getgroup("conformance", "conformance suite (conformance/README.md)")
    group.addoption("--base-url", default=os.environ.get("CONFORMANCE_BASE_URL"), metavar="URL",
                    help="check the live server at URL instead of starting the mock in-process "
                         "(default: $CONFORMANCE_BASE_URL)")
    group.addoption("--api", action="append", choices=APIS, default=None,
                    help="the API to check (repeatable). Required with --base-url unless the server is this "
                         "mock (it says which APIs it serves); default: every API the target serves")
    group.addoption("--username", default=os.environ.get("UFDL_USERNAME"),
                    help="UFDL account (default: $UFDL_USERNAME; admin for the in-process mock)")
    group.addoption("--password", default=os.environ.get("UFDL_PASSWORD"),
                    help="password of --username (default: $UFDL_PASSWORD; admin for the in-process mock)")
    group.addoption("--api-key", default=os.environ.get("TESTINY_API_KEY"),
                    help="Testiny X-Api-Key (default: $TESTINY_API_KEY; the mock's key in-process)")
    group.addoption("--team", type=int, default=_int_env("UFDL_TEAM"), metavar="PK",
                    help="UFDL team in which the suite creates its projects on a live server; the account needs "
                         "W or A in it (needed for a non-admin account; default: $UFDL_TEAM)")
    group.addoption("--allow-create-accounts", action="store_true",
                    default=os.environ.get("CONFORMANCE_ALLOW_CREATE_ACCOUNTS") == "1",
                    help="on a live UFDL server, allow creating users and teams (needed for the permission "
                         "scenarios); they cannot be hard-deleted and stay behind (teams soft-deleted)")
    group.addoption("--read-only", action="store_true",
                    help="send only what cannot change state (reads, lists, finds, requests that must be refused): "
                         "a smoke check for production servers; nothing is created")
    group.addoption("--thorough", action="store_true",
                    help="many more generated examples (nightly runs); default is a fast, deterministic run")
    group.addoption("--max-examples", type=int, default=None, metavar="N",
                    help="examples per operation and stateful scenarios (overrides the default/--thorough)")
    group.addoption("--rule", action="append", default=None, metavar="GLOB",
                    help="run only the scenarios whose rule id matches GLOB (repeatable; e.g. 'ufdl.soft-delete.*')")
    group.addoption("--report", type=Path, default=None, metavar="FILE",
                    help="also write the results grouped by rule (failed, expected failure, advisory, passed) with "
                         "the curl line of each failure: Markdown, or HTML when FILE ends in .html")
    group.addoption("--deviations", type=Path, default=None, metavar="FILE",
                    help="YAML mapping of rule id, test id or operation to a reason: matching failures are "
                         "reported as expected failures (xfail) with the reason, never hidden; a name of a "
                         "shipped file works too (ufdl-backend: the real UFDL backend's known bugs)")


SHIPPED_DEVIATIONS = Path(__file__).resolve().parent / "deviations"


def resolve_deviations(path: Path | None) -> Path | None:
    """A deviations file: a path, or the name of one shipped with the suite (`ufdl-backend`)."""
    if path is None or path.exists():
        return path
    for candidate in (SHIPPED_DEVIATIONS / path.name, SHIPPED_DEVIATIONS / f"{path.name}.yaml"):
        if candidate.is_file():
            return candidate
    return path  # reported as missing when it is read


def _int_env(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


def configure(config: Any) -> Settings:
    base_url = config.getoption("--base-url")
    SETTINGS.base_url = base_url.rstrip("/") if base_url else None
    SETTINGS.apis = tuple(dict.fromkeys(config.getoption("--api") or ()))
    SETTINGS.username = config.getoption("--username")
    SETTINGS.password = config.getoption("--password")
    SETTINGS.api_key = config.getoption("--api-key")
    SETTINGS.team = config.getoption("--team")
    SETTINGS.allow_create_accounts = config.getoption("--allow-create-accounts")
    SETTINGS.read_only = config.getoption("--read-only")
    SETTINGS.thorough = config.getoption("--thorough")
    SETTINGS.max_examples = config.getoption("--max-examples")
    SETTINGS.deviations_file = resolve_deviations(config.getoption("--deviations"))
    SETTINGS.report_file = config.getoption("--report")
    SETTINGS.rules = tuple(config.getoption("--rule") or ())
    return SETTINGS
