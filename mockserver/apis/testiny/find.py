"""Running a find: a DataReadParams object in, one FindResult page out.

Matches are the projects selected by `id`/`ids`, visible under `includeDeleted` and passing the
`filter`, sorted by `order` (then by id). A page holds at most `PAGE_CAP` items whatever the
request asks for, and `meta.limit`/`meta.offset` are always set, so a client that pages until a
short page always terminates.
"""

from __future__ import annotations

import base64
import binascii
import calendar
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ... import jsonio
from .errors import InvalidInput, InvalidInputData, field_rule, shorten
from .filters import check_column, compile_filter, json_kind
from .index import EqualityIndex
from .models import COLUMNS, Project

PAGE_CAP = 2000
PARAMS_SCHEMA = "/components/schemas/DataReadParams"
Sorter = Callable[[list[Project]], None]


def decode_q(raw: str) -> dict[str, Any]:
    """`q` as JSON (first non-blank character `{`), else as base64 (standard or URL-safe) of the JSON."""
    text = raw.strip()
    if not text.startswith("{"):
        # a `+` left unescaped in a query string arrives as a space
        alphabet = text.replace(" ", "+").replace("-", "+").replace("_", "/").rstrip("=")
        try:
            text = base64.b64decode(alphabet + "=" * (-len(alphabet) % 4), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise InvalidInput("q: is neither JSON nor base64 of JSON") from None
    try:
        params = jsonio.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"q: malformed JSON: {shorten(str(exc))}") from None
    if not isinstance(params, dict):
        raise InvalidInput("q: must be a JSON object (DataReadParams)")
    return params


def run_find(projects: Mapping[int, Project], params: Mapping[str, Any],
             index: EqualityIndex | None = None) -> dict[str, Any]:
    """The FindResult for schema-valid params; column and operator errors raise InvalidInputData."""
    chosen, meta = find_page(projects, params, index)
    data = [{"id": p.id} for p in chosen] if params.get("idOnly") else [p.to_json() for p in chosen]
    return {"data": data, "meta": meta}


def encoded_find(projects: Mapping[int, Project], params: Mapping[str, Any],
                 index: EqualityIndex | None = None) -> jsonio.Encoded:
    """`run_find` as the bytes sent: the page joins each project's cached JSON."""
    chosen, meta = find_page(projects, params, index)
    if params.get("idOnly"):
        data = jsonio.dumps([{"id": p.id} for p in chosen])
    else:
        data = jsonio.records_array(chosen).data
    return jsonio.Encoded(b'{"data":' + data + b',"meta":' + jsonio.dumps(meta) + b"}")


def find_page(projects: Mapping[int, Project], params: Mapping[str, Any],
              index: EqualityIndex | None = None) -> tuple[list[Project], dict[str, Any]]:
    """The projects of the requested page and the FindResult's `meta`."""
    if "asOf" in params:
        _check_as_of(params["asOf"])
    test = compile_filter(params["filter"]) if params.get("filter") else None  # also checks the whole filter
    sort = compile_order(params.get("order") or [])
    candidates, indexed = _candidates(projects, params, index)
    if indexed is not None:  # every candidate already satisfies that condition: test the others
        rest = {key: value for key, value in params["filter"].items() if key != indexed}
        test = compile_filter(rest) if rest else None
    matches = candidates if test is None else [p for p in candidates if test(p.to_json())]
    sort(matches)
    # every pagination value is an integer, which JSON Schema lets a client write as 5.0
    pagination = {name: int(value) for name, value in (params.get("pagination") or {}).items()}
    page = min(pagination.get("limit", PAGE_CAP), PAGE_CAP)
    meta: dict[str, Any] = {"count": len(matches), "offset": 0, "limit": page}
    chosen: list[Project] = []
    if not params.get("countOnly"):
        start, stop = _window(matches, pagination, page)
        chosen = matches[start:stop]
        meta.update(count=len(chosen), offset=start)
    if params.get("includeTotalCount"):
        meta["totalCount"] = len(matches)
    return chosen, meta


def _check_as_of(value: str) -> None:
    """`asOf` is ignored but must be a real RFC 3339 date-time. The schema's pattern checks the shape
    and each field's range; left are the month's length (year 0000 is a leap year, as 2000 is) and
    the leap second, which only 23:59:60 UTC may have."""
    year, month, day = int(value[0:4]), int(value[5:7]), int(value[8:10])
    valid = day <= calendar.monthrange(year or 2000, month)[1]
    if valid and value[17:19] == "60":
        offset = 0 if value[-1] in "Zz" else int(value[-6] + "1") * (int(value[-5:-3]) * 60 + int(value[-2:]))
        valid = (int(value[11:13]) * 60 + int(value[14:16]) - offset) % 1440 == 23 * 60 + 59
    if not valid:
        raise InvalidInputData(f"asOf: {field_rule('asOf')}")


def _candidates(projects: Mapping[int, Project], params: Mapping[str, Any],
                index: EqualityIndex | None) -> tuple[list[Project], str | None]:
    """Projects in id order that may match, and the filter column whose plain equality they all
    satisfy (None if none): those `id`/`ids` name, else the index bucket of a plain equality in the
    filter, else all; without `includeDeleted` only the live ones."""
    wanted: set[int] | None = None
    indexed = None
    if "id" in params:
        wanted = {int(params["id"])}
    if "ids" in params:
        listed = {int(pid) for pid in params["ids"]}
        wanted = listed if wanted is None else wanted & listed
    rows: Iterable[Project] = projects.values()
    if wanted is not None:
        rows = [projects[pid] for pid in sorted(wanted) if pid in projects]
    elif index is not None and params.get("filter"):
        for column, condition in params["filter"].items():
            if column in COLUMNS and not isinstance(condition, (dict, list)):
                bucket = index.lookup(column, condition)
                if bucket is not None:
                    rows, indexed = bucket, column
                    break
    if params.get("includeDeleted"):
        return list(rows), indexed
    return [p for p in rows if p.deleted_at is None], indexed


def _window(matches: list[Project], pagination: Mapping[str, Any], page: int) -> tuple[int, int]:
    """[start, stop) of the page: `offset` (or the page holding `pageAtId`), widened by `inflate`."""
    offset = pagination.get("offset", 0)
    at = pagination.get("pageAtId")
    if at is not None and page:
        position = next((n for n, p in enumerate(matches) if p.id == at), None)
        if position is not None:
            offset = position // page * page
    inflate = pagination.get("inflate", 0)
    start = max(0, offset - inflate)
    return start, min(offset + page + inflate, start + PAGE_CAP)


def compile_order(items: list[Mapping[str, Any]]) -> Sorter:
    """A stable in-place sort: keys in turn, ties by the incoming (id) order; nulls first in asc."""
    keys = [(check_column(item["column"], f"order[{n}].column"), item["order"], item.get("seq") or [])
            for n, item in enumerate(items)]

    def sort(projects: list[Project]) -> None:
        for column, direction, seq in reversed(keys):
            if direction == "seq":
                rank: dict[tuple[str, Any], int] = {}
                for n, value in enumerate(seq):
                    rank.setdefault((json_kind(value), value), n)
                projects.sort(key=lambda p: rank.get(_typed(p.to_json().get(column)), len(seq)))
            else:
                projects.sort(key=lambda p: _nulls_low(p.to_json().get(column)), reverse=direction == "desc")

    return sort


def _typed(value: Any) -> tuple[str, Any]:
    return json_kind(value), value


def _nulls_low(value: Any) -> tuple[int, Any]:
    return (0, 0) if value is None else (1, value)
