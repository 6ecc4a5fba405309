"""A tiny HTTP client for the hand-written scenarios, and the failure messages they raise.

Every failure names the rule, the operation (method + spec path template), the request as a curl
line (credentials replaced by shell variables) and expected vs. actual, e.g.

    [ufdl.soft-delete.idempotent] DELETE /v1/projects/{pk}
      expected: status 204
      actual:   status 200, body {"pk": 3, ...}
      request:  curl -X DELETE -H 'Authorization: Bearer $UFDL_TOKEN' http://127.0.0.1:8000/v1/projects/3
"""

from __future__ import annotations

import contextvars
import re
import shlex
from collections.abc import Callable
from typing import Any

import requests

from .target import spec_base_path, spec_document

CURRENT_RULE: contextvars.ContextVar[str | None] = contextvars.ContextVar("conformance_rule", default=None)
REDACT = {"authorization": "Bearer $UFDL_TOKEN", "x-api-key": "$TESTINY_API_KEY"}
_UNSET: Any = object()
TIMEOUT = 30


class ConformanceFailure(AssertionError):
    """A scenario's expectation did not hold; the message is the readable report."""


def curl(request: requests.PreparedRequest) -> str:
    parts = ["curl", "-X", request.method or "GET"]
    for name, value in request.headers.items():
        if name.lower() in ("user-agent", "accept-encoding", "connection", "content-length"):
            continue
        if name.lower() == "accept" and value == "*/*":
            continue
        shown = REDACT.get(name.lower(), value)
        parts += ["-H", f"{name}: {shown}"]
    body = request.body
    if body:
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        parts += ["-d", body]
    parts.append(request.url or "")
    # credentials stay expandable: $UFDL_TOKEN inside double quotes
    return " ".join(_quote(p) for p in parts)


def _quote(part: str) -> str:
    if "$UFDL_TOKEN" in part or "$TESTINY_API_KEY" in part:
        return '"' + part.replace('"', '\\"') + '"'
    return shlex.quote(part)


def describe(response: requests.Response, limit: int = 400) -> str:
    text = response.text
    if len(text) > limit:
        text = text[:limit] + " ..."
    content_type = response.headers.get("Content-Type", "-")
    return f"status {response.status_code} ({content_type}), body {text or '<empty>'}"


class Operations:
    """Maps a concrete request path back to the spec's path template, for readable labels."""

    def __init__(self, api: str) -> None:
        self.base = spec_base_path(api)
        self.templates = []
        for template in spec_document(api)["paths"]:
            pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "/?$"
            literal = sum(1 for s in template.split("/") if s and "{" not in s)
            self.templates.append((-literal, template, re.compile(pattern)))
        self.templates.sort()

    def label(self, method: str, url: str) -> str:
        path = requests.utils.urlparse(url).path
        if self.base and path.startswith(self.base):
            path = path[len(self.base):]
        for _, template, pattern in self.templates:
            if pattern.match(path):
                return f"{method} {template}"
        return f"{method} {path}"


def report(response: requests.Response | None, expected: str, actual: str | None = None, *,
           operations: Operations | None = None, note: str | None = None) -> ConformanceFailure:
    rule = CURRENT_RULE.get()
    lines = []
    head = f"[{rule}] " if rule else ""
    if response is not None:
        request = response.request
        op = operations.label(request.method, request.url) if operations else f"{request.method} {request.url}"
        lines.append(f"{head}{op}")
    else:
        lines.append(head.strip() or "conformance")
    lines.append(f"  expected: {expected}")
    lines.append(f"  actual:   {actual if actual is not None else describe(response)}")
    if note:
        lines.append(f"  note:     {note}")
    if response is not None:
        lines.append(f"  request:  {curl(response.request)}")
    return ConformanceFailure("\n".join(lines))


class Client:
    """`requests` against one API's base URL, with credentials added by `auth_headers()`."""

    def __init__(self, base_url: str, api: str, auth_headers: Callable[[], dict[str, str]] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.auth_headers = auth_headers
        self.operations = Operations(api)
        self.last: requests.Response | None = None  # shown in failures that name no response

    def request(self, method: str, path: str, *, json: Any = _UNSET, data: Any = None,
                headers: dict[str, str] | None = None, params: Any = None, auth: bool = True) -> requests.Response:
        all_headers = dict(self.auth_headers() if auth and self.auth_headers else {})
        all_headers.update(headers or {})
        kwargs: dict[str, Any] = {"headers": all_headers, "params": params, "timeout": TIMEOUT}
        if json is not _UNSET:
            kwargs["json"] = json
        elif data is not None:
            kwargs["data"] = data
        self.last = self.session.request(method, self.base_url + path, **kwargs)
        return self.last

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    # -- expectations ------------------------------------------------------------------------------

    def fail(self, response: requests.Response | None, expected: str, actual: str | None = None,
             note: str | None = None) -> ConformanceFailure:
        return report(response if response is not None else self.last, expected, actual,
                      operations=self.operations, note=note)

    def expect(self, response: requests.Response, *statuses: int, note: str | None = None) -> Any:
        """Assert the status (one of `statuses`) and, unless it is 204, a JSON body; return the body."""
        if response.status_code not in statuses:
            expected = " or ".join(str(s) for s in statuses)
            raise self.fail(response, f"status {expected}", note=note)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise self.fail(response, f"status {response.status_code} with a JSON body", note=note) from None

    def check(self, condition: bool, response: requests.Response | None, expected: str,
              actual: str | None = None, note: str | None = None) -> None:
        if not condition:
            raise self.fail(response, expected, actual, note=note)
