"""Testiny's error envelope `{code, status, message, reqid}`: the exception classes and all wording.

Handlers and the store raise the `ApiError` subclasses below; `render_error` turns them, and every
engine error, into the envelope, with the request id that `finish_response` also sends as the
`X-Request-Id` header. Schema violations are worded here too, naming the field (and, in bulk
bodies, the item index) and the rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ... import errors as engine
from ...api import NO_BODY, Reply
from ...spec import load_spec
from ...validation import Violation, dotted_path

REQUEST_ID_HEADER = "X-Request-Id"
MISSING_KEY = "A valid API key is required (header X-Api-Key)"
UNKNOWN_KEY = "The API key in header X-Api-Key is not valid"
IGNORED = " (the value is ignored)"


@functools.cache
def _rules() -> tuple[str, dict[str, str], dict[str, str]]:
    """The rule of each body field and query parameter, worded for humans (jsonschema would quote a
    whole pattern); the limits in them are read from openapi/testiny.yaml (one source)."""
    document = load_spec("testiny.yaml", "testiny").document
    schemas = document["components"]["schemas"]
    entity, name, key = schemas["EntityId"], schemas["ProjectName"], schemas["ProjectKey"]
    etag = schemas["ProjectInput"]["properties"]["_etag"]
    label = document["components"]["parameters"]["FindLabel"]["schema"]
    id_rule = f"must be an integer from {entity['minimum']} to {entity['maximum']}"
    fields = {
        "id": id_rule,
        "name": f"must be a string of at most {name['maxLength']} characters, with at least {name['minLength']} "
                "characters after trimming",
        "project_key": f"must be null or {key['minLength']} to {key['maxLength']} upper-case letters or digits "
                       "(A-Z, 0-9)",
        "description": "must be a string",
        "_etag": f"must be a string of at most {etag['maxLength']} characters",
        "asOf": "must be an RFC 3339 date-time, e.g. 2024-05-01T10:00:00.000Z",
        "is_deleted": "must be a boolean" + IGNORED,
        **{field: "must be a string or null" + IGNORED for field in ("created_at", "modified_at", "deleted_at")},
        **{field: "must be an integer or null" + IGNORED
           for field in ("created_by", "modified_by", "deleted_by", "owner_user_id")},
    }
    queries = {
        "force": "must be 1, true, 0 or false",
        "ids": "must be comma-separated project ids without spaces (e.g. 1,2,3), each " + id_rule,
        "q": "must be a DataReadParams object as JSON or as base64 of the JSON",
        "l": f"must be a string of at most {label['maxLength']} characters",
        "project_id": id_rule,
    }
    return id_rule, fields, queries


def id_rule() -> str:
    return _rules()[0]


def field_rule(field: str) -> str | None:
    """How a message words the rule of a body field (None: a field without a worded rule)."""
    return _rules()[1].get(field)


def query_rule(name: str) -> str | None:
    return _rules()[2].get(name)


FAULT_CODES = {400: "API_INVALID_REQUEST", 403: "API_ACCESS_DENIED", 404: "API_DATA_NOT_FOUND",
               413: "API_DATA_TOO_LARGE", 421: "API_SERVICE_DRAINING", 429: "API_TOO_MANY_REQUESTS",
               502: "API_SERVICE_UNAVAILABLE", 503: "API_SERVICE_UNAVAILABLE", 504: "API_SERVICE_UNAVAILABLE"}


class ApiError(Exception):
    """An answer in Testiny's envelope. Subclasses fix `status` and `code`."""

    status = 500
    code = "API_INTERNAL_ERROR"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class InvalidInput(ApiError):
    """Malformed JSON, a body of the wrong JSON type, a missing body, an undecodable `q`."""

    status, code = 400, "API_INVALID_INPUT"


class InvalidInputData(ApiError):
    """A body field (or find parameter) breaking its rule."""

    status, code = 400, "API_INVALID_INPUT_DATA"


class InvalidRequest(ApiError):
    """A bad path or query parameter, or an Accept header the API cannot satisfy."""

    status, code = 400, "API_INVALID_REQUEST"


class InputDataConflict(ApiError):
    """A stale or missing `_etag` without `force`, or a `project_key` already in use."""

    status, code = 400, "API_INPUT_DATA_CONFLICT"


class AccessDenied(ApiError):
    status, code = 403, "API_ACCESS_DENIED"


class DataNotFound(ApiError):
    status, code = 404, "API_DATA_NOT_FOUND"


class NoSuchRoute(ApiError):
    status, code = 404, "API_ROUTE_NOT_FOUND"


class DataTooLarge(ApiError):
    status, code = 413, "API_DATA_TOO_LARGE"


def item_prefix(index: int | None) -> str:
    """How a message names the bulk item it is about (nothing for single-item calls)."""
    return "" if index is None else f"item {index}: "


