"""DRF-style validation of request bodies: the field rules and messages of the real serializers.

A JSON Schema can say which types are accepted, but not DRF's coercions (numbers become
strings, names are trimmed, `"1"` and `1.5` are team pks) nor its exact wording; that is here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

from ...api import NO_BODY, FormBody
from ...text import lone_surrogate
from . import errors as e

_EMPTY = object()  # a field absent from the body
_PK_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)  # what the spec's TeamRef pattern admits, and "-1"
USERNAME = re.compile(r"[\w.@+-]+")  # Django's UnicodeUsernameValidator
# Django's EmailValidator: a dot-atom (or quoted) local part, and a dotted domain or localhost
_EMAIL_USER = re.compile(r"[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*"
                         r'|"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*"',
                         re.IGNORECASE)
_EMAIL_DOMAIN = re.compile(r"((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{2,63}(?<!-))|localhost",
                           re.IGNORECASE)


def as_data(body: Any) -> dict[str, Any]:
    """The body as DRF's `request.data`: no body → {}, form → last values; JSON must be an object."""
    if body is NO_BODY:
        return {}
    if isinstance(body, FormBody):
        return body.last_values()
    if body is None:
        raise e.FieldErrors({"non_field_errors": [e.NO_DATA]})
    if not isinstance(body, dict):
        raise e.FieldErrors({"non_field_errors": [e.NOT_A_DICT.format(type=_type_name(body))]})
    return body


def char_field(value: Any, *, max_length: int | None, trim: bool = True, allow_blank: bool = False) -> str:
    """CharField: rejects null/blank/non-strings, coerces numbers, trims, checks length. Raises ValueError(msgs)."""
    if value is None:
        raise ValueError([e.NULL])
    if (value == "" or (trim and isinstance(value, str) and value.strip() == "")) and not allow_blank:
        raise ValueError([e.BLANK])
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError([e.NOT_A_STRING])
    text = str(value)
    if trim:
        text = text.strip()
    messages = []
    if max_length is not None and len(text) > max_length:
        messages.append(e.TOO_LONG.format(max=max_length))
    if "\x00" in text:
        messages.append(e.NULL_CHARACTERS)
    surrogate = lone_surrogate(text)
    if surrogate is not None:
        messages.append(e.SURROGATES.format(code=ord(surrogate)))
    if messages:
        raise ValueError(messages)
    return text


def email_field(value: Any) -> str:
    """EmailField(blank=True, max_length=254): a CharField whose non-blank text must be an address."""
    text = char_field(value, max_length=254, allow_blank=True)
    if text:
        user, at, domain = text.rpartition("@")
        if not at or not _EMAIL_USER.fullmatch(user) or not _EMAIL_DOMAIN.fullmatch(domain):
            raise ValueError([e.BAD_EMAIL])
    return text


_TRUE = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1"}
_FALSE = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0"}


def boolean_field(value: Any) -> bool:
    """DRF's BooleanField: booleans, 0/1 and the usual words (a form sends text)."""
    if value is None:
        raise ValueError([e.NULL])
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value in _TRUE | _FALSE:
        return value in _TRUE
    raise ValueError([e.BAD_BOOLEAN])


def pk_field(value: Any, exists: Callable[[int], bool]) -> int:
    """PrimaryKeyRelatedField: `"1"` and `1.5` resolve like Django's int(); unknown pks are errors."""
    if value is None or value == "":
        raise ValueError([e.NULL])
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError([e.INCORRECT_TYPE.format(type=_type_name(value))])
    if isinstance(value, str) and not _PK_TEXT.fullmatch(value):
        raise ValueError([e.INCORRECT_TYPE.format(type="str")])  # no int("1_0") or non-ASCII digits
    try:
        pk = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError([e.INCORRECT_TYPE.format(type=_type_name(value))]) from None
    if not exists(pk):
        raise ValueError([e.DOES_NOT_EXIST.format(pk=value)])
    return pk


def validate(data: dict[str, Any], fields: dict[str, Callable[[Any], Any]], *, partial: bool,
             optional: Collection[str] = ()) -> dict[str, Any]:
    """Run each field's rule; collect every failure (in field order) into one FieldErrors.

    Absent fields are "required" errors unless `partial` (PATCH) or named in `optional`."""
    clean: dict[str, Any] = {}
    failures: dict[str, list[str]] = {}
    for name, rule in fields.items():
        value = data.get(name, _EMPTY)
        if value is _EMPTY:
            if not partial and name not in optional:
                failures[name] = [e.REQUIRED]
            continue
        try:
            clean[name] = rule(value)
        except ValueError as exc:
            failures[name] = exc.args[0]
    if failures:
        raise e.FieldErrors(failures)
    return clean


def _type_name(value: Any) -> str:
    return type(value).__name__


def name_limit(ctx: Any) -> int:
    """The most characters a project or team name may have (read from the spec's `StoredName`)."""
    return ctx.runtime.spec.schema("StoredName")["maxLength"]
