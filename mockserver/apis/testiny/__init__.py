"""The Testiny REST API's `project` resource (plus `account/me` and `permission/me`), keyed by API key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...api import ApiDefinition, CommandLine, HttpDialect
from . import options as opts
from .access import API_KEY_HEADER, authenticate
from .accounts import HANDLERS as ACCOUNT_HANDLERS
from .bulk import HANDLERS as BULK_HANDLERS
from .errors import finish_response, render_error
from .projects import HANDLERS as PROJECT_HANDLERS
from .state import TestinyState


def create_state(options: opts.TestinyOptions | None, seed: dict[str, Any] | None) -> TestinyState:
    """A fresh store with the options' API keys and the projects of the `testiny:` seed section."""
    store = TestinyState(options or opts.TestinyOptions())
    store.load(seed or {})
    return store


def banner(runtime: Any, base_url: str) -> list[str]:
    api_url = base_url + runtime.base_path
    keys = runtime.options.api_keys
    lines = [f"Testiny  {api_url}/  {API_KEY_HEADER}: {keys[0]}  (demo key)"]
    lines.extend(f"         {API_KEY_HEADER}: {key}" for key in keys[1:])
    lines.append(f"         try: curl -s {api_url}/account/me -H '{API_KEY_HEADER}: {keys[0]}'")
    return lines


API = ApiDefinition(
    name="testiny",
    spec_file="testiny.yaml",
    seed_schema=str(Path(__file__).with_name("seed.yaml")),
    handlers={**ACCOUNT_HANDLERS, **PROJECT_HANDLERS, **BULK_HANDLERS},
    create_state=create_state,
    restore=TestinyState.restore,
    render_error=render_error,
    authenticate=authenticate,
    http=HttpDialect(finish_response=finish_response),
    cli=CommandLine(
        default_options=opts.TestinyOptions(),
        add_arguments=opts.add_arguments,
        options_from_args=opts.options_from_args,
        banner=banner,
    ),
)
