"""The contract between the engine and an API package, and what a handler receives.

An API package hands the engine one `ApiDefinition`: its spec file, handlers keyed by
operationId, a factory for its state, an authenticator and an error renderer. Handlers receive a
`RequestContext` and return a `Reply`; they never build HTTP responses or error bodies themselves.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from aiohttp import web

from . import text
from .changes import ChangeLog
from .errors import MalformedBody, RequestInvalid, UnsupportedMediaType
from .router import PathEntry
from .spec import Operation
from .validation import Violation


class _NoBody:
    """Marks a request or reply without a body (distinct from a JSON `null`)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_BODY"

    def __bool__(self) -> bool:
        return False


NO_BODY: Any = _NoBody()


class FormBody(dict):
    """A form-encoded or multipart body: each field maps to the list of its values."""

    def last_values(self) -> dict[str, str]:
        """What a Django QueryDict's `get` would give: the last value of every field."""
        return {key: values[-1] for key, values in self.items() if values}


@dataclass(slots=True)
class Reply:
    """What a handler returns: a status, a JSON-able body (or NO_BODY) and extra headers.

    With `content_type` set, `body` is sent as is (text or bytes), e.g. an HTML page.
    """

    status: int = 200
    body: Any = NO_BODY
    headers: Mapping[str, str] | None = None
    content_type: str | None = None


StateT = TypeVar("StateT")  # the state type of an API
OptionsT = TypeVar("OptionsT")  # the options type of an API


class RequestContext(Generic[StateT]):
    """Everything a handler needs about one request: parsed up front, body checks run when asked for.

    The engine hands the decoded body in (`take_body`, `refuse_body`); the schema check of the body
    runs once, on the first call of `validated_body` or `violations` — an API that checks bodies
    its own way (`HttpDialect.defer_validation`) and never asks pays nothing for it.
    """

    __slots__ = (
        "request", "runtime", "state", "options", "operation", "path_params", "query", "request_id", "user",
        "_body", "_body_error", "_query_violations", "_body_violations", "_check_text",
    )

    def __init__(self, request: web.BaseRequest, runtime: Any, operation: Operation, path_params: dict[str, Any],
                 query: dict[str, Any], request_id: str, state: StateT,
                 query_violations: list[Violation] | None = None) -> None:
        self.request = request
        self.runtime = runtime
        self.state: StateT = state  # the state of the world the request works on (its session's, or the default)
        self.options: Any = runtime.options
        self.operation = operation
        self.path_params = path_params
        self.query = query
        self.request_id = request_id
        self.user: Any = None
        self._body: Any = NO_BODY
        self._body_error: Exception | None = None
        self._query_violations = query_violations
        # None: not checked yet (an operation without a body schema has nothing to check)
        self._body_violations: list[Violation] | None = None if operation.body_validator is not None else []
        self._check_text = False

    def take_body(self, body: Any, *, check_text: bool = False) -> None:
        """The decoded body; `check_text`: it may hold a lone surrogate (see text.py) the check must find."""
        self._body = body
        if check_text:
            self._check_text = True
            self._body_violations = None  # the text check runs whatever the operation's schema

    def refuse_body(self, error: Exception) -> None:
        """The body could not be decoded (or is of a media type the operation does not take): `error`
        is raised when the body is asked for."""
        self._body_error = error

    @property
    def violations(self) -> list[Violation]:
        """What in the query and the body the operation's schemas do not allow."""
        if self._body_violations is None:
            self._body_violations = self._check_body()
        if self._query_violations is None:
            return self._body_violations
        return self._query_violations + self._body_violations

    def parsed_body(self) -> Any:
        """The decoded body (JSON value, FormBody or NO_BODY); raises if it could not be decoded."""
        if self._body_error is not None:
            raise self._body_error
        return self._body

    def validated_body(self) -> Any:
        """The body, once the body and the query are known to satisfy the operation's schemas."""
        body = self.parsed_body()
        violations = self.violations
        if violations:
            raise RequestInvalid(violations, body)
        return body

    def _check_body(self) -> list[Violation]:
        operation = self.operation
        body = self._body
        if self._body_error is not None:
            return []
        if body is NO_BODY:
            if operation.body_required and operation.body_validator is not None:
                return [Violation("body", (), "request body is required", "required")]
            return []
        found: list[Violation] = []
        if self._check_text:
            surrogate = text.find_lone_surrogate(body)
            if surrogate is not None:
                found.append(Violation("body", surrogate[0], text.describe(surrogate[1]), "unicode", surrogate[1]))
        if operation.body_validator is not None:
            value = body.last_values() if isinstance(body, FormBody) else body
            found.extend(operation.body_validator.violations(value, "body"))
        return found


Handler = Callable[[RequestContext[StateT]], "Reply | Awaitable[Reply]"]

