"""UFDL list filter specs: every expression type with invert and case_insensitive, dotted relation
fields, and/or nesting, order_by (ascending, nulls_first, ties by pk), include_inactive, and the
400s for malformed specs, unknown fields and values that do not fit a field."""

from __future__ import annotations

from typing import Any

import pytest
from ufdl_helpers import ALLOW_COLLECTION, call, check, list_names, ufdl

SEED: dict[str, Any] = {
    "users": [{"username": "alice", "password": "alice-pw"}, {"username": "bob", "password": "bob-pw"}],
    "teams": [
        {"name": "team-a", "members": [{"username": "alice", "permissions": "W"}, {"username": "bob", "permissions": "R"}]},
        {"name": "team-b", "members": [{"username": "alice", "permissions": "R"}]},
    ],
    "projects": [
        {"name": "Alpha", "team": "team-a", "creator": "alice", "creation_time": "2026-01-01T00:00:01.000000Z"},
        {"name": "Beta", "team": "team-a", "creator": "alice", "creation_time": "2026-01-01T00:00:02.000000Z"},
        {"name": "beta", "team": "team-b", "creator": "admin", "creation_time": "2026-01-01T00:00:03.000000Z"},
        {"name": "BETA", "team": "team-a", "creator": "admin", "creation_time": "2026-01-01T00:00:04.000000Z"},
        {"name": "42", "team": "team-b", "creator": "alice", "creation_time": "2026-01-01T00:00:05.000000Z"},
        {"name": "Gamma", "team": "team-b", "creator": "admin", "creation_time": "2026-01-01T00:00:06.000000Z"},
        {"name": "Old", "team": "team-a", "creator": "alice", "creation_time": "2026-01-01T00:00:07.000000Z",
         "deleted": True},
        {"name": "Zeta", "team": "team-a", "creator": "alice", "creation_time": "2026-01-01T00:00:08.000000Z",
         "deleted": True},
    ],
}
ACTIVE = ["Alpha", "Beta", "beta", "BETA", "42", "Gamma"]  # pk order
EVERYTHING = [*ACTIVE, "Old", "Zeta"]


def where(*expressions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"expressions": list(expressions), **extra}


async def names(make_mock, body: Any, user: str = "admin") -> list[str]:
    client = await ufdl(make_mock, SEED)
    return await list_names(client, body, user=user)


async def failure(make_mock, body: Any) -> str:
    client = await ufdl(make_mock, SEED)
    answer = await call(client, "POST", "/v1/projects/list", user="admin", json_body=body)
    value = check(answer, 400, allow=ALLOW_COLLECTION)
    assert list(value) == ["detail"], value
    return value["detail"]


def parse_failure(body: Any, message: str) -> str:
    return (f"Unable to parse JSON: Error deserialising raw JSON {body!r}: "
            f"Error validating raw JSON element {body!r}: {message}")


# -- no filter ------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [None, {}, []])
async def test_no_body_empty_object_and_empty_array_list_every_active_project_by_pk(make_mock, body):
    assert await names(make_mock, body) == ACTIVE


async def test_an_empty_body_without_content_type_lists_everything(make_mock):
    client = await ufdl(make_mock, SEED)
    answer = await call(client, "POST", "/v1/projects/list", user="admin", data=b"")
    assert [p["name"] for p in check(answer, 200, allow=ALLOW_COLLECTION)] == ACTIVE


async def test_include_inactive_lists_soft_deleted_projects_too(make_mock):
    assert await names(make_mock, {"include_inactive": True}) == EVERYTHING
    assert await names(make_mock, {"include_inactive": False}) == ACTIVE


# -- exact ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("expression", "expected"), [
    ({"type": "exact", "field": "name", "value": "Beta"}, ["Beta"]),
    ({"type": "exact", "field": "name", "value": "Beta", "case_insensitive": False}, ["Beta"]),
    ({"type": "exact", "field": "name", "value": "beta", "case_insensitive": True}, ["Beta", "beta", "BETA"]),
    ({"type": "exact", "field": "name", "value": "Beta", "invert": True}, ["Alpha", "beta", "BETA", "42", "Gamma"]),
    ({"type": "exact", "field": "name", "value": "BEtA", "invert": True, "case_insensitive": True},
     ["Alpha", "42", "Gamma"]),
    ({"type": "exact", "field": "name", "value": 42}, ["42"]),
    ({"type": "exact", "field": "name", "value": True}, []),
    ({"type": "exact", "field": "team", "value": 2}, ["beta", "42", "Gamma"]),
    ({"type": "exact", "field": "team", "value": "2"}, ["beta", "42", "Gamma"]),
    ({"type": "exact", "field": "pk", "value": 3}, ["beta"]),
    ({"type": "exact", "field": "id", "value": 3}, ["beta"]),
    ({"type": "exact", "field": "creator", "value": 1}, ["beta", "BETA", "Gamma"]),
    ({"type": "exact", "field": "name", "value": "Old"}, []),
])
async def test_exact(make_mock, expression, expected):
    assert await names(make_mock, where(expression)) == expected


