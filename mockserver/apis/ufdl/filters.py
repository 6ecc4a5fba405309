"""The FilterSpec of list bodies: expressions, ordering and `include_inactive`, applied in memory.

Fields are project columns or dotted paths through relations (`team.name`, `creator.username`;
Django's `team__name` is accepted too). The structure of a spec is checked against the spec's
FilterSpec schema before it reaches this module; what is left here are the column-level errors
(unknown field, a value that does not fit the column), answered 400 where the real server 500s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from .errors import Detail
from .models import parse_timestamp

INT, STR, TIME, BOOL = "int", "str", "time", "bool"

# column -> (type, getter(record) -> value) for each model the paths can reach
USER_COLUMNS = {
    "pk": INT, "id": INT, "username": STR, "email": STR, "first_name": STR, "last_name": STR,
    "is_staff": BOOL, "is_superuser": BOOL, "is_active": BOOL, "date_joined": TIME, "last_login": TIME,
}
TEAM_COLUMNS = {"pk": INT, "id": INT, "name": STR, "creator": INT, "creation_time": TIME, "deletion_time": TIME}
PROJECT_COLUMNS = {"pk": INT, "id": INT, "name": STR, "team": INT, "creator": INT,
                   "creation_time": TIME, "deletion_time": TIME}
RELATIONS = {"team": ("teams", TEAM_COLUMNS), "creator": ("users", USER_COLUMNS)}
ALIASES = {"id": "pk", "team_id": "team", "creator_id": "creator"}

Getter = Callable[[Any], Any]


class Column:
    """A resolved field path: how to read it from a project, and its type."""

    def __init__(self, name: str, kind: str, getter: Getter) -> None:
        self.name, self.kind, self.get = name, kind, getter

    def coerce(self, value: Any) -> Any:
        """Convert a filter value to the column's type as Django would; 400 when it cannot."""
        try:
            if self.kind == INT:
                return int(value)
            if self.kind == STR:
                return value if isinstance(value, str) else str(value)
            if self.kind == BOOL:
                if isinstance(value, bool):
                    return value
                return {"true": True, "false": False, "1": True, "0": False, "t": True, "f": False}[str(value).lower()]
            if self.kind == TIME:
                return parse_timestamp(value) if isinstance(value, str) else _fail()
        except (ValueError, TypeError, KeyError, OverflowError):
            pass
        expected = {INT: "a number", BOOL: "either True or False", TIME: "a date-time", STR: "a string"}[self.kind]
        raise Detail(f"Field '{self.name}' expected {expected} but got {value!r}.")


def _fail() -> Any:
    raise ValueError


def resolve(path: str, state: Any) -> Column:
    parts = path.replace("__", ".").split(".")
    first = ALIASES.get(parts[0], parts[0])
    if first not in PROJECT_COLUMNS:
        raise _unknown(path, PROJECT_COLUMNS)
    if len(parts) == 1:
        attr = "pk" if first == "pk" else first
        return Column(path, PROJECT_COLUMNS[first], lambda p, a=attr: getattr(p, a))
    if first not in RELATIONS or len(parts) != 2:
        raise _unknown(path, PROJECT_COLUMNS)
    table_name, columns = RELATIONS[first]
    column = ALIASES.get(parts[1], parts[1])
    if column not in columns:
        raise _unknown(parts[1], columns)
    table = getattr(state, table_name)

    def getter(project: Any) -> Any:
        related = table.get(getattr(project, first))
        return None if related is None else getattr(related, column)

    return Column(path, columns[column], getter)


def _unknown(name: str, columns: dict[str, str]) -> Detail:
    choices = ", ".join(sorted(set(columns) | {"id"}))
    return Detail(f"Cannot resolve keyword '{name}' into field. Choices are: {choices}")


def compile_expression(expr: dict[str, Any], state: Any) -> Callable[[Any], bool]:
    """Turn one (schema-valid) expression into a predicate over projects."""
    kind = expr["type"]
    if kind in ("and", "or"):
        parts = [compile_expression(sub, state) for sub in expr["sub_expressions"]]
        test: Callable[[Any], bool] = (
            (lambda p: all(part(p) for part in parts)) if kind == "and" else (lambda p: any(part(p) for part in parts))
        )
    else:
        column = resolve(expr["field"], state)
        test = _field_test(kind, expr, column)
    if expr.get("invert"):
        return lambda p: not test(p)
    return test


def _field_test(kind: str, expr: dict[str, Any], column: Column) -> Callable[[Any], bool]:
    get = column.get
    if kind == "isnull":
        return lambda p: get(p) is None
    if kind == "contains":
        needle = str(expr["sub_string"])
        if expr.get("case_insensitive"):
            needle = needle.lower()
            return lambda p: (v := get(p)) is not None and needle in _text(v).lower()
        return lambda p: (v := get(p)) is not None and needle in _text(v)
    value = column.coerce(expr["value"])
    if kind == "exact":
        if expr.get("case_insensitive") and isinstance(value, str):
            folded = value.lower()
            return lambda p: (v := get(p)) is not None and _text(v).lower() == folded
        return lambda p: get(p) == value
    operator = expr["operator"]
    compare = {"<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}[operator]
    return lambda p: (v := get(p)) is not None and compare(v, value)


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def apply(projects: Iterable[Any], spec: dict[str, Any], state: Any) -> list[Any]:
    """Filter (expressions, then soft-delete visibility) and order a collection of projects."""
    tests = [compile_expression(expr, state) for expr in spec.get("expressions", [])]
    orderings = [(resolve(o["field"], state), o.get("ascending", True), o.get("nulls_first")) for o in spec.get("order_by", [])]
    include_inactive = spec.get("include_inactive", False)
    selected = [
        p for p in projects
        if (include_inactive or p.deletion_time is None) and all(test(p) for test in tests)
    ]
    selected.sort(key=lambda p: p.pk)
    for column, ascending, nulls_first in reversed(orderings):
        # SQLite puts NULLs first when ascending and last when descending unless told otherwise
        if nulls_first is None:
            nulls_first = ascending
        get = column.get
        nulls_group = 0 if nulls_first != (not ascending) else 1
        selected.sort(key=lambda p: (nulls_group, None) if (v := get(p)) is None else (1 - nulls_group, v),
                      reverse=not ascending)
    return selected
