"""The find language's `filter` (ByKeys): compiled once into a predicate over project JSON rows.

The shape of a filter is checked against the spec's `Filter` schema before it gets here; what is
left are the rules a schema cannot state: known column names, operators that apply to project
columns, interval bounds. Values compare as JSON values without coercion: different JSON types
(or a null/absent column, except equality with null) never compare true, so the negated
operators are then true.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .errors import InvalidInputData
from .models import COLUMNS, TIME_COLUMNS

Row = dict[str, Any]
Predicate = Callable[[Row], bool]

ORDERING = {"gt": operator.gt, "lt": operator.lt, "gte": operator.ge, "lte": operator.le}
COLUMN_OPERATORS = ("eq", "not_eq", *ORDERING)
NEGATED = {"not_eq": "eq", "not_in": "in", "not_like": "like", "not_like_in": "like_in"}
UNSUPPORTED = ("has_any", "has_all", "has_none", "in_subtree")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


KINDS = {bool: "boolean", int: "number", float: "number", str: "string", dict: "object", list: "array",
         type(None): "null"}


def json_kind(value: Any) -> str:
    """The JSON type of a value; booleans are not numbers."""
    kind = KINDS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", dict: "object", list: "array"}.get(type(value), "null")


def equal(left: Any, right: Any) -> bool:
    if right is None or left is None:
        return left is right
    if type(left) is type(right):  # the usual case: same type, same JSON kind
        return left == right
    return left == right and json_kind(left) == json_kind(right)  # cheap test first: most rows differ


def ordered(compare: Callable[[Any, Any], bool], left: Any, right: Any) -> bool:
    if left is None or right is None or json_kind(left) != json_kind(right):
        return False
    return json_kind(left) in ("number", "string", "boolean") and compare(left, right)


def like_pattern(pattern: str) -> re.Pattern[str]:
    """SQL LIKE as a regex: `%` any run, `_` one character, `\\` escapes the next one; case-sensitive."""
    parts, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars, "\\")))
        else:
            parts.append({"%": ".*", "_": "."}.get(char) or re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def check_column(name: str, where: str) -> str:
    if name not in COLUMNS:
        raise InvalidInputData(f"{where}: unknown column {name!r}; project columns are {', '.join(COLUMNS)}")
    return name


def compile_filter(spec: dict[str, Any], where: str = "filter") -> Predicate:
    """One predicate for a ByKeys object: every key must hold; `and`/`or` nest."""
    tests: list[Predicate] = []
    for key, condition in spec.items():
        if key in ("and", "or"):
            branches = condition if isinstance(condition, list) else [condition]
            subs = [compile_filter(sub, f"{where}.{key}[{i}]") for i, sub in enumerate(branches)]
            combine = all if key == "and" else any
            tests.append(lambda row, subs=subs, combine=combine: combine(sub(row) for sub in subs))
        else:
            column = check_column(key, f"{where}.{key}")
            tests.append(_condition(column, condition, f"{where}.{key}"))
    if len(tests) == 1:
        return tests[0]
    return lambda row: all(test(row) for test in tests)


def _condition(column: str, condition: Any, where: str) -> Predicate:
    if isinstance(condition, list):
        return _operator(column, "in", condition, where)
    if not isinstance(condition, dict):
        return lambda row: equal(row.get(column), condition)
    op = condition["op"]
    if "col" in condition:
        other = check_column(condition["col"], f"{where}.col")
        if op not in COLUMN_OPERATORS:
            raise InvalidInputData(f"{where}: operator {op!r} cannot compare two columns; use one of "
                                   + ", ".join(COLUMN_OPERATORS))
        test = _test(op, where)
        return lambda row: test(row.get(column), row.get(other))
    return _operator(column, op, condition["value"], where)


def _operator(column: str, op: str, value: Any, where: str) -> Predicate:
    if op in NEGATED:
        positive = _operator(column, NEGATED[op], value, where)
        return lambda row: not positive(row)
    if op in UNSUPPORTED:
        raise InvalidInputData(f"{where}: operator {op!r} does not apply to project columns")
    if op in ("dtinterval", "dinterval", "dtintervalMillis"):
        return _interval(column, op, value, where)
    if op == "like":
        regex = like_pattern(value)
        return lambda row: isinstance(text := row.get(column), str) and regex.fullmatch(text) is not None
    if op == "like_in":
        regexes = [like_pattern(pattern) for pattern in value]
        return lambda row: isinstance(text := row.get(column), str) and any(r.fullmatch(text) for r in regexes)
    if op == "in":
        return lambda row: any(equal(row.get(column), choice) for choice in value)
    if op == "range":
        low, high = value
        return lambda row: ordered(operator.le, low, v := row.get(column)) and ordered(operator.le, v, high)
    test = _test(op, where)
    return lambda row: test(row.get(column), value)


def _test(op: str, where: str) -> Callable[[Any, Any], bool]:
    if op == "eq":
        return equal
    if op == "not_eq":
        return lambda left, right: not equal(left, right)
    if op in ORDERING:
        compare = ORDERING[op]
        return lambda left, right: ordered(compare, left, right)
    raise InvalidInputData(f"{where}: operator {op!r} needs a value of another shape")


def _interval(column: str, op: str, bounds: list[Any], where: str) -> Predicate:
    """`[from, to]`, both inclusive, on the timestamp columns only."""
    if column not in TIME_COLUMNS:
        raise InvalidInputData(f"{where}: operator {op!r} applies only to {', '.join(TIME_COLUMNS)}")
    try:
        if op == "dinterval":
            low, high = (_date(bound) for bound in bounds)
            return lambda row: (v := row.get(column)) is not None and low <= v[:10] <= high
        if op == "dtinterval":
            low, high = (_millis(parse_moment(bound)) for bound in bounds)
        else:
            low, high = (_number(bound) for bound in bounds)
    except (TypeError, ValueError, OverflowError):
        rule = {"dinterval": "YYYY-MM-DD dates", "dtinterval": "ISO 8601 date-times",
                "dtintervalMillis": "epoch milliseconds"}[op]
        raise InvalidInputData(f"{where}: operator {op!r} needs [from, to] as {rule}") from None
    return lambda row: (v := row.get(column)) is not None and low <= _millis(parse_moment(v)) <= high


def _date(bound: Any) -> str:
    if not isinstance(bound, str) or not DATE.fullmatch(bound):
        raise ValueError(bound)
    datetime.strptime(bound, "%Y-%m-%d")  # a real calendar date
    return bound


def parse_moment(text: Any) -> datetime:
    """An ISO 8601 date-time (`Z` or an offset; UTC when it has none). Raises TypeError/ValueError."""
    if not isinstance(text, str):
        raise TypeError(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _millis(moment: datetime) -> float:
    return moment.timestamp() * 1000


def _number(bound: Any) -> float:
    if json_kind(bound) != "number":
        raise TypeError(bound)
    return float(bound)
