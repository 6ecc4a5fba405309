"""The UFDL backend's Projects v1 API (plus the auth, users and teams calls it needs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...api import ApiDefinition, CommandLine, HttpDialect
from . import options as opts
from .access import authenticate
from .accounts import HANDLERS as ACCOUNT_HANDLERS
from .errors import finish_response, render_error, response_headers
from .metadata import describe_path
from .projects import HANDLERS as PROJECT_HANDLERS
from .state import UfdlState


def create_state(options: opts.UfdlOptions, seed: dict[str, Any] | None) -> UfdlState:
    state = UfdlState(options)
    if seed:
        state.load(seed)
    return state


def banner(runtime: Any, base_url: str) -> list[str]:
    options = runtime.options
    users = [f"{u.username}/{u.password}" for u in runtime.state.users.values()
             if u.is_active and u.username != options.admin_username][:5]
    more = len([u for u in runtime.state.users.values() if u.is_active]) - 1 - len(users)
    return [
        f"UFDL     {base_url}/v1/  superuser {options.admin_username}/{options.admin_password}"
        + (f", users {', '.join(users)}" + (f" and {more} more" if more > 0 else "") if users else ""),
        f"         token: curl -s -X POST {base_url}/v1/auth/obtain -H 'Content-Type: application/json' "
        f"-d '{{\"username\": \"{options.admin_username}\", \"password\": \"{options.admin_password}\"}}'",
    ]


API = ApiDefinition(
    name="ufdl",
    spec_file="ufdl.yaml",
    seed_schema=str(Path(__file__).with_name("seed.yaml")),
    handlers={**ACCOUNT_HANDLERS, **PROJECT_HANDLERS},
    create_state=create_state,
    restore=UfdlState.restore,
    render_error=render_error,
    authenticate=authenticate,
    http=HttpDialect(
        response_headers=response_headers,
        finish_response=finish_response,
        describe_path=describe_path,
        defer_validation=True,  # DRF validates inside the action, after permissions and lookups
        optional_trailing_slash=True,
        parsed_media_types=("application/json", "application/x-www-form-urlencoded", "multipart/form-data"),
        body_errors_first=True,  # the real server's request logging reads request.data before anything else
        own_text_rules=True,  # its serializers' CharFields refuse surrogates with DRF's message
    ),
    cli=CommandLine(
        default_options=opts.UfdlOptions(),
        add_arguments=opts.add_arguments,
        options_from_args=opts.options_from_args,
        banner=banner,
    ),
)