def shorten(text: str, limit: int = 160) -> str:
    """A foreign message (parser, jsonschema) on one line and cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_violation(violation: Violation, body: Any) -> str:
    """`<field>: <rule>` for one body (or decoded `q`) violation; bulk items are named by index."""
    path = list(violation.path)
    prefix = ""
    if isinstance(body, list) and path and isinstance(path[0], int):
        prefix = item_prefix(path.pop(0))
    if violation.keyword == "required":
        missing = re.match(r"'(.*)' is a required property", violation.message)
        return f"{prefix}{dotted_path([*path, missing.group(1) if missing else '?'])}: is required"
    if violation.keyword == "unicode":  # text.py's rule: named as it is, whatever the field's own rules
        return f"{prefix}{dotted_path(path) or 'request body'}: {violation.message}"
    if not path:
        if violation.keyword == "maxItems" and isinstance(violation.instance, list):
            return (f"request body: holds {len(violation.instance)} items; "
                    f"at most {violation.expected} items are allowed per call")
        return prefix + shorten(violation.message)
    rule = field_rule(path[0]) if len(path) == 1 and isinstance(path[0], str) else None
    if rule is not None:
        return f"{prefix}{path[0]}: {rule}"
    return f"{prefix}{dotted_path(path)}: {shorten(violation.message)}"


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _first_body_violation(violations: list[Violation], body: Any) -> Violation:
    """The violation to report: one about the whole body, else in a bulk body the lowest item index."""
    about_body = [v for v in violations if v.location == "body"]
    whole = [v for v in about_body if not v.path]
    if whole or not isinstance(body, list):
        return (whole or about_body)[0]
    return min(about_body, key=lambda v: v.path[0] if isinstance(v.path[0], int) else -1)


def _request_invalid(error: engine.RequestInvalid) -> ApiError:
    first = error.violations[0]
    if first.location != "body":
        name = first.field.split(".", 1)[0]
        return InvalidRequest(f"{name}: {query_rule(name) or shorten(first.message)}")
    if error.body is NO_BODY:
        return InvalidInput("A JSON request body is required")
    first = _first_body_violation(error.violations, error.body)
    if not first.path and first.keyword == "type":
        expected = re.search(r"is not of type '(\w+)'", first.message)
        wanted = expected.group(1) if expected else "value of another type"
        return InvalidInput(f"The request body must be a JSON {wanted}, not {_json_type(error.body)}")
    return InvalidInputData(describe_violation(first, error.body))


def _method_not_allowed(error: engine.MethodNotAllowed) -> ApiError:
    methods = ", ".join(m for m in error.allowed if m not in ("HEAD", "OPTIONS"))
    return NoSuchRoute(f"No route for {error.method} here (this path has {methods})")


def _mock_answer(error: engine.MockAnswer) -> ApiError:
    code = FAULT_CODES.get(error.status, "API_INVALID_REQUEST" if error.status < 500 else "API_INTERNAL_ERROR")
    return ApiError(error.message, status=error.status, code=code)


def _internal(error: engine.InternalError) -> ApiError:
    cause = error.cause
    return ApiError(shorten(f"Internal error in the mock server ({type(cause).__name__}: {cause})", 400))


TRANSLATIONS: dict[type, Callable[[Any], ApiError]] = {
    engine.RouteNotFound: lambda e: NoSuchRoute(f"No route matches {shorten(e.path)}"),
    engine.MethodNotAllowed: _method_not_allowed,
    engine.PathParamInvalid: lambda e: InvalidRequest(f"{e.name}: {id_rule()}, got {shorten(repr(e.raw), 60)}"),
    engine.NotAcceptable: lambda e: InvalidRequest(
        f"Accept: {shorten(e.accept, 80)} does not allow application/json, the only type this API answers in"),
    engine.UnsupportedMediaType: lambda e: InvalidInput(
        f"The request body must be JSON (Content-Type: application/json), not {e.content_type or 'untyped'}"),
    engine.MalformedBody: lambda e: InvalidInput(f"Malformed JSON in the request body: {shorten(e.message)}"),
    engine.BodyTooLarge: lambda e: DataTooLarge(f"The request body exceeds {e.limit} bytes"),
    engine.BodyIncomplete: lambda e: InvalidInput(e.message),
    engine.RequestInvalid: _request_invalid,
    engine.MockAnswer: _mock_answer,
    engine.InternalError: _internal,
}


def render_error(error: Exception, request_id: str) -> Reply:
    """The envelope for an `ApiError` or an engine error; anything else is re-raised (a mock bug)."""
    if not isinstance(error, ApiError):
        translate = next((TRANSLATIONS[kind] for kind in type(error).__mro__ if kind in TRANSLATIONS), None)
        if translate is None:
            raise error
        error = translate(error)
    body = {"code": error.code, "status": error.status, "message": error.message, "reqid": request_id}
    return Reply(error.status, body)


def finish_response(response: web.StreamResponse, allowed: tuple[str, ...] | None, request_id: str,
                    request: web.BaseRequest) -> None:
    """Every answer carries its request id, the same value as `reqid` in an error body."""
    response.headers[REQUEST_ID_HEADER] = request_id
