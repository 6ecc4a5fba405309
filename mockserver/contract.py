"""Strict mode: what in one of its own answers the mock's spec does not allow.

Run on every answer when the mock is started with `--strict` (the tests do): an undocumented
status, a body or header the documented response does not allow, or a success answered to a
request that breaks the operation's request schemas. A problem is a bug in the mock, answered as
the API's 500 so that it cannot go unnoticed.
"""

from __future__ import annotations

from aiohttp import web

from .api import NO_BODY, Reply, RequestContext
from .jsonio import Encoded
from .spec import Operation


class ContractViolation(Exception):
    """The mock answered something its own spec does not allow (strict mode only)."""


def contract_problems(operation: Operation, reply: Reply, response: web.StreamResponse,
                      ctx: RequestContext | None) -> list[str]:
    """What in this answer the spec does not allow."""
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
    if ctx is not None and reply.status < 300 and ctx.violations:
        problems.append("a request that violates the spec was answered with success: "
                        + "; ".join(f"{v.location} {v.field}: {v.message}" for v in ctx.violations[:3]))
    return problems
