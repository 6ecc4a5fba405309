"""Testiny find over HTTP: both forms (GET `q` as JSON or base64, POST body), the filter language,
ordering, enforced pagination and the result options."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from testiny_helpers import (
    call,
    check_error,
    check_ok,
    check_project,
    find,
    ids,
    start_mock,
    store_of,
    use_clock,
)

# five live projects and one deleted one; created one day apart from 2024-05-01T10:00:00.000Z
PROJECTS = [
    {"name": "Alpha", "project_key": "AL", "description": "first"},
    {"name": "beta", "project_key": None, "description": "50% done"},
    {"name": "Gamma", "project_key": "GA", "description": ""},
    {"name": "Delta_1", "project_key": "DE1", "description": "4"},
    {"name": "Alpine", "project_key": None, "description": "first"},
    {"name": "Gone", "project_key": "GO", "description": "deleted", "deleted": True},
]
LIVE = [1, 2, 3, 4, 5]


async def catalogue(make_mock):
    """The mock with PROJECTS, each created one day after the previous one (deleted on its day)."""
    client = await start_mock(make_mock, {})
    clock = use_clock(client)
    store = store_of(client)
    for entry in PROJECTS:
        fields = {k: v for k, v in entry.items() if k != "deleted"}
        [project] = store.create([fields], 1, bulk=False)
        if entry.get("deleted"):
            store.delete([project.id], 1)
        clock.advance(days=1)
    return client


async def _refused(client, params, code, message):
    response, body = await call(client, "POST", "/project/find", params)
    check_error(response, body, 400, code, message)


async def test_find_without_params_lists_live_projects_by_id_with_meta(make_mock):
    client = await catalogue(make_mock)
    result = await find(client, {})
    assert ids(result) == LIVE
    assert result["meta"] == {"count": 5, "offset": 0, "limit": 2000}
    for project in result["data"]:
        check_project(project)


@pytest.mark.parametrize("encode", [
    lambda text: text,
    lambda text: base64.b64encode(text.encode()).decode(),
    lambda text: base64.urlsafe_b64encode(text.encode()).decode().rstrip("="),
    lambda text: "  " + text,
])
async def test_find_query_form_reads_q_as_json_or_base64_json(make_mock, encode):
    client = await catalogue(make_mock)
    params = {"filter": {"name": {"op": "like", "value": "Al%"}}, "order": [{"column": "id", "order": "desc"}],
              "includeTotalCount": True}
    response, body = await call(client, "GET", "/project?q=" + quote(encode(json.dumps(params))) + "&l=label")
    check_ok(response)
    assert body == await find(client, params)
    assert ids(body) == [5, 1] and body["meta"]["totalCount"] == 2


async def test_find_query_form_tolerates_a_plus_sent_unescaped(make_mock):
    client = await catalogue(make_mock)
    text = json.dumps({"filter": {"description": "first"}, "label": "ab?>"})  # base64 of this holds a `+`
    encoded = base64.b64encode(text.encode()).decode()
    assert "+" in encoded
    response, body = await call(client, "GET", "/project?q=" + encoded)
    check_ok(response)
    assert ids(body) == [1, 5]


@pytest.mark.parametrize("q", ["{bad json", "%%%%", base64.b64encode(b"[1, 2]").decode(),
                               base64.b64encode(b"not json").decode(), base64.b64encode(b"\xff\xfe").decode(),
                               '{"a": 1} trailing', "[1]"])
async def test_find_query_with_q_that_is_not_a_json_object_is_invalid_input(make_mock, q):
    client = await catalogue(make_mock)
    response, body = await call(client, "GET", "/project", params={"q": q})
    check_error(response, body, 400, "API_INVALID_INPUT", r"^q: ")


@pytest.mark.parametrize("query", ["", "?q=", "?q=x", "?l=label", "?q=" + "%7B%7D" + "&l=" + "x" * 101])
async def test_find_query_without_a_usable_q_or_with_a_long_label_is_an_invalid_request(make_mock, query):
    client = await catalogue(make_mock)
    response, body = await call(client, "GET", "/project" + query)
    check_error(response, body, 400, "API_INVALID_REQUEST", r"^(q|l): ")


async def test_find_query_schema_violation_is_invalid_input_data(make_mock):
    client = await catalogue(make_mock)
    q = json.dumps({"pagination": {"limit": -1}})
    response, body = await call(client, "GET", "/project", params={"q": q})
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", r"^pagination\.limit: ")
    response, body = await call(client, "GET", "/project", params={"q": json.dumps({"colour": "red"})})
    check_error(response, body, 400, "API_INVALID_INPUT_DATA", r"colour")


@pytest.mark.parametrize("params", [[], "text", 3, None])
async def test_find_body_that_is_not_an_object_is_invalid_input(make_mock, params):
    client = await catalogue(make_mock)
    response, body = await call(client, "POST", "/project/find", data=json.dumps(params),
                                headers={"Content-Type": "application/json"})
    check_error(response, body, 400, "API_INVALID_INPUT", r"must be a JSON object")


@pytest.mark.parametrize(("condition", "expected"), [
    ({"name": "Alpha"}, [1]),
    ({"name": "alpha"}, []),
    ({"project_key": None}, [2, 5]),
    ({"description": "first", "name": "Alpine"}, [5]),
    ({"is_deleted": False}, LIVE),
    ({"created_by": 1}, LIVE),
    ({"modified_at": None}, LIVE),
    ({"name": ["Alpha", "Gamma", "Nope"]}, [1, 3]),
    ({"project_key": ["AL", None]}, [1, 2, 5]),
    ({"name": []}, []),
    ({}, LIVE),
])
async def test_filter_plain_values_mean_equality_and_arrays_membership(make_mock, condition, expected):
    client = await catalogue(make_mock)
    assert ids(await find(client, {"filter": condition})) == expected


@pytest.mark.parametrize(("column", "op", "value", "expected"), [
    ("id", "eq", 3, [3]),
    ("id", "not_eq", 3, [1, 2, 4, 5]),
    ("id", "gt", 3, [4, 5]),
    ("id", "gte", 3, [3, 4, 5]),
    ("id", "lt", 3, [1, 2]),
    ("id", "lte", 3, [1, 2, 3]),
    ("id", "eq", 3.0, [3]),
    ("name", "gt", "a", [2]),
    ("name", "lt", "Alpine", [1]),
    ("name", "like", "Al%", [1, 5]),
    ("name", "like", "%a", [1, 2, 3]),
    ("name", "like", "Gamm_", [3]),
    ("name", "like", "al%", []),
    ("name", "not_like", "Al%", [2, 3, 4]),
    ("name", "like", "Delta\\_1", [4]),
    ("description", "like", "50\\%%", [2]),
    ("description", "like", "50%", [2]),
    ("name", "in", ["beta", "Gamma"], [2, 3]),
    ("name", "not_in", ["beta", "Gamma"], [1, 4, 5]),
    ("name", "like_in", ["B%", "b%", "G%"], [2, 3]),
    ("name", "not_like_in", ["A%", "G%"], [2, 4]),
    ("id", "range", [2, 4], [2, 3, 4]),
    ("id", "range", [4, 2], []),
    ("name", "range", ["Alpha", "Delta_1"], [1, 4, 5]),  # code-point order: "beta" > "Delta_1"
    ("created_at", "gte", "2024-05-03T10:00:00.000Z", [3, 4, 5]),
    ("is_deleted", "eq", False, LIVE),
    ("project_key", "eq", None, [2, 5]),
    ("project_key", "not_eq", None, [1, 3, 4]),
])
async def test_filter_operators_compare_with_a_constant(make_mock, column, op, value, expected):
    client = await catalogue(make_mock)
    assert ids(await find(client, {"filter": {column: {"op": op, "value": value}}})) == expected


@pytest.mark.parametrize(("column", "op", "value", "expected"), [
    ("name", "gt", 5, []),
    ("name", "not_eq", 5, LIVE),
    ("id", "eq", "1", []),
    ("id", "eq", True, []),
    ("is_deleted", "eq", 0, []),
    ("project_key", "gt", None, []),
    ("project_key", "lt", "ZZ", [1, 3, 4]),
    ("description", "in", [4], []),
    ("id", "range", ["1", "9"], []),
    ("id", "not_in", ["1"], LIVE),
])
async def test_comparisons_between_json_types_or_with_null_are_false(make_mock, column, op, value, expected):
    client = await catalogue(make_mock)
    assert ids(await find(client, {"filter": {column: {"op": op, "value": value}}})) == expected


@pytest.mark.parametrize(("filter_", "expected"), [
    ({"or": [{"name": "Alpha"}, {"name": "Gamma"}]}, [1, 3]),
    ({"or": {"name": "Alpha"}}, [1]),
    ({"and": [{"name": {"op": "like", "value": "Al%"}}, {"id": {"op": "gt", "value": 1}}]}, [5]),
    ({"description": "first", "or": [{"id": 1}, {"id": 2}]}, [1]),
    ({"or": [{"and": [{"id": {"op": "lt", "value": 3}}, {"project_key": None}]}, {"name": "Gamma"}]}, [2, 3]),
    ({"and": []}, LIVE),
    ({"or": []}, []),
])
async def test_and_or_nest_and_keys_combine_with_and(make_mock, filter_, expected):
    client = await catalogue(make_mock)
    assert ids(await find(client, {"filter": filter_})) == expected


async def test_columns_can_be_compared_with_other_columns(make_mock):
    client = await catalogue(make_mock)
    await call(client, "PUT", "/project/2", {"description": "beta"}, params={"force": "1"})
    assert ids(await find(client, {"filter": {"description": {"op": "eq", "col": "name"}}})) == [2]
    assert ids(await find(client, {"filter": {"modified_at": {"op": "gt", "col": "created_at"}}})) == [2]
    assert ids(await find(client, {"filter": {"created_by": {"op": "gte", "col": "owner_user_id"}}})) == LIVE
    assert ids(await find(client, {"filter": {"description": {"op": "not_eq", "col": "name"}}})) == [1, 3, 4, 5]


async def test_comparing_columns_with_an_operator_other_than_the_comparisons_is_refused(make_mock):
    client = await catalogue(make_mock)
    await _refused(client, {"filter": {"name": {"op": "like", "col": "description"}}}, "API_INVALID_INPUT_DATA",
                   r"^filter\.name: operator 'like' cannot compare two columns")


@pytest.mark.parametrize(("params", "where"), [
    ({"filter": {"title": "x"}}, r"filter\.title"),
    ({"filter": {"or": [{"name": "a"}, {"colour": "red"}]}}, r"filter\.or\[1\]\.colour"),
    ({"filter": {"name": {"op": "eq", "col": "nick"}}}, r"filter\.name\.col"),
    ({"order": [{"column": "rank", "order": "asc"}]}, r"order\[0\]\.column"),
    ({"filter": {"Name": "Alpha"}}, r"filter\.Name"),
])
async def test_an_unknown_column_is_refused_naming_it(make_mock, params, where):
    client = await catalogue(make_mock)
    await _refused(client, params, "API_INVALID_INPUT_DATA", rf"^{where}: unknown column")


@pytest.mark.parametrize("op", ["has_any", "has_all", "has_none", "in_subtree"])
async def test_operators_without_meaning_for_projects_are_refused_naming_them(make_mock, op):
    client = await catalogue(make_mock)
    await _refused(client, {"filter": {"id": {"op": op, "value": [1]}}}, "API_INVALID_INPUT_DATA",
                   rf"^filter\.id: operator '{op}' does not apply")


@pytest.mark.parametrize(("op", "bounds", "expected"), [
    ("dtinterval", ["2024-05-02T10:00:00.000Z", "2024-05-04T10:00:00.000Z"], [2, 3, 4]),
    ("dtinterval", ["2024-05-02T12:00:00+02:00", "2024-05-02T10:00:00.001Z"], [2]),
    ("dtinterval", ["2024-05-02T10:00:00", "2024-05-02T10:00:00"], [2]),
    ("dinterval", ["2024-05-03", "2024-05-04"], [3, 4]),
    ("dtintervalMillis", [1714644000000, 1714730400000], [2, 3]),
])
async def test_interval_operators_select_timestamps_in_an_inclusive_range(make_mock, op, bounds, expected):
    client = await catalogue(make_mock)
    assert ids(await find(client, {"filter": {"created_at": {"op": op, "value": bounds}}})) == expected


async def test_interval_operators_apply_to_modified_and_deleted_timestamps_too(make_mock):
    client = await catalogue(make_mock)
    params = {"filter": {"deleted_at": {"op": "dinterval", "value": ["2024-05-06", "2024-05-06"]}},
              "includeDeleted": True}
    assert ids(await find(client, params)) == [6]
    assert ids(await find(client, {"filter": {"modified_at": {"op": "dinterval", "value": ["2000-01-01",
                                                                                            "2100-01-01"]}}})) == []


@pytest.mark.parametrize(("condition", "message"), [
    ({"id": {"op": "dtinterval", "value": ["2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"]}}, "applies only to"),
    ({"name": {"op": "dinterval", "value": ["2024-01-01", "2025-01-01"]}}, "applies only to"),
    ({"created_at": {"op": "dinterval", "value": ["2024-13-01", "2025-01-01"]}}, "YYYY-MM-DD dates"),
    ({"created_at": {"op": "dinterval", "value": ["2024-01-01T00:00:00Z", "2025-01-01"]}}, "YYYY-MM-DD dates"),
    ({"created_at": {"op": "dtinterval", "value": ["yesterday", "today"]}}, "ISO 8601 date-times"),
    ({"created_at": {"op": "dtinterval", "value": [1, 2]}}, "ISO 8601 date-times"),
    ({"created_at": {"op": "dtintervalMillis", "value": ["1", "2"]}}, "epoch milliseconds"),
    ({"created_at": {"op": "dtintervalMillis", "value": [True, 2]}}, "epoch milliseconds"),
])
async def test_interval_operators_on_other_columns_or_with_bad_bounds_are_refused(make_mock, condition, message):
    client = await catalogue(make_mock)
    await _refused(client, {"filter": condition}, "API_INVALID_INPUT_DATA", rf"operator '\w+' .*{message}")


@pytest.mark.parametrize("condition", [
    {"id": {"op": "between", "value": 1}},
    {"id": {"op": "range", "value": [1]}},
    {"id": {"op": "in", "value": 1}},
    {"name": {"op": "like", "value": 5}},
    {"id": {"value": 1}},
    {"id": {"op": "eq", "value": 1, "col": "name"}},
    {"id": {"op": "eq", "value": {"nested": 1}}},
    {"bad name!": 1},
    {"_etag": "abc"},
    {"and": "text"},
])
async def test_a_malformed_filter_is_invalid_input_data(make_mock, condition):
    client = await catalogue(make_mock)
    await _refused(client, {"filter": condition}, "API_INVALID_INPUT_DATA", r"^filter")


async def test_order_asc_and_desc_put_nulls_first_and_last(make_mock):
    client = await catalogue(make_mock)
    asc = await find(client, {"order": [{"column": "project_key", "order": "asc"}]})
    assert ids(asc) == [2, 5, 1, 4, 3]
    desc = await find(client, {"order": [{"column": "project_key", "order": "desc"}]})
    assert ids(desc) == [3, 4, 1, 2, 5]


async def test_order_keys_apply_in_turn_and_ties_fall_back_to_id(make_mock):
    client = await catalogue(make_mock)
    params = {"order": [{"column": "description", "order": "desc"}, {"column": "name", "order": "asc"}]}
    assert ids(await find(client, params)) == [1, 5, 2, 4, 3]
    assert ids(await find(client, {"order": [{"column": "created_by", "order": "desc"}]})) == LIVE


async def test_order_seq_puts_listed_values_first_in_the_given_order(make_mock):
    client = await catalogue(make_mock)
    params = {"order": [{"column": "id", "order": "seq", "seq": [4, 2, 99, 4]},
                        {"column": "name", "order": "desc"}]}
    assert ids(await find(client, params)) == [4, 2, 3, 5, 1]
    params = {"order": [{"column": "is_deleted", "order": "seq", "seq": [0, 1]}]}  # booleans are not numbers
    assert ids(await find(client, params)) == LIVE


async def test_pagination_offset_limit_and_total_count(make_mock):
    client = await catalogue(make_mock)
    page = await find(client, {"pagination": {"offset": 1, "limit": 2}, "includeTotalCount": True})
    assert ids(page) == [2, 3]
    assert page["meta"] == {"count": 2, "offset": 1, "limit": 2, "totalCount": 5}
    page = await find(client, {"pagination": {"offset": 4, "limit": 2}})
    assert ids(page) == [5] and page["meta"] == {"count": 1, "offset": 4, "limit": 2}
    page = await find(client, {"pagination": {"offset": 10}})
    assert page["data"] == [] and page["meta"] == {"count": 0, "offset": 10, "limit": 2000}


async def test_limit_zero_returns_no_items(make_mock):
    client = await catalogue(make_mock)
    page = await find(client, {"pagination": {"limit": 0, "pageAtId": 3}, "includeTotalCount": True})
    assert page == {"data": [], "meta": {"count": 0, "offset": 0, "limit": 0, "totalCount": 5}}


async def test_page_at_id_picks_the_page_holding_that_id(make_mock):
    client = await catalogue(make_mock)
    page = await find(client, {"pagination": {"limit": 2, "pageAtId": 4, "offset": 0}})
    assert ids(page) == [3, 4] and page["meta"]["offset"] == 2
    page = await find(client, {"pagination": {"limit": 2, "pageAtId": 6, "offset": 4}})  # 6 is deleted
    assert ids(page) == [5] and page["meta"]["offset"] == 4


async def test_inflate_adds_items_before_and_after_the_page(make_mock):
    client = await catalogue(make_mock)
    page = await find(client, {"pagination": {"offset": 2, "limit": 1, "inflate": 1}})
    assert ids(page) == [2, 3, 4]
    assert page["meta"] == {"count": 3, "offset": 1, "limit": 1}
    page = await find(client, {"pagination": {"offset": 0, "limit": 1, "inflate": 3}})
    assert ids(page) == [1, 2, 3, 4]


async def test_pages_never_exceed_2000_items_and_always_state_limit_and_offset(make_mock):
    client = await start_mock(make_mock, {})
    store_of(client).create([{"name": f"Project {n}"} for n in range(2003)], 1, bulk=True)
    page = await find(client, {"pagination": {"limit": 5000}, "idOnly": True})
    assert page["meta"] == {"count": 2000, "offset": 0, "limit": 2000}
    page = await find(client, {"pagination": {"offset": 10, "limit": 2000, "inflate": 50}, "idOnly": True})
    assert page["meta"]["count"] == 2000 and page["meta"]["offset"] == 0
    page = await find(client, {"pagination": {"offset": 2000}, "idOnly": True})
    assert ids(page) == [2001, 2002, 2003] and page["meta"]["limit"] == 2000


async def test_include_deleted_shows_soft_deleted_projects(make_mock):
    client = await catalogue(make_mock)
    assert ids(await find(client, {"includeDeleted": True})) == [*LIVE, 6]
    assert ids(await find(client, {"includeDeleted": False, "filter": {"name": "Gone"}})) == []
    assert ids(await find(client, {"includeDeleted": True, "filter": {"is_deleted": True}})) == [6]


async def test_id_and_ids_select_projects_and_combine_with_the_filter(make_mock):
    client = await catalogue(make_mock)
    assert ids(await find(client, {"id": 3})) == [3]
    assert ids(await find(client, {"id": 6})) == []
    assert ids(await find(client, {"id": 6, "includeDeleted": True})) == [6]
    assert ids(await find(client, {"id": 404})) == []
    assert ids(await find(client, {"ids": [5, 1, 3, 1, 77]})) == [1, 3, 5]
    assert ids(await find(client, {"ids": []})) == []
    assert ids(await find(client, {"ids": [1, 2, 3], "id": 2})) == [2]
    assert ids(await find(client, {"ids": [1, 2, 3], "filter": {"project_key": None}})) == [2]


async def test_id_only_returns_objects_with_just_the_id(make_mock):
    client = await catalogue(make_mock)
    result = await find(client, {"idOnly": True, "filter": {"name": {"op": "like", "value": "Al%"}}})
    assert result == {"data": [{"id": 1}, {"id": 5}], "meta": {"count": 2, "offset": 0, "limit": 2000}}


async def test_count_only_counts_all_matches_and_returns_no_items(make_mock):
    client = await catalogue(make_mock)
    result = await find(client, {"countOnly": True, "idOnly": True, "pagination": {"offset": 1, "limit": 1},
                                 "includeTotalCount": True})
    assert result == {"data": [], "meta": {"count": 5, "offset": 0, "limit": 1, "totalCount": 5}}


async def test_options_without_effect_on_projects_are_accepted(make_mock):
    client = await catalogue(make_mock)
    params = {"omitForbidden": True, "omitLargeValues": False, "computedColumns": ["whatever"], "map": [],
              "asOf": "2024-05-01T10:00:00.000Z", "label": "list projects"}
    assert ids(await find(client, params)) == LIVE
    response, body = await call(client, "GET", "/project", params={"q": '{"omitForbidden":true}', "l": "x"})
    check_ok(response)
    assert ids(body) == LIVE


@pytest.mark.parametrize("params", [
    {"colour": "red"}, {"id": 0}, {"ids": [1, "2"]}, {"includeDeleted": "yes"}, {"pagination": {"offset": -1}},
    {"pagination": {"page": 2}}, {"order": {"column": "id", "order": "asc"}},
    {"order": [{"column": "id", "order": "up"}]}, {"order": [{"column": "id", "order": "seq"}]},
    {"label": "x" * 101}, {"asOf": 5},
])
async def test_find_params_breaking_the_schema_are_invalid_input_data(make_mock, params):
    client = await catalogue(make_mock)
    await _refused(client, params, "API_INVALID_INPUT_DATA", None)


@pytest.mark.parametrize("as_of", ["", "yesterday", "2024-05-01", "0000-00-00T00:00:00Z", "2023-02-29T10:00:00Z", "2016-12-31T22:05:60Z",
                                   "2024-05-01T10:00:00"])
async def test_as_of_must_be_an_rfc_3339_date_time(make_mock, as_of):
    client = await catalogue(make_mock)
    await _refused(client, {"asOf": as_of}, "API_INVALID_INPUT_DATA", r"^asOf: must be an RFC 3339 date-time")
    for valid in ("2024-05-01t10:00:00.5+02:00", "0000-02-29T00:00:00Z", "2016-12-31T18:59:60-05:00"):
        assert ids(await find(client, {"asOf": valid})) == LIVE


async def test_integers_written_as_integral_floats_work_in_every_find_parameter(make_mock):
    client = await catalogue(make_mock)
    params = {"pagination": {"offset": 1.0, "limit": 2.0, "inflate": 0.0}, "ids": [1.0, 2, 3.0, 4], "id": 3.0}
    result = await find(client, params)
    assert result == {"data": [], "meta": {"count": 0, "offset": 1, "limit": 2}}
    result = await find(client, {"pagination": {"limit": 2.0, "pageAtId": 4.0}, "idOnly": True})
    assert result == {"data": [{"id": 3}, {"id": 4}], "meta": {"count": 2, "offset": 2, "limit": 2}}