# a stored form of a state: rows per kind of record (as `ApiState.row` gives them) and its meta
Tables = Mapping[str, list[dict[str, Any]]]


class ApiState(Protocol):
    """What the engine needs of an API's state: to show it, save it change by change, seed it and
    purge it. `restore` (on ApiDefinition) is the way back from the stored form."""

    changes: ChangeLog  # every record written or removed is noted here (by kind and key)

    def dump(self) -> dict[str, Any]:
        """The state as JSON, for people (the control API's /state and the dashboard)."""

    def records(self) -> Iterable[tuple[str, Any, Any]]:
        """Every record as (kind, key, record): what a complete save writes."""

    def row(self, kind: str, record: Any) -> dict[str, Any]:
        """A record as stored: plain JSON that `restore` turns back into the same record."""

    def meta(self) -> dict[str, Any]:
        """The small rest of the state (counters, signing keys), saved with every change."""

    def merge_seed(self, seed: Mapping[str, Any]) -> None:
        """Add a seed section's records to the state."""

    def purge(self, prefix: str) -> dict[str, int]:
        """Remove for good the records named with `prefix`; the count removed per kind."""

    def new_world(self) -> None:
        """Make this state (just restored from a stored form, for a session) a world of its own:
        nothing minted for the world it was stored from — tokens, etags — holds in it."""


@dataclass(frozen=True)
class HttpDialect:
    """How an API's real server speaks HTTP where servers differ; the defaults are plain HTTP."""

    # (Allow list of a spec path, or None outside any path) -> the headers every answer there carries;
    # called once per path when the API is mounted
    response_headers: Callable[[tuple[str, ...] | None], Mapping[str, str]] | None = None
    # (response, Allow list of the matched path or None, request id, request): per-answer headers
    # and changes
    finish_response: Callable[[web.StreamResponse, tuple[str, ...] | None, str, web.BaseRequest], None] | None = None
    # (a spec path) -> the answer to OPTIONS there when the spec has no OPTIONS operation (DRF's
    # metadata body); None: 204 with `Allow`
    describe_path: Callable[[PathEntry], Reply] | None = None
    # True: handlers check bodies themselves, in the API's order (ctx.validated_body() or their own
    # rules); the engine then never runs the body's schema check outside strict mode
    defer_validation: bool = False
    optional_trailing_slash: bool = False
    # media types the API parses on every operation that takes a body, beyond those its spec
    # lists for it (DRF parses JSON, form and multipart everywhere; a bad form is a 400, not a 415)
    parsed_media_types: tuple[str, ...] = ()
    # True: a body that cannot be decoded is refused (400/415) before anything else — method,
    # negotiation, authentication, lookup — on every method, GET and DELETE included (DRF
    # servers whose request logging reads `request.data` first behave so)
    body_errors_first: bool = False
    # True: the API refuses text that is not Unicode in its own way, field by field (DRF's
    # CharField: "Surrogate characters are not allowed"); otherwise a JSON body holding a lone
    # surrogate anywhere is a schema violation (see text.py)
    own_text_rules: bool = False


PLAIN_HTTP = HttpDialect()


@dataclass(frozen=True)
class CommandLine(Generic[OptionsT]):
    """An API's options and what it adds to the command line."""

    default_options: OptionsT | None = None
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    options_from_args: Callable[[argparse.Namespace], OptionsT] | None = None
    banner: Callable[[Any, str], list[str]] | None = None  # (runtime, base url) -> start-up lines


NO_OPTIONS: CommandLine[Any] = CommandLine()


@dataclass(frozen=True)
class ApiDefinition(Generic[StateT, OptionsT]):
    """Everything the engine needs to serve one API, generic in its state and options types.
    Nothing in the engine names a real API."""

    name: str
    spec_file: str
    handlers: Mapping[str, Handler[StateT]]
    create_state: Callable[[OptionsT, Mapping[str, Any] | None], StateT]  # (options, seed section or None) -> state
    render_error: Callable[[Exception, str], Reply]  # (error, request id) -> error reply
    authenticate: Callable[[RequestContext[StateT]], None] | None = None
    # (options, tables, meta) -> the state they were saved from (an ApiState); None: the state
    # cannot be persisted
    restore: Callable[[OptionsT, Tables, dict[str, Any]], StateT] | None = None
    # a JSON Schema (YAML file) of the API's section of seed files; its `$ref`s may name the API's
    # spec as `urn:mockserver:<name>`. None: the API takes no seed section
    seed_schema: str | None = None
    http: HttpDialect = PLAIN_HTTP
    cli: CommandLine[OptionsT] = NO_OPTIONS


__all__ = ["NO_BODY", "ApiDefinition", "ApiState", "CommandLine", "FormBody", "Handler", "HttpDialect", "MalformedBody",
           "Reply", "RequestContext", "Tables", "UnsupportedMediaType"]
