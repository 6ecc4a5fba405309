"""JSON encoding and decoding for the hot path: orjson when installed, the stdlib otherwise.

Decoding falls back to the stdlib parser whenever orjson refuses a document or may read it
inexactly, so that integers beyond 64 bits stay exact and lone surrogates are read the way Python
servers read them (callers refuse them: see text.py), and so that error messages are the stdlib's
(APIs such as DRF quote them verbatim) — as Python 3.11 and 3.12 word them, on every Python.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

try:  # pragma: no cover - exercised implicitly by whichever is installed
    import orjson
except ImportError:  # pragma: no cover
    orjson = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


MAX_DEPTH = 100  # deeper documents are refused: validators and reprs recurse over them
# orjson reads integers beyond 64 bits as floats; a document that may hold one (19+ digits in a
# row) is read by the stdlib instead, which keeps every integer exact
_MAYBE_HUGE = re.compile(rb"\d{19}")


def loads(data: bytes | str, encoding: str = "utf-8") -> Any:
    """Parse JSON strictly (no NaN/Infinity). Raises ValueError with the stdlib's message."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(raw) > MAX_DEPTH:
        raise ValueError(f"Maximum nesting depth of {MAX_DEPTH} exceeded")
    if orjson is not None and encoding.lower().replace("-", "").replace("_", "") == "utf8" and \
            _MAYBE_HUGE.search(raw) is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # re-parse below: either the stdlib accepts it, or we want its message
    try:
        text = data.decode(encoding) if isinstance(data, bytes) else data
    except LookupError:
        raise ValueError(f"unknown encoding: {encoding}") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise _stable_message(error) from None


_TRAILING_COMMA = "Illegal trailing comma before end of "
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _stable_message(error: json.JSONDecodeError) -> json.JSONDecodeError:
    """Python 3.13 words a trailing comma its own way ("Illegal trailing comma before end of
    object", at the comma); 3.11 and 3.12 — the servers observed — say what they expected instead,
    at the closing bracket. The mock answers the same on every Python, so the older words."""
    if not error.msg.startswith(_TRAILING_COMMA):
        return error
    closing = _WHITESPACE.match(error.doc, error.pos + 1).end()
    expected = ("Expecting property name enclosed in double quotes" if error.msg.endswith("object")
                else "Expecting value")
    return json.JSONDecodeError(expected, error.doc, closing)


def loads_stored(data: bytes) -> Any:
    """`loads` for JSON this process wrote itself (state-file rows): orjson straight away when it
    can read it exactly, else `loads`."""
    if orjson is not None and _MAYBE_HUGE.search(data) is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return loads(data)


def _depth(raw: bytes) -> int:
    """Nesting depth of a JSON text (brackets inside strings are skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (non-ASCII not escaped), as DRF and most JSON APIs print it."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except TypeError:  # ints beyond 64 bits, lone surrogates and the like: let the stdlib try
            pass
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped (`"\ud800"`), as JavaScript's JSON.stringify does
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def dumps_kept(value: Any) -> bytes:
    """`dumps` for bytes that are kept (caches): orjson's result of a small value still holds a
    4 KiB allocation, so it is copied into an object of its own size (about 25x less memory)."""
    data = dumps(value)
    return memoryview(data).tobytes() if len(data) < 4096 else data


class Encoded:
    """A JSON value already encoded: a reply body sent as these bytes (no second encoding).

    APIs cache the encoding of records that rarely change and join them into lists; `value()`
    decodes the bytes again for the few readers that need the value (strict contract checks)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def value(self) -> Any:
        return loads(self.data)

    def __repr__(self) -> str:
        return f"Encoded({self.data[:60]!r})"


def array(items: Iterable[bytes]) -> Encoded:
    """A JSON array of already-encoded values."""
    return Encoded(b"[" + b",".join(items) + b"]")


class CachedJson:
    """Mixin for records sent often: `to_json()` encoded once and kept in `json_bytes` until a
    change sets it back to None (the record class declares the `json_bytes` field)."""

    __slots__ = ()
    json_bytes: bytes | None

    def to_json(self) -> Any:
        raise NotImplementedError

    def encode(self) -> bytes:
        self.json_bytes = dumps_kept(self.to_json())
        return self.json_bytes

    def encoded(self) -> Encoded:
        return Encoded(self.json_bytes or self.encode())


def records_array(records: Iterable[CachedJson]) -> Encoded:
    """A JSON array of records, joining their cached encodings."""
    return array([r.json_bytes or r.encode() for r in records])
