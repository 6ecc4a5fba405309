"""The contract between the engine and an API package, and what a handler receives.

An API package hands the engine one `ApiDefinition`: its spec file, handlers keyed by
operationId, a factory for its state, an authenticator and an error renderer. Handlers receive a
`RequestContext` and return a `Reply`; they never build HTTP responses or error bodies themselves.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from .changes import ChangeLog
from .errors import MalformedBody, RequestInvalid, UnsupportedMediaType
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


class RequestContext:
    """Everything a handler needs about one request, parsed and (lazily) validated."""

    __slots__ = (
        "request", "runtime", "state", "options", "operation", "path_params", "query", "request_id", "user",
        "_body", "_body_error", "_violations", "validated",
    )

    def __init__(self, request: web.BaseRequest, runtime: Any, operation: Operation, path_params: dict[str, Any],
                 query: dict[str, Any], request_id: str, state: Any) -> None:
        self.request = request
        self.runtime = runtime
        self.state: Any = state  # the state of the world the request works on (its session's, or the default)
        self.options: Any = runtime.options
        self.operation = operation
        self.path_params = path_params
        self.query = query
        self.request_id = request_id
        self.user: Any = None
        self._body: Any = NO_BODY
        self._body_error: Exception | None = None
        self._violations: list[Violation] = []
        self.validated = False

    @property
    def violations(self) -> list[Violation]:
        return self._violations

    def parsed_body(self) -> Any:
        """The decoded body (JSON value, FormBody or NO_BODY); raises if it could not be decoded."""
        if self._body_error is not None:
            raise self._body_error
        return self._body

    def validated_body(self) -> Any:
        """The body, once the body and the query are known to satisfy the operation's schemas."""
        body = self.parsed_body()
        self.validated = True
        if self._violations:
            raise RequestInvalid(self._violations, body)
        return body


Handler = Callable[[RequestContext], "Reply | Awaitable[Reply]"]

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
class ApiDefinition:
    """Everything the engine needs to serve one API. Nothing in the engine names a real API."""

    name: str
    spec_file: str
    handlers: Mapping[str, Handler]
    create_state: Callable[[Any, Any], Any]  # (options, seed or None) -> state
    render_error: Callable[[Exception, str], Reply]  # (error, request id) -> error reply
    default_options: Any = None
    authenticate: Callable[[RequestContext], None] | None = None
    # (Allow list of a spec path, or None outside any path) -> the headers every answer there carries;
    # called once per path when the API is mounted
    response_headers: Callable[[tuple[str, ...] | None], Mapping[str, str]] | None = None
    # (response, Allow list of the matched path or None, request id, request): per-answer headers
    # and changes
    finish_response: Callable[[web.StreamResponse, tuple[str, ...] | None, str, web.BaseRequest], None] | None = None
    defer_validation: bool = False  # True: handlers call ctx.validated_body() where the API checks
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
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    options_from_args: Callable[[argparse.Namespace], Any] | None = None
    banner: Callable[[Any, str], list[str]] | None = None  # (runtime, base url) -> start-up lines
    # (options, tables, meta) -> the state they were saved from; None: the state (an ApiState
    # otherwise) cannot be persisted
    restore: Callable[[Any, Tables, dict[str, Any]], Any] | None = None


__all__ = ["NO_BODY", "ApiDefinition", "ApiState", "FormBody", "Handler", "MalformedBody", "Reply", "RequestContext",
           "Tables", "UnsupportedMediaType"]