# -- contains -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("expression", "expected"), [
    ({"type": "contains", "field": "name", "sub_string": "eta"}, ["Beta", "beta"]),
    ({"type": "contains", "field": "name", "sub_string": "ETA"}, ["BETA"]),
    ({"type": "contains", "field": "name", "sub_string": "eTa", "case_insensitive": True}, ["Beta", "beta", "BETA"]),
    ({"type": "contains", "field": "name", "sub_string": "eta", "invert": True}, ["Alpha", "BETA", "42", "Gamma"]),
    ({"type": "contains", "field": "name", "sub_string": "ETA", "invert": True, "case_insensitive": True},
     ["Alpha", "42", "Gamma"]),
    ({"type": "contains", "field": "name", "sub_string": "a"}, ["Alpha", "Beta", "beta", "Gamma"]),
    ({"type": "contains", "field": "team.name", "sub_string": "-b"}, ["beta", "42", "Gamma"]),
])
async def test_contains_is_case_sensitive_unless_asked(make_mock, expression, expected):
    assert await names(make_mock, where(expression)) == expected


# -- isnull ---------------------------------------------------------------------------------------

async def test_isnull_and_soft_deleted_projects_removed_after_the_expressions(make_mock):
    deleted = {"type": "isnull", "field": "deletion_time", "invert": True}
    assert await names(make_mock, where({"type": "isnull", "field": "deletion_time"})) == ACTIVE
    assert await names(make_mock, where(deleted)) == []
    assert await names(make_mock, where(deleted, include_inactive=True)) == ["Old", "Zeta"]
    assert await names(make_mock, where({"type": "isnull", "field": "name"})) == []
    assert await names(make_mock, where({"type": "isnull", "field": "creator", "invert": True})) == ACTIVE


# -- compare --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("expression", "expected"), [
    ({"type": "compare", "field": "pk", "operator": ">=", "value": 5}, ["42", "Gamma"]),
    ({"type": "compare", "field": "pk", "operator": ">", "value": 5}, ["Gamma"]),
    ({"type": "compare", "field": "pk", "operator": "<", "value": 3}, ["Alpha", "Beta"]),
    ({"type": "compare", "field": "pk", "operator": "<=", "value": "3"}, ["Alpha", "Beta", "beta"]),
    ({"type": "compare", "field": "pk", "operator": "<", "value": 3, "invert": True}, ["beta", "BETA", "42", "Gamma"]),
    ({"type": "compare", "field": "name", "operator": ">=", "value": "b"}, ["beta"]),
    ({"type": "compare", "field": "name", "operator": "<", "value": "B"}, ["Alpha", "42"]),
    ({"type": "compare", "field": "name", "operator": "<", "value": 5}, ["42"]),
    ({"type": "compare", "field": "creation_time", "operator": ">", "value": "2026-01-01T00:00:05Z"}, ["Gamma"]),
    ({"type": "compare", "field": "creation_time", "operator": "<=", "value": "2026-01-01T00:00:02.000000+00:00"},
     ["Alpha", "Beta"]),
    ({"type": "compare", "field": "team.name", "operator": ">", "value": "team-a"}, ["beta", "42", "Gamma"]),
])
async def test_compare(make_mock, expression, expected):
    assert await names(make_mock, where(expression)) == expected


