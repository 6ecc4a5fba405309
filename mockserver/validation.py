"""JSON Schema validation of requests and responses, with structured results and no API wording.

Validators are built once per schema location of the spec (a `$ref` into the whole document, so
recursive schemas and shared components work). The yes/no question is answered by jsonschema-rs
(compiled, ~100x faster); only a value that fails is walked again by the `jsonschema` package,
whose messages are the ones Python servers print. A failed check yields `Violation`s; turning
them into an error body is the business of each API's `errors` module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_HUGE = 10**4000
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


@dataclass(frozen=True)
class Violation:
    """One reason a value does not fit its schema."""

    location: str  # "body", "query", "path", "response"
    path: tuple[str | int, ...]  # where inside the value (empty: the value itself)
    message: str  # the jsonschema message, e.g. "'x' is not of type 'integer'"
    keyword: str  # the failing keyword: type, required, maxLength, ...
    instance: Any = None
    expected: Any = None  # the failing keyword's value in the schema, e.g. 1000 for maxItems

    @property
    def field(self) -> str:
        """Dotted location inside the value, e.g. `name` or `items.0.id` ('' for the value)."""
        return ".".join(str(part) for part in self.path)

    @property
    def readable(self) -> str:
        """The message for people: a long pattern is not quoted (it reads as noise), only named."""
        if self.keyword == "pattern" and len(self.message) > 120:
            shown = repr(self.instance) if len(repr(self.instance)) <= 60 else repr(self.instance)[:57] + "..."
            return f"{shown} does not match the pattern the spec gives this field"
        return self.message


def dotted_path(parts: Iterable[str | int]) -> str:
    """Where inside a value, for people: `("filter", "or", 0, "name")` → `filter.or[0].name`."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class SchemaValidator:
    """Validates values against one schema location of a spec document."""

    __slots__ = ("pointer", "_validator", "_fast")

    def __init__(self, validator: Draft202012Validator, pointer: str, fast: Any = None) -> None:
        self.pointer = pointer
        self._validator = validator
        self._fast = fast

    def is_valid(self, value: Any) -> bool:
        if self._fast is not None:
            try:
                return self._fast.is_valid(value)
            except (ValueError, OverflowError):  # a value jsonschema-rs cannot take (e.g. a huge int)
                pass
        return self._validator.is_valid(value)

    def violations(self, value: Any, location: str = "body") -> list[Violation]:
        """Every violation, the most relevant first (the one `jsonschema.validate` would raise)."""
        if self.is_valid(value) or self._validator.is_valid(value):
            return []
        errors = sorted(self._validator.iter_errors(value), key=relevance)
        best = _best(errors)
        ordered = [best] + [e for e in errors if e is not best]
        return [_violation(e, location) for e in ordered]


class ValidatorFactory:
    """Builds `SchemaValidator`s for JSON pointers into one document, sharing one registry."""

    def __init__(self, document: dict[str, Any], uri: str, others: dict[str, dict[str, Any]] | None = None) -> None:
        """`others`: more documents by URI that `document`'s `$ref`s may point into."""
        self._uri = uri
        documents = {uri: document, **(others or {})}
        self._registry = Registry().with_resources(
            (key, Resource(contents=value, specification=DRAFT202012)) for key, value in documents.items())
        self._fast_registry = jsonschema_rs.Registry(list(documents.items()))
        self._cache: dict[str, SchemaValidator] = {}

    def validator(self, pointer: str) -> SchemaValidator:
        if pointer not in self._cache:
            schema = {"$ref": f"{self._uri}#{quote(pointer, safe='/~')}"}
            fast = jsonschema_rs.Draft202012Validator(schema, registry=self._fast_registry)
            slow = Draft202012Validator(schema, registry=self._registry)
            self._cache[pointer] = SchemaValidator(slow, pointer, fast)
        return self._cache[pointer]


def _best(errors: list[ValidationError]) -> ValidationError:
    from jsonschema.exceptions import best_match

    return best_match(errors) or errors[0]


def _violation(error: ValidationError, location: str) -> Violation:
    return Violation(
        location=location,
        path=tuple(error.absolute_path),
        message=error.message,
        keyword=str(error.validator),
        instance=error.instance,
        expected=error.validator_value,
    )


def coerce_parameter(raw: str, kind: str) -> Any:
    """Turn a path/query string into the type its schema names; leave it as is when it does not fit.

    A string that does not fit stays a string, so schema validation reports it as a type error.
    """
    try:
        if kind == "integer" and _INTEGER.fullmatch(raw):
            return int(raw)
        if kind == "number" and _NUMBER.fullmatch(raw):
            return float(raw) if any(c in raw for c in ".eE") else int(raw)
    except ValueError:  # more digits than int() converts: a number beyond any pk or limit anyway
        return -_HUGE if raw.startswith("-") else _HUGE
    if kind == "boolean" and raw.lower() in _BOOLEANS:
        return _BOOLEANS[raw.lower()]
    return raw
