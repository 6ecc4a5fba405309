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
import functools
import html
import re
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import cache
from typing import Any

import requests

from .safety import REFUSED_HEADER, GuardedSession
from .target import spec_base_path, spec_document

CURRENT_RULE: contextvars.ContextVar[str | None] = contextvars.ContextVar("conformance_rule", default=None)
REDACT = {"authorization": "Bearer $UFDL_TOKEN", "x-api-key": "$TESTINY_API_KEY"}
_JWT = re.compile(r"^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def _redacted(name: str, value: str) -> str:
    """Credentials become shell variables; a header the fuzzer made up (`Token x`) is shown as sent."""
    lower = name.lower()
    if lower == "authorization" and _JWT.match(value):
        return REDACT[lower]
    if lower == "x-api-key":
        from .settings import SETTINGS

        if SETTINGS.api_key is None or value == SETTINGS.api_key:
            return REDACT[lower]
    return value
_UNSET: Any = object()
TIMEOUT = 30


class ConformanceFailure(AssertionError):
    """A scenario's expectation did not hold; the message is the readable report, `findings`
    the same as data (one per failed case: operation, expected, actual, curl)."""

    def __init__(self, message: str, findings: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.findings = findings if findings is not None else [{"expected": "", "actual": message}]


def curl(request: requests.PreparedRequest, body_limit: int = 600) -> str:
    parts = ["curl", "-X", request.method or "GET"]
    for name, value in request.headers.items():
        if name.lower() in ("user-agent", "accept-encoding", "connection", "content-length", REFUSED_HEADER.lower(),
                            "x-schemathesis-testcaseid"):
            continue
        if name.lower() == "accept" and value == "*/*":
            continue
        shown = _redacted(name, value)
        parts += ["-H", f"{name}: {shown}"]
    body = request.body
    if body:
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        if len(body) > body_limit:
            body = body[:body_limit] + "..."
        parts += ["--data-binary", body]
    parts.append(request.url or "")
    # credentials stay expandable: $UFDL_TOKEN inside double quotes
    return " ".join(_quote(p) for p in parts)


def _quote(part: str) -> str:
    if "$UFDL_TOKEN" in part or "$TESTINY_API_KEY" in part:
        return '"' + part.replace('"', '\\"') + '"'
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in part):  # one line: bash's $'...' with escapes
        escaped = "".join(_ESCAPES.get(ch, f"\\x{ord(ch):02x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch)
                          for ch in part)
        return "$'" + escaped + "'"
    return shlex.quote(part)


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", "'": "\\'"}


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def short_body(text: str, content_type: str, limit: int = 300) -> str:
    """A body as a failure message shows it: an HTML page by its <title>, anything else cut to `limit`."""
    if "html" in content_type.lower() or text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        match = _TITLE.search(text)
        title = " ".join(html.unescape(match.group(1)).split()) if match else "no title"
        return f"an HTML page ({len(text):,} characters) titled {title[:200]!r}"
    text = text.strip()
    if not text:
        return "<empty>"
    return text if len(text) <= limit else text[:limit] + " ..."


def describe(response: requests.Response, limit: int = 300) -> str:
    content_type = response.headers.get("Content-Type", "-")
    return f"status {response.status_code} ({content_type}), body {short_body(response.text, content_type, limit)}"


class Operations:
    """Maps a concrete request path back to the spec's path template, for readable labels."""

    @staticmethod
    @cache
    def of(api: str) -> Operations:
        return Operations(api)

    def __init__(self, api: str) -> None:
        self.base = spec_base_path(api)
        self.templates = []
        for template in spec_document(api)["paths"]:
            pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "/?$"
            literal = sum(1 for s in template.split("/") if s and "{" not in s)
            self.templates.append((-literal, template, re.compile(pattern)))
        self.templates.sort()

    def _path(self, url: str) -> str:
        path = requests.utils.urlparse(url).path
        return path[len(self.base):] if self.base and path.startswith(self.base) else path

    def template_of(self, url: str) -> str | None:
        """The spec path template the URL's path matches, or None."""
        path = self._path(url)
        for _, template, pattern in self.templates:
            if pattern.match(path):
                return template
        return None

    def label(self, method: str, url: str) -> str:
        return f"{method} {self.template_of(url) or self._path(url)}"


def report(response: requests.Response | None, expected: str, actual: str | None = None, *,
           operations: Operations | None = None, note: str | None = None) -> ConformanceFailure:
    rule = CURRENT_RULE.get()
    lines = []
    head = f"[{rule}] " if rule else ""
    op = ""
    if response is not None:
        request = response.request
        op = operations.label(request.method, request.url) if operations else f"{request.method} {request.url}"
        lines.append(f"{head}{op}")
    else:
        lines.append(head.strip() or "conformance")
    shown = actual if actual is not None else describe(response)
    lines.append(f"  expected: {expected}")
    lines.append(f"  actual:   {shown}")
    if note:
        lines.append(f"  note:     {note}")
    line = curl(response.request) if response is not None else ""
    if line:
        lines.append(f"  request:  {line}")
    finding = {"operation": op, "expected": expected + (f" ({note})" if note else ""), "actual": shown, "curl": line}
    return ConformanceFailure("\n".join(lines), [finding])


class Client:
    """`requests` against one API's base URL, with credentials added by `auth_headers()`."""

    def __init__(self, base_url: str, api: str, auth_headers: Callable[[], dict[str, str]] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = GuardedSession(api)
        self.auth_headers = auth_headers
        self.operations = Operations.of(api)
        self.last: requests.Response | None = None  # shown in failures that name no response

    def request(self, method: str, path: str, *, json: Any = _UNSET, data: Any = None,
                headers: dict[str, str] | None = None, params: Any = None, auth: bool = True,
                refused: bool = False) -> requests.Response:
        """Send a request (through the safety guard). `refused=True` declares a request that no
        server can act on (a malformed body, a wrong media type): allowed in --read-only runs."""
        all_headers = dict(self.auth_headers() if auth and self.auth_headers else {})
        all_headers.update(headers or {})
        if refused:
            all_headers[REFUSED_HEADER] = "1"
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


class Cases:
    """Runs every case of a scenario and reports each one that fails, not only the first:

        with every_case() as case:
            for path in paths:
                with case(path):
                    ...  # expectations raise ConformanceFailure as usual
    """

    def __init__(self) -> None:
        self.failures: list[tuple[str, ConformanceFailure]] = []
        self.count = 0

    @contextmanager
    def __call__(self, label: str) -> Iterator[None]:
        self.count += 1
        try:
            yield
        except ConformanceFailure as failure:
            self.failures.append((label, failure))

    def raise_failures(self) -> None:
        if not self.failures:
            return
        if len(self.failures) == 1:
            raise self.failures[0][1]
        parts = [f"{len(self.failures)} of {self.count} cases failed:"]
        findings = []
        for label, failure in self.failures:
            parts.append(f"- case {label}:")
            parts.extend("  " + line for line in str(failure).splitlines())
            findings.extend({**f, "operation": f.get("operation") or label} for f in failure.findings)
        raise ConformanceFailure("\n".join(parts), findings)


@contextmanager
def every_case() -> Iterator[Cases]:
    """See `Cases`; the combined failure is raised when the block ends."""
    __tracebackhide__ = True
    cases = Cases()
    yield cases
    cases.raise_failures()


_AMBIENT: contextvars.ContextVar[Cases | None] = contextvars.ContextVar("conformance_cases", default=None)


def all_cases(test: Callable) -> Callable:
    """Decorate a scenario whose helper calls are independent cases (`with soft(label)` inside the
    helper): each one runs, and each that fails is reported."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        with every_case() as cases:
            token = _AMBIENT.set(cases)
            try:
                return test(*args, **kwargs)
            finally:
                _AMBIENT.reset(token)

    return wrapper


def soft(label: str) -> Any:
    """One case of an `@all_cases` scenario (a plain block elsewhere)."""
    cases = _AMBIENT.get()
    return cases(label) if cases is not None else nullcontext()
