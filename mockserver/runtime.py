"""One mounted API at run time: its compiled spec, router, handlers and current state.

`ApiRuntime.handle` is the request pipeline of DESIGN.md: route → path parameters → method →
content negotiation → body decoding → authentication → validation → handler → response checks.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
from collections.abc import Awaitable, Mapping
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from multidict import CIMultiDict

from . import jsonio, text
from . import prefer as prefs
from .api import NO_BODY, ApiDefinition, FormBody, Reply, RequestContext
from .errors import (
    BodyIncomplete,
    BodyTooLarge,
    EngineError,
    InternalError,
    MalformedBody,
    MethodNotAllowed,
    MockAnswer,
    NotAcceptable,
    PathParamInvalid,
    UnsupportedMediaType,
)
from .jsonio import Encoded
from .router import PathEntry, Router
from .spec import ApiSpec, Operation, SpecError, load_spec
from .validation import Violation, coerce_parameter

log = logging.getLogger("mockserver")

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


RESOLVED_PATHS = 10_000  # bound of the per-runtime caches of resolved paths and accepted Accept headers
NOTE = web.RequestKey("mock_note", dict)  # what the runtime tells the journal about a request


class ContractViolation(Exception):
    """The mock answered something its own spec does not allow (strict mode only)."""


class ApiRuntime:
    def __init__(self, definition: ApiDefinition, options: Any = None, *, strict: bool = False,
                 seed: Any = None, spec: ApiSpec | None = None,
                 common_headers: Mapping[str, str] | None = None, body_timeout: float = 30.0) -> None:
        self.definition = definition
        self.body_timeout = body_timeout  # seconds a request's body may take to arrive
        self.name = definition.name
        self.options = options if options is not None else definition.default_options
        self.strict = strict
        self.spec = spec or load_spec(definition.spec_file, definition.name)
        _check_handlers(definition, self.spec)
        self.router = Router(self.spec, optional_trailing_slash=definition.optional_trailing_slash)
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
        self._headers = _header_blocks(self.router, definition, common_headers or {})
        # per path: the media types its operations decode (for ApiDefinition.body_errors_first)
        self._decoded_types = {entry.template: frozenset(definition.parsed_media_types).union(
            *(op.body_media_types for op in entry.operations.values())) for entry in self.router.entries}
        self._resolved: dict[str, tuple[PathEntry, dict[str, Any]]] = {}  # path -> route and coerced parameters
        self._acceptable: set[tuple[str, str]] = set()  # (operationId, Accept) pairs that passed negotiation

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

    def new_request_id(self) -> str:
        """Unique per request and process: a random prefix per runtime and a counter."""
        return f"{self._id_prefix}{next(self._id_counter):08x}"

    async def handle(self, request: web.BaseRequest, path: str | None = None, state: Any = None) -> web.StreamResponse:
        """Answer a request; `path` is its decoded path when the caller already has it, `state`
        the state of the world it works on (default: this runtime's own)."""
        request_id = self.new_request_id()
        entry: PathEntry | None = None
        operation: Operation | None = None
        ctx: RequestContext | None = None
        try:
            entry, path_params = self.resolve(request.path if path is None else path)
            early: tuple[bytes | Exception, Any] | None = None
            if self.definition.body_errors_first and request.body_exists:
                early = await self._decode_first(request, entry)
            operation = entry.operations.get(request.method)
            if operation is None:
                operation = self._other_method(request, entry)
            preferred = None
            prefer = request.headers.get("Prefer") if operation is not None else None
            if prefer is not None:  # Prefer: code=... / delay=... (see prefer.py)
                wish = prefs.parse(prefer)
                if wish.delay_ms:
                    await asyncio.sleep(wish.delay_ms / 1000)
                if wish.code is not None:
                    preferred = prefs.reply_for(operation, wish.code, self.spec.document)
                    if isinstance(preferred, Exception):
                        raise preferred
            if preferred is not None:
                reply = preferred
            elif operation is None:  # OPTIONS: describe the resource
                reply = _options_reply(entry)
            else:
                ctx = self._context(request, operation, path_params, request_id,
                                    self.state if state is None else state)
                if early is not None:
                    _take_body(request, ctx, early[0], self.definition.parsed_media_types, decoded=early[1])
                elif operation.body_media_types and request.body_exists:  # the only wait: reading a body
                    data = await _read(request, self.body_timeout)
                    _take_body(request, ctx, data, self.definition.parsed_media_types)
                elif operation.body_required:
                    _require_body(ctx)
                reply = self._run(ctx)
                if type(reply) is not Reply:  # an async handler
                    reply = await reply
        except Exception as exc:  # every failure ends in this API's envelope
            if isinstance(exc, PathParamInvalid):
                entry = None  # the path does not name a resource after all
            reply = self._error_reply(exc, request_id)
            request[NOTE] = {"errors": _describe(exc, reply)}
        note = request.get(NOTE)
        if note is None:
            request[NOTE] = {"api": self.name, "operation": operation.operation_id if operation else None}
        else:
            note.update(api=self.name, operation=operation.operation_id if operation else None)
        response = self._finish(reply, entry, request_id, request)
        if self.strict and operation is not None:
            problems = _contract_problems(operation, reply, response, ctx)
            if problems:
                message = f"{operation.operation_id} answered {reply.status}: " + "; ".join(problems[:5])
                self.contract_violations.append(message)
                log.error("contract violation: %s", message)
                response = self._finish(self._error_reply(InternalError(ContractViolation(message)), request_id),
                                        entry, request_id, request)
        return response

    def resolve(self, path: str) -> tuple[PathEntry, dict[str, Any]]:
        """The spec path serving `path` and its coerced, schema-checked path parameters (cached)."""
        found = self._resolved.get(path)
        if found is not None:
            return found[0], dict(found[1])
        entry, raw_params = self.router.resolve_path(path)
        path_params = _path_params(next(iter(entry.operations.values())), raw_params)
        if len(self._resolved) >= RESOLVED_PATHS:
            self._resolved.clear()
        self._resolved[path] = (entry, path_params)
        return entry, dict(path_params)

    async def _decode_first(self, request: web.BaseRequest, entry: PathEntry) -> tuple[bytes | Exception, Any]:
        """Read and decode the body now, raising its error (see ApiDefinition.body_errors_first);
        the bytes and the decoded value are handed to the operation later."""
        data = await _read(request, self.body_timeout)
        header = request.headers.get("Content-Type", "")
        media_type = header.split(";", 1)[0].strip().lower()
        if isinstance(data, Exception):
            raise MalformedBody(str(data) or data.__class__.__name__, media_type)
        if not data:
            return data, _UNDECODED
        if media_type not in self._decoded_types[entry.template]:
            raise UnsupportedMediaType(header)
        return data, _decode(data, media_type, header)

    @staticmethod
    def _other_method(request: web.BaseRequest, entry: PathEntry) -> Operation | None:
        """HEAD (served by GET), OPTIONS (None), or a 405 after content negotiation."""
        try:
            return Router.operation_for(entry, request.method)
        except MethodNotAllowed:
            _negotiate(request, next(iter(entry.operations.values())))  # negotiation comes before the method check
            raise

    def mock_answer(self, request: web.BaseRequest, answer: MockAnswer) -> web.Response:
        """An answer of the mock's own (a fault rule's status, a session refused), in this API's
        envelope and with its usual headers."""
        request_id = self.new_request_id()
        try:
            entry: PathEntry | None = self.router.resolve_path(request.path)[0]
        except EngineError:
            entry = None
        request[NOTE] = {**request.get(NOTE, {}), "api": self.name}
        return self._finish(self._error_reply(answer, request_id), entry, request_id, request)

    def _context(self, request: web.BaseRequest, operation: Operation, path_params: dict[str, Any],
                 request_id: str, state: Any) -> RequestContext:
        """Content negotiation and the query parameters, into a fresh RequestContext."""
        accept = request.headers.get("Accept")
        if accept and (operation.operation_id, accept) not in self._acceptable:
            _negotiate(request, operation)
            if len(self._acceptable) >= RESOLVED_PATHS:
                self._acceptable.clear()
            self._acceptable.add((operation.operation_id, accept))
        if not operation.query_params:
            return RequestContext(request, self, operation, path_params, {}, request_id, state)
        query, violations = _query_params(request, operation)
        ctx = RequestContext(request, self, operation, path_params, query, request_id, state)
        ctx._violations.extend(violations)
        return ctx

    def _run(self, ctx: RequestContext) -> Reply | Awaitable[Reply]:
        """Authentication, validation (unless the API defers it to its handlers), then the handler."""
        if self.definition.authenticate is not None:
            self.definition.authenticate(ctx)
        if not self.definition.defer_validation:
            ctx.validated_body()
        return self.definition.handlers[ctx.operation.operation_id](ctx)

    def _finish(self, reply: Reply, entry: PathEntry | None, request_id: str, request: web.BaseRequest) -> web.Response:
        """The HTTP answer: the reply's body and headers on top of the route's precomputed headers."""
        json_headers, bare_headers = self._headers[entry.template if entry is not None else None]
        body = reply.body
        if reply.content_type is not None:
            response = web.Response(status=reply.status, body=body.encode("utf-8") if isinstance(body, str) else body,
                                    headers=bare_headers, content_type=reply.content_type)
        elif body is NO_BODY:
            response = web.Response(status=reply.status, headers=bare_headers)
        else:
            data = body.data if type(body) is Encoded else jsonio.dumps(body)
            response = web.Response(status=reply.status, body=data, headers=json_headers)
        if reply.headers:
            response.headers.update(reply.headers)
        if self.definition.finish_response is not None:
            self.definition.finish_response(response, entry.allowed if entry else None, request_id, request)
        return response

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


def _contract_problems(operation: Operation, reply: Reply, response: web.Response,
                       ctx: RequestContext | None) -> list[str]:
    """What in this answer the spec does not allow (strict mode)."""
    problems = []
    documented = operation.response_for(reply.status)
    if documented is None:
        return [f"status {reply.status} is not documented"]
    if documented.validator is not None and reply.body is not NO_BODY:
        body = reply.body.value() if isinstance(reply.body, Encoded) else reply.body
        for violation in documented.validator.violations(body, "response"):
            problems.append(f"body at {violation.field or '<root>'}: {violation.message}")
    if reply.body is NO_BODY and documented.media_types:
        problems.append("body missing")
    for header in documented.required_headers:
        if header not in response.headers:
            problems.append(f"header {header} missing")
    if ctx is not None and reply.status < 300 and ctx.violations and not ctx.validated:
        problems.append("request violated the schema but the handler never validated it: "
                        + "; ".join(f"{v.location} {v.field}: {v.message}" for v in ctx.violations[:3]))
    return problems


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


def _path_params(operation, raw_params: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for param in operation.path_params:
        raw = raw_params.get(param.name, "")
        value = coerce_parameter(raw, param.kind)
        violations = param.validator.violations(value, "path")
        if violations:
            raise PathParamInvalid(param.name, raw, violations)
        values[param.name] = value
    return values


def _query_params(request: web.BaseRequest, operation) -> tuple[dict[str, Any], list[Violation]]:
    values: dict[str, Any] = {}
    violations: list[Violation] = []
    for param in operation.query_params:
        if param.name not in request.query:
            if param.required:
                message = f"'{param.name}' is a required property"
                violations.append(Violation("query", (param.name,), message, "required"))
            continue
        if param.kind == "array":
            value: Any = request.query.getall(param.name)
        else:
            value = coerce_parameter(request.query[param.name], param.kind)
        found = param.validator.violations(value, "query")
        violations.extend(Violation("query", (param.name, *v.path), v.message, v.keyword, v.instance) for v in found)
        values[param.name] = value
    return values, violations


def _negotiate(request: web.BaseRequest, operation) -> None:
    accept = request.headers.get("Accept")
    if not accept:
        return
    offered = operation.response_media_types
    for media_range in accept.split(","):
        wanted = media_range.split(";", 1)[0].strip().lower()
        if not wanted or wanted == "*/*":
            return
        major = wanted.split("/", 1)[0]
        for media_type in offered:
            if wanted == media_type or wanted == f"{major}/*" and media_type.startswith(major + "/"):
                return
    raise NotAcceptable(accept)


_UNDECODED: Any = object()


async def _read(request: web.BaseRequest, timeout: float) -> bytes | Exception:
    """The body bytes, or the error reading them (a Content-Encoding that does not decode); a body
    that does not arrive within `timeout` seconds is refused (BodyIncomplete), not waited for."""
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise BodyIncomplete(timeout, request.content_length) from None
    except web.HTTPRequestEntityTooLarge:
        raise BodyTooLarge(limit=request.client_max_size, size=request.content_length) from None
    except web.RequestPayloadError as exc:
        return exc


def _take_body(request: web.BaseRequest, ctx: RequestContext, data: bytes | Exception,
               extra_media_types: tuple[str, ...], decoded: Any = _UNDECODED) -> None:
    """Decode a body just read (or the error reading it) into ctx; errors are kept in ctx and
    raised when the body is asked for.

    A body is decoded when its media type is one the operation lists, or one the API parses on
    every operation (`extra_media_types`, e.g. DRF's form parsers); otherwise it is a 415.
    """
    operation = ctx.operation
    header = request.headers.get("Content-Type", "")
    media_type = header.split(";", 1)[0].strip().lower()
    if isinstance(data, Exception):  # a Content-Encoding that does not decode
        ctx._body_error = MalformedBody(str(data) or data.__class__.__name__, media_type)
        return
    if not data:
        _require_body(ctx)
        return
    try:
        if media_type not in operation.body_media_types and media_type not in extra_media_types:
            raise UnsupportedMediaType(header)
        ctx._body = _decode(data, media_type, header) if decoded is _UNDECODED else decoded
    except EngineError as exc:
        ctx._body_error = exc
        return
    if b"\\u" in data and not ctx.runtime.definition.own_text_rules:  # only an escape makes a lone surrogate
        found = text.find_lone_surrogate(ctx._body)
        if found is not None:
            ctx._violations.append(Violation("body", found[0], text.describe(found[1]), "unicode", found[1]))
    if operation.body_validator is not None:
        value = ctx._body.last_values() if isinstance(ctx._body, FormBody) else ctx._body
        ctx._violations.extend(operation.body_validator.violations(value, "body"))


def _require_body(ctx: RequestContext) -> None:
    if ctx.operation.body_required and ctx.operation.body_validator is not None:
        ctx._violations.append(Violation("body", (), "request body is required", "required"))


def _decode(data: bytes, media_type: str, header: str) -> Any:
    """JSON, form-urlencoded or multipart bytes → a JSON value or a FormBody; MalformedBody if not."""
    charset = _charset(header)
    try:
        if media_type == FORM:
            return FormBody(parse_qs(data.decode(charset, errors="replace"), keep_blank_values=True))
        if media_type == MULTIPART:
            return _multipart(data, header)
        return jsonio.loads(data, charset)
    except LookupError:
        raise MalformedBody(f"unknown encoding: {charset}", media_type) from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise MalformedBody(str(exc) or type(exc).__name__, media_type) from None


def _multipart(data: bytes, header: str) -> FormBody:
    """Parse multipart/form-data leniently with the stdlib's email parser (any field names)."""
    if "boundary=" not in header:
        raise ValueError("Invalid boundary in multipart: None")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + header.encode("latin-1", "replace")
                                                  + b"\r\n\r\n" + data)
    form = FormBody()
    boundary = message.get_param("boundary") or ""
    if data.strip() == f"--{boundary}--".encode("latin-1", "replace"):
        return form  # a form without fields
    if not message.is_multipart() or message.defects:
        raise ValueError("Invalid multipart body: " + ", ".join(type(d).__name__ for d in message.defects))
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:  # no field name: Django's MultiPartParser skips the part (observed on the real UFDL server)
            continue
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        form.setdefault(str(name), []).append(payload.decode(charset, errors="replace"))
    return form


def _charset(content_type: str) -> str:
    """The charset parameter of a Content-Type header (UTF-8 when absent)."""
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return "utf-8"


def _options_reply(entry: PathEntry) -> Reply:
    operations = list(entry.operations.values())
    parses: list[str] = []
    renders: list[str] = []
    for op in operations:
        parses.extend(t for t in op.body_media_types if t not in parses)
        renders.extend(t for t in op.response_media_types if t not in renders)
    summary = next((op.raw.get("summary") for op in operations if op.raw.get("summary")), entry.template)
    body = {"name": summary, "description": "", "renders": renders, "parses": parses}
    return Reply(200, body, {"Allow": ", ".join(entry.allowed)})


def _header_blocks(router: Router, definition: ApiDefinition,
                   common: Mapping[str, str]) -> dict[str | None, tuple[CIMultiDict[str], CIMultiDict[str]]]:
    """Per spec path (and for answers outside any path): the headers of a JSON answer and of one
    without a body — the API's fixed headers (`ApiDefinition.response_headers`) and `common` ones —
    built once, so that an answer copies one block instead of setting headers one by one."""
    blocks: dict[str | None, tuple[CIMultiDict[str], CIMultiDict[str]]] = {}
    for template, allowed in [(None, None)] + [(e.template, e.allowed) for e in router.entries]:
        fixed = dict(definition.response_headers(allowed)) if definition.response_headers else {}
        bare = CIMultiDict({**fixed, **common})
        blocks[template] = (CIMultiDict({"Content-Type": "application/json", **bare}), bare)
    return blocks