# -- relations ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("expression", "expected"), [
    ({"type": "exact", "field": "team.name", "value": "team-b"}, ["beta", "42", "Gamma"]),
    ({"type": "exact", "field": "team__name", "value": "team-b"}, ["beta", "42", "Gamma"]),
    ({"type": "exact", "field": "TEAM.name", "value": "x"}, None),  # field names are case-sensitive
    ({"type": "exact", "field": "creator.username", "value": "alice"}, ["Alpha", "Beta", "42"]),
    ({"type": "exact", "field": "creator.username", "value": "ALICE", "case_insensitive": True},
     ["Alpha", "Beta", "42"]),
    ({"type": "contains", "field": "creator.username", "sub_string": "dm"}, ["beta", "BETA", "Gamma"]),
    ({"type": "exact", "field": "creator.is_superuser", "value": True}, ["beta", "BETA", "Gamma"]),
    ({"type": "exact", "field": "team.pk", "value": 1}, ["Alpha", "Beta", "BETA"]),
    ({"type": "exact", "field": "team.id", "value": 1}, ["Alpha", "Beta", "BETA"]),
    ({"type": "exact", "field": "team_id", "value": 1}, ["Alpha", "Beta", "BETA"]),
    ({"type": "exact", "field": "team.creator.username", "value": "admin"}, ACTIVE),
    ({"type": "exact", "field": "team__creator__pk", "value": 2}, []),
    ({"type": "exact", "field": "team.creator", "value": 1}, ACTIVE),
])
async def test_dotted_fields_follow_relations(make_mock, expression, expected):
    if expected is None:
        detail = await failure(make_mock, where(expression))
        assert detail.startswith("Cannot resolve keyword 'TEAM' into field.")
    else:
        assert await names(make_mock, where(expression)) == expected


# -- and / or -------------------------------------------------------------------------------------

BETAS = {"type": "contains", "field": "name", "sub_string": "eta", "case_insensitive": True}
TEAM_A = {"type": "exact", "field": "team", "value": 1}


@pytest.mark.parametrize(("expression", "expected"), [
    ({"type": "and", "sub_expressions": [BETAS, TEAM_A]}, ["Beta", "BETA"]),
    ({"type": "and", "sub_expressions": [BETAS, TEAM_A], "invert": True}, ["Alpha", "beta", "42", "Gamma"]),
    ({"type": "or", "sub_expressions": [{"type": "exact", "field": "name", "value": "Alpha"},
                                        {"type": "exact", "field": "name", "value": "Gamma"}]}, ["Alpha", "Gamma"]),
    ({"type": "or", "sub_expressions": [{"type": "and", "sub_expressions": [BETAS, TEAM_A]},
                                        {"type": "exact", "field": "pk", "value": 5}]}, ["Beta", "BETA", "42"]),
    ({"type": "or", "sub_expressions": [{"type": "and", "sub_expressions": [BETAS, TEAM_A]},
                                        {"type": "exact", "field": "pk", "value": 5}], "invert": True},
     ["Alpha", "beta", "Gamma"]),
])
async def test_and_or_nesting(make_mock, expression, expected):
    assert await names(make_mock, where(expression)) == expected


async def test_several_expressions_must_all_hold(make_mock):
    assert await names(make_mock, where(BETAS, TEAM_A)) == ["Beta", "BETA"]
    assert await names(make_mock, where(BETAS, TEAM_A, {"type": "exact", "field": "name", "value": "Beta",
                                                        "invert": True})) == ["BETA"]


async def test_non_admins_are_filtered_within_their_teams(make_mock):
    assert await names(make_mock, where(BETAS), user="bob") == ["Beta", "BETA"]
    assert await names(make_mock, where(BETAS, include_inactive=True), user="bob") == ["Beta", "BETA", "Zeta"]


# -- order_by -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("order_by", "expected"), [
    ([{"field": "name"}], ["42", "Alpha", "BETA", "Beta", "Gamma", "beta"]),
    ([{"field": "name", "ascending": True}], ["42", "Alpha", "BETA", "Beta", "Gamma", "beta"]),
    ([{"field": "name", "ascending": False}], ["beta", "Gamma", "Beta", "BETA", "Alpha", "42"]),
    ([{"field": "pk", "ascending": False}], ACTIVE[::-1]),
    ([{"field": "team"}], ["Alpha", "Beta", "BETA", "beta", "42", "Gamma"]),
    ([{"field": "team", "ascending": False}], ["beta", "42", "Gamma", "Alpha", "Beta", "BETA"]),
    ([{"field": "team", "ascending": False}, {"field": "name", "ascending": False}],
     ["beta", "Gamma", "42", "Beta", "BETA", "Alpha"]),
    ([{"field": "team.name"}, {"field": "name"}], ["Alpha", "BETA", "Beta", "42", "Gamma", "beta"]),
    ([{"field": "team__name", "ascending": False}, {"field": "name"}],
     ["42", "Gamma", "beta", "Alpha", "BETA", "Beta"]),
    ([{"field": "creator.username"}], ["beta", "BETA", "Gamma", "Alpha", "Beta", "42"]),
    ([{"field": "creation_time", "ascending": False}], ACTIVE[::-1]),
])
async def test_order_by_with_ties_broken_by_pk(make_mock, order_by, expected):
    assert await names(make_mock, {"order_by": order_by}) == expected


