"""Errors the engine raises before or around a handler. Each API renders them in its own envelope.

The engine never builds an error body itself: an API's `render_error` turns these (and the API's
own exceptions) into responses, so that every answer carries that API's wording and shape. Each
error carries the HTTP status it means (`status`); an API answers with it unless its real server
answers that case with another one (Testiny refuses a bad path id with 400, not 404).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


class EngineError(Exception):
    """Base of every error the engine raises on behalf of a request; `status` is the HTTP status
    it means (a class attribute, or a field where the status varies, as in MockAnswer)."""

    status: ClassVar[int]


@dataclass
class RouteNotFound(EngineError):
    status: ClassVar[int] = 404
    path: str


@dataclass
class MethodNotAllowed(EngineError):
    status: ClassVar[int] = 405
    method: str
    allowed: tuple[str, ...]


@dataclass
class PathParamInvalid(EngineError):
    """A path segment does not fit the parameter's schema (e.g. a non-numeric pk)."""

    status: ClassVar[int] = 404
    name: str
    raw: str
    violations: list[Any] = field(default_factory=list)


@dataclass
class NotAcceptable(EngineError):
    status: ClassVar[int] = 406
    accept: str


@dataclass
class UnsupportedMediaType(EngineError):
    status: ClassVar[int] = 415
    content_type: str


@dataclass
class MalformedBody(EngineError):
    """The body could not be decoded; `message` is the parser's own text."""

    status: ClassVar[int] = 400
    message: str
    media_type: str = "application/json"


@dataclass
class BodyTooLarge(EngineError):
    status: ClassVar[int] = 413
    limit: int
    size: int | None = None


@dataclass
class BodyIncomplete(EngineError):
    """The body did not arrive within the body timeout (fewer bytes than its Content-Length)."""

    status: ClassVar[int] = 400
    seconds: float
    expected: int | None = None

    @property
    def message(self) -> str:
        size = f" of {self.expected} bytes" if self.expected is not None else ""
        return f"The request body{size} did not arrive within {self.seconds:g} s"


@dataclass
class RequestInvalid(EngineError):
    """The request does not satisfy the operation's schemas (see `validation.Violation`)."""

    status: ClassVar[int] = 400
    violations: list[Any]
    body: Any = None


@dataclass
class InternalError(EngineError):
    """A bug in the mock. Rendered as the API's 5xx envelope; never expected in tests."""

    status: ClassVar[int] = 500

    cause: BaseException


@dataclass
class MockAnswer(EngineError):
    """An answer the mock gives of its own accord, in the API's envelope: a status and its reason."""

    status: int
    message: str


@dataclass
class InjectedFault(MockAnswer):
    """A status forced by a fault rule of the control API."""

    message: str = "Fault injected by the mock's control API."


@dataclass
class SessionRefused(MockAnswer):
    """A request names a session the mock cannot give it (a bad name, or every slot taken)."""
