"""Path and query parameters coerced to their schema types and checked, and content negotiation.

Path parameters that do not fit their schema mean the path names no resource (`PathParamInvalid`);
query parameters that do not fit are violations the API reports in its own words; an `Accept`
header none of the operation's media types satisfies is `NotAcceptable`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from .errors import NotAcceptable, PathParamInvalid
from .spec import Operation
from .validation import Violation, coerce_parameter


def path_params(operation: Operation, raw_params: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for param in operation.path_params:
        raw = raw_params.get(param.name, "")
        value = coerce_parameter(raw, param.kind)
        violations = param.validator.violations(value, "path")
        if violations:
            raise PathParamInvalid(param.name, raw, violations)
        values[param.name] = value
    return values


def query_params(request: web.BaseRequest, operation: Operation) -> tuple[dict[str, Any], list[Violation]]:
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
        violations.extend(replace(v, location="query", path=(param.name, *v.path)) for v in found)
        values[param.name] = value
    return values, violations


def negotiate(request: web.BaseRequest, operation: Operation) -> None:
    """Raise NotAcceptable unless the request's Accept allows one of the operation's media types."""
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