@pytest.mark.parametrize(("entry", "expected"), [
    ({"field": "deletion_time"}, [*ACTIVE, "Old", "Zeta"]),
    ({"field": "deletion_time", "nulls_first": True}, [*ACTIVE, "Old", "Zeta"]),
    ({"field": "deletion_time", "nulls_first": False}, ["Old", "Zeta", *ACTIVE]),
    ({"field": "deletion_time", "ascending": False}, ["Zeta", "Old", *ACTIVE]),
    ({"field": "deletion_time", "ascending": False, "nulls_first": True}, [*ACTIVE, "Zeta", "Old"]),
    ({"field": "deletion_time", "ascending": False, "nulls_first": False}, ["Zeta", "Old", *ACTIVE]),
])
async def test_order_by_nulls(make_mock, entry, expected):
    assert await names(make_mock, {"order_by": [entry], "include_inactive": True}) == expected


async def test_filter_and_order_combined(make_mock):
    body = where(BETAS, order_by=[{"field": "name", "ascending": False}], include_inactive=True)
    assert await names(make_mock, body) == ["beta", "Zeta", "Beta", "BETA"]


# -- malformed specs ------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    ({"extra": 1}, "Additional properties are not allowed ('extra' was unexpected)"),
    ({"include_inactive": "yes"}, "'yes' is not of type 'boolean'"),
    ({"expressions": {"type": "exact"}}, "{'type': 'exact'} is not of type 'array'"),
    ({"order_by": "name"}, "'name' is not of type 'array'"),
    ({"expressions": [{"type": "regex", "field": "name", "pattern": "x"}]},
     "{'type': 'regex', 'field': 'name', 'pattern': 'x'} is not valid under any of the given schemas"),
])
async def test_malformed_filter_specs_are_400_with_the_jsonschema_message(make_mock, body, message):
    assert await failure(make_mock, body) == parse_failure(body, message)


@pytest.mark.parametrize("body", [
    {"expressions": [{"type": "exact", "field": "name"}]},
    {"expressions": [{"type": "exact", "field": "name", "value": "x", "extra": 1}]},
    {"expressions": [{"type": "exact", "field": "name", "value": None}]},
    {"expressions": [{"type": "exact", "field": "name", "value": [1]}]},
    {"expressions": [{"type": "exact", "field": 5, "value": "x"}]},
    {"expressions": [{"type": "exact", "field": "name", "value": "x", "invert": "no"}]},
    {"expressions": [{"type": "contains", "field": "name", "sub_string": ""}]},
    {"expressions": [{"type": "contains", "field": "name", "sub_string": 5}]},
    {"expressions": [{"type": "isnull"}]},
    {"expressions": [{"type": "compare", "field": "pk", "operator": "!=", "value": 1}]},
    {"expressions": [{"type": "compare", "field": "pk", "operator": "<", "value": True}]},
    {"expressions": [{"type": "and", "sub_expressions": [TEAM_A]}]},
    {"expressions": [{"type": "and", "sub_expressions": [TEAM_A, {"type": "or", "sub_expressions": [TEAM_A, TEAM_A]}]}]},
    {"expressions": [{"type": "or", "sub_expressions": []}]},
    {"expressions": [{"type": "exact"}, 5]},
    {"expressions": [None]},
    {"order_by": [{"field": "name", "ascending": "yes"}]},
    {"order_by": [{"field": "name", "descending": True}]},
    {"order_by": [{}]},
    {"order_by": [{"field": ""}]},
    {"include_inactive": None},
    [1], [{}], "all", 5, 1.5, True,
])
async def test_structurally_invalid_specs_are_400_unable_to_parse(make_mock, body):
    detail = await failure(make_mock, body)
    assert detail.startswith(f"Unable to parse JSON: Error deserialising raw JSON {body!r}: "
                             f"Error validating raw JSON element {body!r}: "), detail


async def test_json_null_as_list_body_is_400_unable_to_parse(make_mock):
    client = await ufdl(make_mock, SEED)
    answer = await call(client, "POST", "/v1/projects/list", user="admin", data=b"null",
                        headers={"Content-Type": "application/json"})
    assert check(answer, 400, allow=ALLOW_COLLECTION)["detail"] == parse_failure(None, "None is not of type 'object'")


