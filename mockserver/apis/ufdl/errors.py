"""UFDL's error envelope: DRF-style bodies, texts and headers, all in one place.

Handlers and state raise the exceptions below; `render_error` turns them, and the engine's own
errors, into the exact bodies the real Django REST Framework server sends.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...api import Reply
from ...errors import (
    BodyIncomplete,
    BodyTooLarge,
    EngineError,
    MalformedBody,
    MethodNotAllowed,
    MockAnswer,
    NotAcceptable,
    PathParamInvalid,
    RequestInvalid,
    RouteNotFound,
    UnsupportedMediaType,
)

WWW_AUTHENTICATE = 'Bearer realm="api"'
NOT_PROVIDED = "Authentication credentials were not provided."
PERMISSION_DENIED = "You do not have permission to perform this action."
REQUIRED = "This field is required."
BLANK = "This field may not be blank."
NULL = "This field may not be null."
NOT_A_STRING = "Not a valid string."
TOO_LONG = "Ensure this field has no more than {max} characters."
NULL_CHARACTERS = "Null characters are not allowed."
SURROGATES = "Surrogate characters are not allowed: U+{code:X}."
INCORRECT_TYPE = "Incorrect type. Expected pk value, received {type}."
DOES_NOT_EXIST = 'Invalid pk "{pk}" - object does not exist.'
NOT_A_DICT = "Invalid data. Expected a dictionary, but got {type}."
NO_DATA = "No data provided"
BAD_USERNAME = ("Enter a valid username. This value may contain only letters, numbers, "
                "and @/./+/-/_ characters.")
USERNAME_TAKEN = "A user with that username already exists."
BAD_EMAIL = "Enter a valid email address."
UNIQUE_PROJECT = "UNIQUE constraint failed: ufdl_core_project.name, ufdl_core_project.team_id"
UNIQUE_TEAM = "UNIQUE constraint failed: simple_django_teams_team.name"  # a reinstate onto a taken name
TEAM_NAME_TAKEN = "team with this name already exists."
REFERENCED = "FOREIGN KEY constraint failed"  # a hard delete of a team something refers to
BAD_BOOLEAN = "Must be a valid boolean."
NO_ACCOUNT_FOR_TOKEN = "No active account found for the given token."


class UfdlError(Exception):
    """An answer in the DRF envelope: `status` plus a JSON body."""

    status = 400

    def __init__(self, body: Any, status: int | None = None) -> None:
        super().__init__(body)
        self.body = body
        if status is not None:
            self.status = status


class Detail(UfdlError):
    """`{"detail": ...}` with a status, e.g. a 400 parse error or a 404."""

    def __init__(self, detail: str, status: int = 400, **extra: Any) -> None:
        super().__init__({"detail": detail, **extra}, status)


class NotAuthenticated(Detail):
    def __init__(self, detail: str = NOT_PROVIDED, **extra: Any) -> None:
        super().__init__(detail, 401, **extra)


class PermissionDenied(Detail):
    def __init__(self, detail: str = PERMISSION_DENIED) -> None:
        super().__init__(detail, 403)


class NotFound(Detail):
    def __init__(self, model: str = "Project") -> None:
        super().__init__(f"No {model} matches the given query.", 404)


class FieldErrors(UfdlError):
    """A serializer failure: `{"field": ["message", ...], ...}`."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors, 400)


def invalid_token(message: str = "Token is invalid", token_type: str = "access") -> NotAuthenticated:
    """The 401 simplejwt gives for a bad token in the Authorization header."""
    return NotAuthenticated(
        "Given token not valid for any token type",
        code="token_not_valid",
        messages=[{"token_class": "AccessToken", "token_type": token_type, "message": message}],
    )


def schema_failure(body: Any, message: str) -> Detail:
    """The 400 the server gives when a JSON-schema-validated body (filter spec, membership) fails."""
    return Detail(
        f"Unable to parse JSON: Error deserialising raw JSON {body!r}: "
        f"Error validating raw JSON element {body!r}: {message}"
    )


def render_error(error: Exception, request_id: str) -> Reply:
    """DRF's body for an error; the status is the error's own (engine errors carry theirs)."""
    if isinstance(error, UfdlError):
        headers = {"WWW-Authenticate": WWW_AUTHENTICATE} if error.status == 401 else None
        return Reply(error.status, error.body, headers)
    if not isinstance(error, EngineError):
        raise error
    headers = None
    if isinstance(error, (RouteNotFound, PathParamInvalid)):
        detail = "Not found."
    elif isinstance(error, MethodNotAllowed):
        detail, headers = f'Method "{error.method}" not allowed.', {"Allow": ", ".join(error.allowed)}
    elif isinstance(error, NotAcceptable):
        detail = "Could not satisfy the request Accept header."
    elif isinstance(error, UnsupportedMediaType):
        detail = f'Unsupported media type "{error.content_type}" in request.'
    elif isinstance(error, MalformedBody):
        prefix = "Multipart form parse error" if error.media_type.startswith("multipart/") else "JSON parse error"
        detail = f"{prefix} - {error.message}"
    elif isinstance(error, BodyIncomplete):
        detail = f"{error.message}."
    elif isinstance(error, BodyTooLarge):
        detail = f"Request body exceeded the limit of {error.limit} bytes."
    elif isinstance(error, RequestInvalid):
        message = error.violations[0].message if error.violations else "invalid request"
        return Reply(error.status, schema_failure(error.body, message).body)
    elif isinstance(error, MockAnswer):
        detail = error.message
    else:  # InternalError: a bug in the mock, answered as Django's handler does
        detail = "A server error occurred."
    return Reply(error.status, {"detail": detail}, headers)


def response_headers(allowed: tuple[str, ...] | None) -> dict[str, str]:
    """Headers every DRF response carries: `Allow` for the matched route, and `Vary`."""
    headers = {"Allow": ", ".join(allowed)} if allowed else {}
    headers["Vary"] = "Accept, Origin"
    return headers


USERS_PREFIX = "/v1/users/"
BY_NAME_ALLOW = ("GET", "HEAD", "OPTIONS")  # the real server's get-by-name route: GET only


def finish_response(response: web.StreamResponse, allowed: tuple[str, ...] | None, request_id: str,
                    request: web.BaseRequest) -> None:
    """A 500 comes from Django's handler, outside the view: no `Allow`. On the users detail route
    with a username (not all digits) the real server routes to get-by-name, which allows only GET."""
    if response.status == 500:
        response.headers.popall("Allow", None)
    elif allowed is not None and "PUT" in allowed and request.path.startswith(USERS_PREFIX) and by_name(request.path):
        response.headers["Allow"] = ", ".join(BY_NAME_ALLOW)


def by_name(path: str) -> bool:
    """`/v1/users/<segment>` names a user by username: the segment is not all digits."""
    segment = path[len(USERS_PREFIX):].rstrip("/")
    return "/" not in segment and not (segment.isdigit() and segment.isascii())
