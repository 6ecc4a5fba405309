"""Request bodies: read with a timeout, and decoded by media type (JSON, form, multipart).

`read_body` waits for the bytes; `decode` turns them into a JSON value or a `FormBody`, raising
the engine's `MalformedBody` for bytes that do not decode. Nothing here knows an API: which media
types an operation takes comes from its spec (and `HttpDialect.parsed_media_types`).
"""

from __future__ import annotations

import asyncio
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from . import jsonio
from .api import FormBody
from .errors import BodyIncomplete, BodyTooLarge, MalformedBody

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


async def read_body(request: web.BaseRequest, timeout: float) -> bytes | Exception:
    """The body bytes, or the error reading them (a Content-Encoding that does not decode); a body
    that does not arrive within `timeout` seconds is refused (BodyIncomplete), not waited for."""
    try:
        if request.content.is_eof():  # all of it came with the headers (most bodies): nothing to wait for
            return await request.read()
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise BodyIncomplete(timeout, request.content_length) from None
    except web.HTTPRequestEntityTooLarge:
        raise BodyTooLarge(limit=request.client_max_size, size=request.content_length) from None
    except web.RequestPayloadError as exc:
        return exc


def media_type_of(content_type: str) -> str:
    """`application/json; charset=utf-8` → `application/json`."""
    return content_type.split(";", 1)[0].strip().lower()


def unreadable(error: Exception, media_type: str) -> MalformedBody:
    """The refusal of a body whose bytes could not be read (a Content-Encoding that does not decode)."""
    return MalformedBody(str(error) or error.__class__.__name__, media_type)


def decode(data: bytes, media_type: str, header: str) -> Any:
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