async def test_a_form_body_on_list_is_400_with_its_fields_as_lists(make_mock):
    client = await ufdl(make_mock, SEED)
    answer = await call(client, "POST", "/v1/projects/list", user="admin", data="a=b",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    detail = check(answer, 400, allow=ALLOW_COLLECTION)["detail"]
    assert detail == parse_failure({"a": ["b"]}, "Additional properties are not allowed ('a' was unexpected)")
    empty = await call(client, "POST", "/v1/projects/list", user="admin", data="",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert [p["name"] for p in check(empty, 200, allow=ALLOW_COLLECTION)] == ACTIVE


@pytest.mark.parametrize("expression", [
    {"type": "exact", "field": "nope", "value": 1},
    {"type": "contains", "field": "team.nope", "sub_string": "x"},
    {"type": "exact", "field": "creator__nope", "value": 1},
    {"type": "compare", "field": "team.creator.nope", "operator": "<", "value": "x"},
    {"type": "or", "sub_expressions": [TEAM_A, {"type": "exact", "field": "nope", "value": 1}]},
])
async def test_an_unknown_field_is_400(make_mock, expression):
    detail = await failure(make_mock, where(expression))
    assert detail.startswith("Cannot resolve keyword 'nope' into field. Choices are: "), detail


async def test_a_path_continuing_past_a_plain_column_is_400(make_mock):
    detail = await failure(make_mock, where({"type": "isnull", "field": "name.length"}))
    assert detail == "Unsupported lookup 'length' for CharField or join on the field not permitted."


async def test_unknown_field_errors_list_the_choices_of_the_model_reached(make_mock):
    detail = await failure(make_mock, where({"type": "exact", "field": "nope", "value": 1}))
    assert detail == ("Cannot resolve keyword 'nope' into field. Choices are: "
                      "creation_time, creator, deletion_time, id, name, pk, team")
    detail = await failure(make_mock, where({"type": "exact", "field": "team.nope", "value": 1}))
    assert detail == ("Cannot resolve keyword 'nope' into field. Choices are: "
                      "creation_time, creator, deletion_time, id, name, pk")


@pytest.mark.parametrize("order_by", [[{"field": "nope"}], [{"field": "team.nope"}], [{"field": "creator__nope"}]])
async def test_an_unknown_order_by_field_is_400(make_mock, order_by):
    detail = await failure(make_mock, {"order_by": order_by})
    assert detail.startswith("Cannot resolve keyword '"), detail


@pytest.mark.parametrize(("expression", "detail"), [
    ({"type": "exact", "field": "pk", "value": "abc"}, "Field 'pk' expected a number but got 'abc'."),
    ({"type": "compare", "field": "team", "operator": "<", "value": "x"}, "Field 'team' expected a number but got 'x'."),
    ({"type": "exact", "field": "creation_time", "value": "yesterday"},
     "Field 'creation_time' expected a date-time but got 'yesterday'."),
    ({"type": "compare", "field": "deletion_time", "operator": ">", "value": 5},
     "Field 'deletion_time' expected a date-time but got 5."),
    ({"type": "exact", "field": "creator.is_staff", "value": "maybe"},
     "Field 'creator.is_staff' expected either True or False but got 'maybe'."),
])
async def test_a_value_that_does_not_fit_the_field_is_400(make_mock, expression, detail):
    assert await failure(make_mock, where(expression)) == detail


async def test_team_filter_follows_moves_hard_deletes_and_membership(make_mock):
    """An exact filter on team is answered from an index; it must stay right as projects change."""
    client = await ufdl(make_mock)
    team = {"expressions": [{"type": "exact", "field": "team", "value": 2}]}
    assert await list_names(client, team) == ["Gamma"]
    moved = await call(client, "PATCH", "/v1/projects/1", user="admin", json_body={"team": 2})
    assert moved.status == 200
    assert await list_names(client, team) == ["Alpha", "Gamma"]
    assert "Alpha" not in await list_names(client, {"expressions": [{"type": "exact", "field": "team", "value": 1}]})
    assert await list_names(client, {**team, "expressions": team["expressions"] + [
        {"type": "exact", "field": "name", "value": "Gamma"}]}) == ["Gamma"]
    assert (await call(client, "DELETE", "/v1/projects/1/hard", user="admin")).status == 200
    assert await list_names(client, team) == ["Gamma"]
    assert await list_names(client, team, user="bob") == []  # bob is not in team-b
    assert await list_names(client, team, user="alice") == ["Gamma"]
