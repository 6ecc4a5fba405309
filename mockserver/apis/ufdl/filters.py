"""The FilterSpec of list bodies: expressions, ordering and `include_inactive`, applied in memory.

Fields are columns of the listed model or paths through its relations, written with dots
(`team.name`, `creator.username`, `team.creator.username`) or Django's `__` (`team__name`). The
structure of a spec is checked against the spec's FilterSpec schema before it reaches this module;
what is left here are the column-level errors (unknown field, a value that does not fit the
column), answered 400 in Django's wording where the real server answers 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from ...api import NO_BODY, FormBody
from .errors import Detail, schema_failure
from .models import parse_timestamp
from .state import Context

INT, STR, TIME, BOOL = "int", "str", "time", "bool"
DJANGO_FIELDS = {INT: "IntegerField", STR: "CharField", TIME: "DateTimeField", BOOL: "BooleanField"}

# model -> (columns by name, relations: field -> (target model, state table)); `pk`/`id` are the key
MODELS: dict[str, tuple[dict[str, str], dict[str, tuple[str, str]]]] = {
    "user": ({"pk": INT, "username": STR, "email": STR, "first_name": STR, "last_name": STR, "is_staff": BOOL,
              "is_superuser": BOOL, "is_active": BOOL, "date_joined": TIME, "last_login": TIME}, {}),
    "team": ({"pk": INT, "name": STR, "creation_time": TIME, "deletion_time": TIME},
             {"creator": ("user", "users")}),
    "project": ({"pk": INT, "name": STR, "creation_time": TIME, "deletion_time": TIME},
                {"team": ("team", "teams"), "creator": ("user", "users")}),
}
ALIASES = {"id": "pk", "team_id": "team", "creator_id": "creator"}

Getter = Callable[[Any], Any]
FILTER_SPEC = "/components/schemas/FilterSpec"


def read_spec(ctx: Context) -> dict[str, Any]:
    """The list body as a FilterSpec: absent, `{}` and `[]` mean no filter; anything else is checked
    against the FilterSpec schema (a form body arrives as lists of strings, as in DRF, and fails)."""
    body = ctx.parsed_body()
    if body is NO_BODY or (type(body) in (dict, list, FormBody) and not body):
        return {}
    violations = ctx.runtime.spec.validator(FILTER_SPEC).violations(body)
    if violations:
        raise schema_failure(body, violations[0].message)
    return body


class Column:
    """A resolved field path: how to read it from a record, and its type."""

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


def resolve(path: str, state: Any, model: str = "project") -> Column:
    """Walk `path` from `model` through its relations to a column; 400 in Django's words if it cannot."""
    parts = path.replace("__", ".").split(".")
    steps: list[tuple[str, str]] = []  # (attribute, state table) of each relation crossed
    for index, raw in enumerate(parts):
        part = ALIASES.get(raw, raw)
        columns, relations = MODELS[model]
        last = index == len(parts) - 1
        if part in relations:
            target, table = relations[part]
            if last:  # the relation itself: its primary key
                return _column(path, INT, [*steps, (part, "")], state)
            steps.append((part, table))
            model = target
        elif part in columns:
            if not last:
                raise Detail(f"Unsupported lookup '{parts[index + 1]}' for {DJANGO_FIELDS[columns[part]]} "
                             "or join on the field not permitted.")
            return _column(path, columns[part], [*steps, (part, "")], state)
        else:
            choices = ", ".join(sorted({*columns, *relations, "id"}))
            raise Detail(f"Cannot resolve keyword '{raw}' into field. Choices are: {choices}")
    raise AssertionError("unreachable")  # pragma: no cover


def _column(path: str, kind: str, steps: list[tuple[str, str]], state: Any) -> Column:
    tables = [(attribute, getattr(state, table) if table else None) for attribute, table in steps]

    def getter(record: Any) -> Any:
        for attribute, table in tables:
            if record is None:
                return None
            value = getattr(record, attribute)
            record = value if table is None else table.get(value)
        return record

    return Column(path, kind, getter)


def compile_expression(expr: dict[str, Any], state: Any, model: str = "project") -> Callable[[Any], bool]:
    """Turn one (schema-valid) expression into a predicate over records."""
    kind = expr["type"]
    if kind in ("and", "or"):
        parts = [compile_expression(sub, state, model) for sub in expr["sub_expressions"]]
        test: Callable[[Any], bool] = (
            (lambda r: all(part(r) for part in parts)) if kind == "and" else (lambda r: any(part(r) for part in parts))
        )
    else:
        test = _field_test(kind, expr, resolve(expr["field"], state, model))
    if expr.get("invert"):
        return lambda r: not test(r)
    return test


def _field_test(kind: str, expr: dict[str, Any], column: Column) -> Callable[[Any], bool]:
    get = column.get
    if kind == "isnull":
        return lambda r: get(r) is None
    if kind == "contains":
        needle = str(expr["sub_string"])
        if expr.get("case_insensitive"):
            needle = needle.lower()
            return lambda r: (v := get(r)) is not None and needle in _text(v).lower()
        return lambda r: (v := get(r)) is not None and needle in _text(v)
    value = column.coerce(expr["value"])
    if kind == "exact":
        if expr.get("case_insensitive") and isinstance(value, str):
            folded = value.lower()
            return lambda r: (v := get(r)) is not None and _text(v).lower() == folded
        return lambda r: get(r) == value
    compare = {"<": lambda a, b: a < b, ">": lambda a, b: a > b,
               "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}[expr["operator"]]
    return lambda r: (v := get(r)) is not None and compare(v, value)


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def apply(records: Iterable[Any], spec: dict[str, Any], state: Any, model: str = "project", *,
          in_pk_order: bool = True) -> list[Any]:
    """Filter (expressions, then soft-delete visibility) and order a collection of records.

    `records` come in pk order (tables are dicts filled in pk order) unless `in_pk_order` is False.
    Expressions are ANDed, so they are applied one after another, each to what the last kept.
    """
    tests = [compile_expression(expr, state, model) for expr in spec.get("expressions", [])]
    orderings = [(resolve(o["field"], state, model), o.get("ascending", True), o.get("nulls_first"))
                 for o in spec.get("order_by", [])]
    include_inactive = spec.get("include_inactive", False)
    if include_inactive:
        selected = list(records)
    elif model == "user":  # users are never deleted: a deactivated one is inactive
        selected = [r for r in records if r.is_active]
    else:
        selected = [r for r in records if r.deletion_time is None]
    for test in tests:
        selected = [r for r in selected if test(r)]
    if not in_pk_order:
        selected.sort(key=lambda r: r.pk)
    for column, ascending, nulls_first in reversed(orderings):
        # SQLite puts NULLs first when ascending and last when descending unless told otherwise
        if nulls_first is None:
            nulls_first = ascending
        get = column.get
        nulls_group = 0 if nulls_first != (not ascending) else 1
        selected.sort(key=lambda r: (nulls_group, None) if (v := get(r)) is None else (1 - nulls_group, v),
                      reverse=not ascending)
    return selected


def team_candidates(spec: dict[str, Any], state: Any) -> list[Any] | None:
    """The projects of the team an `exact` team filter names, from the state's index (no scan);
    None when the spec has no such filter. Every expression is still applied to the result."""
    for expr in spec.get("expressions", []):
        if (expr.get("type") == "exact" and expr.get("field") in ("team", "team_id", "team.pk", "team.id")
                and not expr.get("invert") and not expr.get("case_insensitive")):
            try:
                team = resolve("team", state).coerce(expr["value"])
            except Detail:
                return None  # apply() reports it, in the order of the expressions
            return state.projects_in_team(team)
    return None
