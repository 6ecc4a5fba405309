"""One mounted API at run time, and the dispatch of its requests.

`ApiRuntime` holds the API's compiled spec, router, handlers and current state (reset, restored,
made afresh for a session), and `ApiRuntime.handle` is the request pipeline of DESIGN.md:
route → path parameters → method → content negotiation → body → authentication → validation →
handler → answer (→ the strict contract check). Each stage's work lives in a module of its own:
`router`, `parameters`, `bodies`, `answers`, `contract`.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
from collections.abc import Awaitable, Mapping
from typing import Any

from aiohttp import web

from . import jsonio
from . import prefer as prefs
from .answers import Answers
from .api import NO_BODY, ApiDefinition, Reply, RequestContext
from .bodies import decode, media_type_of, read_body, unreadable
from .contract import ContractViolation, contract_problems
from .errors import EngineError, InternalError, MethodNotAllowed, MockAnswer, PathParamInvalid, UnsupportedMediaType
from .jsonio import Encoded
from .parameters import negotiate, path_params, query_params
from .router import PathEntry, Router
from .spec import ApiSpec, Operation, SpecError, load_spec

log = logging.getLogger("mockserver")

RESOLVED_PATHS = 10_000  # bound of the per-runtime caches of resolved paths and accepted Accept headers
_UNDECODED: Any = object()


class ApiRuntime:
    def __init__(self, definition: ApiDefinition, options: Any = None, *, strict: bool = False,
                 seed: Any = None, spec: ApiSpec | None = None,
                 common_headers: Mapping[str, str] | None = None, body_timeout: float = 30.0) -> None:
        self.definition = definition
        self.body_timeout = body_timeout  # seconds a request's body may take to arrive
        self.name = definition.name
        self.options = options if options is not None else definition.cli.default_options
        self.strict = strict
        self.spec = spec or load_spec(definition.spec_file, definition.name)
        _check_handlers(definition, self.spec)
        self.router = Router(self.spec, optional_trailing_slash=definition.http.optional_trailing_slash)
        self.root = _root(self.spec)  # where the API lives, e.g. /v1/
        self.seed = seed
        self.persisted = False  # True: every change of the state is noted for the state file
        self.restored = False  # True: the state came from the state file at start-up
        self._stored_start: tuple[dict[str, bytes], dict[str, Any]] | None = None  # that stored form, encoded
        self.state: Any = None
        self._adopt(definition.create_state(self.options, seed))
        self.contract_violations: list[str] = []
        self._id_prefix = secrets.token_hex(4)
        self._id_counter = itertools.count(1)
        self._answers = Answers(self.router, definition, common_headers or {})
        # per path: the media types its operations decode (for HttpDialect.body_errors_first)
        self._decoded_types = {entry.template: frozenset(definition.http.parsed_media_types).union(
            *(op.body_media_types for op in entry.operations.values())) for entry in self.router.entries}
        self._check_text = not definition.http.own_text_rules
        self._parsed_everywhere = definition.http.parsed_media_types
        self._resolved: dict[str, tuple[PathEntry, dict[str, Any]]] = {}  # path -> route and coerced parameters
        self._acceptable: set[tuple[str, str]] = set()  # (operationId, Accept) pairs that passed negotiation

    # -- the state -----------------------------------------------------------------------------

    @property
    def base_path(self) -> str:
        return self.spec.base_path

    @property
    def persistable(self) -> bool:
        return self.definition.restore is not None

    def _adopt(self, state: Any) -> None:
        self.state = state
        if self.persisted:
            state.changes.enabled = True

    def persist(self) -> None:
        """From now on, note every change of the state (the service saves them after each request)."""
        self.persisted = True
        self.state.changes.enabled = True

    def reset(self, seed: Any = None) -> None:
        """Replace the state with a fresh one built from `seed` (default: the start-up seed)."""
        self._adopt(self.definition.create_state(self.options, self.seed if seed is None else seed))

    def fresh_state(self, seed: Any = None) -> Any:
        """A state of a world of its own (a session's): built from `seed`, else from the start-up
        data — the state file's records when the state came from one, with new credentials."""
        if seed is not None or self._stored_start is None:
            return self.definition.create_state(self.options, self.seed if seed is None else seed)
        encoded, meta = self._stored_start
        tables = {kind: jsonio.loads_stored(rows) for kind, rows in encoded.items()}
        state = self.definition.restore(self.options, tables, dict(meta))
        state.new_world()
        return state

    def restore(self, tables: Any, meta: dict[str, Any]) -> None:
        """Replace the state with the one stored as `tables` and `meta` (see ApiState)."""
        if self.definition.restore is None:
            raise ValueError(f"{self.name} does not support --state-file")
        self._adopt(self.definition.restore(self.options, tables, meta))
        self._stored_start = ({kind: jsonio.dumps(rows) for kind, rows in tables.items()}, dict(meta))

    # -- requests ------------------------------------------------------------------------------

    def new_request_id(self) -> str:
        """Unique per request and process: a random prefix per runtime and a counter."""
        return f"{self._id_prefix}{next(self._id_counter):08x}"

    async def handle(self, request: web.BaseRequest, path: str, state: Any = None,
                     note: dict[str, Any] | None = None) -> web.StreamResponse:
        """Answer a request for `path` (its decoded path) in the world of `state` (default: this
        runtime's own state). `note` gets what the journal tells of the request: the API, the
        operation, why it was refused, and the body bytes when they were read (`body`)."""
        if note is None:
            note = {}
        request_id = self.new_request_id()
        entry: PathEntry | None = None
        operation: Operation | None = None
        ctx: RequestContext | None = None
        try:
            entry, params = self.resolve(path)
            early: tuple[bytes, Any] | None = None
            if self.definition.http.body_errors_first and request.body_exists:
                early = await self._decode_first(request, entry, note)
            operation = entry.operations.get(request.method)
            if operation is None:
                operation = self._other_method(request, entry)
            preferred = None
            if operation is not None and "Prefer" in request.headers:  # see prefer.py
                preferred = await prefs.honour(request.headers["Prefer"], operation, self.spec.document)
            if preferred is not None:
                reply = preferred
            elif operation is None:  # OPTIONS of a path whose spec has no OPTIONS operation
                reply = self._options_reply(entry)
            else:
                ctx = self._context(request, operation, params, request_id, self.state if state is None else state)
                if early is not None:
                    self._take_body(request, ctx, *early, note)
                elif operation.body_media_types and request.body_exists:  # the only wait: reading a body
                    self._take_body(request, ctx, await read_body(request, self.body_timeout), _UNDECODED, note)
                reply = self._run(ctx)
                if type(reply) is not Reply:  # an async handler
                    reply = await reply
        except Exception as exc:  # every failure ends in this API's envelope
            if isinstance(exc, PathParamInvalid):
                entry = None  # the path does not name a resource after all
            reply = self._error_reply(exc, request_id)
            note["errors"] = _describe(exc, reply)
        note["api"] = self.name
        note["operation"] = operation.operation_id if operation else None
        response = self._answers.response(reply, entry, request_id, request)
        if self.strict and operation is not None:
            problems = contract_problems(operation, reply, response, ctx)
            if problems:
                message = f"{operation.operation_id} answered {reply.status}: " + "; ".join(problems[:5])
                self.contract_violations.append(message)
                log.error("contract violation: %s", message)
                failure = self._error_reply(InternalError(ContractViolation(message)), request_id)
                response = self._answers.response(failure, entry, request_id, request)
        return response

    def resolve(self, path: str) -> tuple[PathEntry, dict[str, Any]]:
        """The spec path serving `path` and its coerced, schema-checked path parameters (cached)."""
        found = self._resolved.get(path)
        if found is not None:
            return found[0], dict(found[1])
        entry, raw_params = self.router.resolve_path(path)
        params = path_params(next(iter(entry.operations.values())), raw_params)
        if len(self._resolved) >= RESOLVED_PATHS:
            self._resolved.clear()
        self._resolved[path] = (entry, params)
        return entry, dict(params)

    def mock_answer(self, request: web.BaseRequest, path: str, answer: MockAnswer,
                    note: dict[str, Any] | None = None) -> web.Response:
        """An answer of the mock's own (a fault rule's status, a session refused) to a request for
        `path`, in this API's envelope and with its usual headers."""
        request_id = self.new_request_id()
        try:
            entry: PathEntry | None = self.router.resolve_path(path)[0]
        except EngineError:
            entry = None
        if note is not None:
            note["api"] = self.name
        return self._answers.response(self._error_reply(answer, request_id), entry, request_id, request)

    @staticmethod
    def _other_method(request: web.BaseRequest, entry: PathEntry) -> Operation | None:
        """For a method the path has no operation of: HEAD is served by GET, OPTIONS is None (the
        path is described); any other is a 405, after content negotiation (which comes first on
        the servers we mock)."""
        method = request.method
        if method == "OPTIONS":
            return None
        if method == "HEAD" and "GET" in entry.operations:
            return entry.operations["GET"]
        negotiate(request, next(iter(entry.operations.values())))
        raise MethodNotAllowed(method, entry.allowed)

    def _options_reply(self, entry: PathEntry) -> Reply:
        """The API's description of a path (HttpDialect.describe_path), else 204 with `Allow`."""
        if self.definition.http.describe_path is not None:
            return self.definition.http.describe_path(entry)
        return Reply(204, headers={"Allow": ", ".join(entry.allowed)})

    def _context(self, request: web.BaseRequest, operation: Operation, params: dict[str, Any],
                 request_id: str, state: Any) -> RequestContext:
        """Content negotiation and the query parameters, into a fresh RequestContext."""
        accept = request.headers.get("Accept")
        if accept and (operation.operation_id, accept) not in self._acceptable:
            negotiate(request, operation)
            if len(self._acceptable) >= RESOLVED_PATHS:
                self._acceptable.clear()
            self._acceptable.add((operation.operation_id, accept))
        if not operation.query_params:
            return RequestContext(request, self, operation, params, {}, request_id, state)
        query, violations = query_params(request, operation)
        return RequestContext(request, self, operation, params, query, request_id, state, violations or None)

    async def _decode_first(self, request: web.BaseRequest, entry: PathEntry,
                            note: dict[str, Any]) -> tuple[bytes, Any]:
        """Read and decode the body now, raising its error (see HttpDialect.body_errors_first);
        the bytes and the decoded value are handed to the operation later."""
        data = await read_body(request, self.body_timeout)
        header = request.headers.get("Content-Type", "")
        media_type = media_type_of(header)
        if isinstance(data, Exception):
            raise unreadable(data, media_type)
        note["body"] = data
        if not data:
            return data, _UNDECODED
        if media_type not in self._decoded_types[entry.template]:
            raise UnsupportedMediaType(header)
        return data, decode(data, media_type, header)

    def _take_body(self, request: web.BaseRequest, ctx: RequestContext, data: bytes | Exception,
                   decoded: Any, note: dict[str, Any]) -> None:
        """Decode a body just read (or take the value `_decode_first` decoded) into ctx. A body is
        decoded when its media type is one the operation lists, or one the API parses on every
        operation (`HttpDialect.parsed_media_types`, e.g. DRF's form parsers); otherwise it is a
        415. Errors are kept in ctx and raised when the handler asks for the body."""
        operation = ctx.operation
        header = request.headers.get("Content-Type", "")
        media_type = media_type_of(header)
        if isinstance(data, Exception):
            ctx.refuse_body(unreadable(data, media_type))
            return
        note["body"] = data
        if not data:
            return
        try:
            if media_type not in operation.body_media_types and media_type not in self._parsed_everywhere:
                raise UnsupportedMediaType(header)
            if decoded is _UNDECODED:
                decoded = decode(data, media_type, header)
        except EngineError as exc:
            ctx.refuse_body(exc)
            return
        # only an escape makes a lone surrogate (see text.py)
        ctx.take_body(decoded, check_text=self._check_text and b"\\u" in data)

    def _run(self, ctx: RequestContext) -> Reply | Awaitable[Reply]:
        """Authentication, validation (unless the API defers it to its handlers), then the handler."""
        if self.definition.authenticate is not None:
            self.definition.authenticate(ctx)
        if not self.definition.http.defer_validation:
            ctx.validated_body()
        return self.definition.handlers[ctx.operation.operation_id](ctx)

    def _error_reply(self, exc: Exception, request_id: str) -> Reply:
        try:
            return self.definition.render_error(exc, request_id)
        except Exception:  # not an error the API knows: a bug in the mock
            log.exception("unhandled error in %s", self.name, exc_info=exc)
            return self.definition.render_error(InternalError(exc), request_id)


def _describe(exc: Exception, reply: Reply) -> list[str]:
    """Why a request was refused, for the journal: the schema violations, else the error body."""
    violations = getattr(exc, "violations", None)
    if violations:
        return [f"{v.location} {v.field or '<root>'}: {v.readable}" for v in violations[:20]]
    body = reply.body if reply.body is not NO_BODY else ""
    if isinstance(body, Encoded):
        body = body.value()
    return [jsonio.dumps(body).decode("utf-8")[:500]] if body != "" else [type(exc).__name__]


def _root(spec: ApiSpec) -> str:
    """The base path and the directory all the spec's paths share (`/v1/`, `/api/v1/`)."""
    paths = [spec.base_path + path for path in spec.paths] or [spec.base_path + "/"]
    shared = os.path.commonprefix(paths)
    return shared[:shared.rfind("/") + 1] or "/"


def _check_handlers(definition: ApiDefinition, spec: ApiSpec) -> None:
    missing = sorted(set(spec.operations) - set(definition.handlers))
    extra = sorted(set(definition.handlers) - set(spec.operations))
    if missing or extra:
        raise SpecError(f"{definition.name}: operations without handler {missing}; handlers without operation {extra}")
