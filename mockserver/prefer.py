"""`Prefer: code=404` and `Prefer: delay=250` (RFC 7240 preferences, as Prism reads `code`):
answer one request with another documented status of its operation, or later, without touching
the API's state.

A status of 400 or more is answered in the API's own error envelope; a success is answered with
the spec's example for it (a documented response without a body needs none). A status the
operation does not document, or a success the spec has no valid example of, is refused with 400 in
the API's envelope, saying which statuses are documented.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from .api import NO_BODY, Reply
from .errors import MockAnswer
from .spec import Operation, deref

MAX_DELAY_MS = 120_000
_TOKEN = re.compile(r"\s*([A-Za-z-]+)\s*=\s*\"?([^\",;]*)\"?\s*")


@dataclass(frozen=True)
class Wish:
    code: int | None = None
    delay_ms: int = 0


def parse(header: str) -> Wish:
    """The `code` and `delay` preferences of a Prefer header (others are ignored, as RFC 7240 says)."""
    code, delay = None, 0
    for part in re.split(r"[,;]", header):
        found = _TOKEN.fullmatch(part)
        if not found:
            continue
        name, value = found.group(1).lower(), found.group(2)
        if name == "code":
            if not re.fullmatch(r"[1-5][0-9]{2}", value):
                raise MockAnswer(400, f"Prefer: code={value} is not an HTTP status")
            code = int(value)
        elif name == "delay":
            if not value.isdigit() or int(value) > MAX_DELAY_MS:
                raise MockAnswer(400, f"Prefer: delay={value} must be 0 to {MAX_DELAY_MS} milliseconds")
            delay = int(value)
    return Wish(code, delay)


def reply_for(operation: Operation, code: int, document: dict[str, Any]) -> Reply | MockAnswer:
    """The answer a `Prefer: code=...` asks for: a Reply (a success from the spec's example), or the
    error to render in the API's envelope (the status itself, or a 400 when it cannot be given)."""
    documented = sorted(operation.responses)
    if code not in _statuses(operation):
        return MockAnswer(400, f"Prefer: code={code} is not documented for {operation.operation_id} "
                                  f"(documented: {', '.join(documented)})")
    if code >= 400:
        return MockAnswer(code, f"Status {code} asked for with Prefer: code={code}.")
    response, _ = deref(document, operation.raw.get("responses", {}).get(str(code), {}), "")
    content = response.get("content") or {}
    if not content:
        return Reply(code, NO_BODY)
    media = content.get("application/json") or next(iter(content.values()))
    example = _example(media, document)
    spec = operation.response_for(code)
    if example is _MISSING or (spec and spec.validator and spec.validator.violations(example, "response")):
        return MockAnswer(400, f"Prefer: code={code}: the spec has no valid example of this answer of "
                                  f"{operation.operation_id}")
    return Reply(code, example)


def _statuses(operation: Operation) -> set[int]:
    statuses = set()
    for key in operation.responses:
        if key.isdigit():
            statuses.add(int(key))
        elif key[1:].upper() == "XX":
            statuses.update(range(int(key[0]) * 100, int(key[0]) * 100 + 100))
    return statuses


_MISSING: Any = object()


def _example(media: dict[str, Any], document: dict[str, Any]) -> Any:
    if "example" in media:
        return media["example"]
    for example in (media.get("examples") or {}).values():
        example, _ = deref(document, example, "")
        if "value" in example:
            return example["value"]
    schema, _ = deref(document, media.get("schema") or {}, "")
    return schema.get("example", _MISSING)


async def honour(header: str, operation: Operation, document: dict[str, Any]) -> Reply | None:
    """Wait what `delay` asks for; the answer `code` asks for (None: the operation answers), or
    raise the refusal of a code it cannot give."""
    wish = parse(header)
    if wish.delay_ms:
        await asyncio.sleep(wish.delay_ms / 1000)
    if wish.code is None:
        return None
    preferred = reply_for(operation, wish.code, document)
    if isinstance(preferred, Exception):
        raise preferred
    return preferred
