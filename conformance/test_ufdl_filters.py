"""UFDL scenarios: every FilterSpec operator (exact, contains, isnull, compare, and, or, invert,
relation paths), include_inactive and order_by, on a small set of projects of this run.

Every query also carries `contains <tag>`, so records of other runs or users never interfere."""

from __future__ import annotations

import json

import pytest

from conformance.client import all_cases, every_case, soft
from conformance.reporting import advisory, rule

NAMES = ["Alpha", "Beta", "beta", "Gamma", "42"]


@pytest.fixture(scope="module")
def data(ufdl_world):
    """Five active projects (created in this order) and a soft-deleted one, all named <tag><name>."""
    w = ufdl_world
    w.require_team()
    tag = w.tag()
    projects = {name: w.create_project("", exact_name=tag + name) for name in [*NAMES, "Old"]}
    w.client.expect(w.client.delete(f"/v1/projects/{projects['Old']['pk']}"), 204)
    return w, tag, projects


def names(listed, tag):
    return [p["name"][len(tag):] if p["name"].startswith(tag) else p["name"] for p in listed]


def check(data, expected, *expressions, ordered=False, **spec):
    w, tag, _ = data
    with soft(json.dumps({"expressions": list(expressions), **spec})[:160]):
        response, listed = w.list_tagged(tag, *expressions, **spec)
        got = names(listed, tag)
        ok = got == expected if ordered else sorted(got) == sorted(expected)
        w.client.check(ok, response, f"{'in this order ' if ordered else ''}{expected}", f"{got}")


@rule("ufdl.filter.exact")
@all_cases
def test_exact(data):
    _, tag, _ = data
    check(data, ["Beta"], {"type": "exact", "field": "name", "value": tag + "Beta"})


@rule("ufdl.filter.exact-case-insensitive")
@all_cases
def test_exact_case_insensitive(data):
    _, tag, _ = data
    check(data, ["Beta", "beta"], {"type": "exact", "field": "name", "value": tag + "BETA", "case_insensitive": True})


@rule("ufdl.filter.exact-invert")
@all_cases
def test_exact_inverted(data):
    _, tag, _ = data
    check(data, ["Alpha", "beta", "Gamma", "42"], {"type": "exact", "field": "name", "value": tag + "Beta", "invert": True})


@rule("ufdl.filter.contains-case-insensitive")
@all_cases
def test_contains_case_insensitive(data):
    check(data, ["Beta", "beta"], {"type": "contains", "field": "name", "sub_string": "bet", "case_insensitive": True})


@rule("ufdl.filter.contains-case-sensitive")
@advisory("ufdl-observed.md §8: on SQLite the real server's contains ignores ASCII case")
@all_cases
def test_contains_is_case_sensitive(data):
    check(data, ["Beta"], {"type": "contains", "field": "name", "sub_string": "Bet"})


@rule("ufdl.filter.contains-invert")
@all_cases
def test_contains_inverted(data):
    check(data, ["Alpha", "Gamma", "42"], {"type": "contains", "field": "name", "sub_string": "eta", "invert": True})


@rule("ufdl.filter.isnull")
@all_cases
def test_isnull(data):
    check(data, ["Old"], {"type": "isnull", "field": "deletion_time", "invert": True}, include_inactive=True)
    check(data, NAMES, {"type": "isnull", "field": "deletion_time"}, include_inactive=True)


@rule("ufdl.filter.compare")
@all_cases
def test_compare_operators(data):
    _, tag, projects = data
    gamma = projects["Gamma"]["pk"]
    check(data, ["Gamma", "42"], {"type": "compare", "field": "pk", "operator": ">=", "value": gamma})
    check(data, ["42"], {"type": "compare", "field": "pk", "operator": ">", "value": gamma})
    check(data, ["Alpha", "Beta", "beta"], {"type": "compare", "field": "pk", "operator": "<", "value": gamma})
    check(data, ["Alpha", "Beta", "beta", "Gamma"], {"type": "compare", "field": "pk", "operator": "<=", "value": gamma})
    # strings compare by code point: digits < upper case < lower case
    check(data, ["42", "Alpha", "Beta"], {"type": "compare", "field": "name", "operator": "<", "value": tag + "G"})


@rule("ufdl.filter.and")
@all_cases
def test_and(data):
    _, tag, _ = data
    check(data, ["Gamma"], {"type": "and", "sub_expressions": [
        {"type": "contains", "field": "name", "sub_string": "amm"},
        {"type": "compare", "field": "name", "operator": ">", "value": tag + "A"}]})


@rule("ufdl.filter.or")
@all_cases
def test_or(data):
    _, tag, _ = data
    check(data, ["Alpha", "42"], {"type": "or", "sub_expressions": [
        {"type": "exact", "field": "name", "value": tag + "Alpha"},
        {"type": "exact", "field": "name", "value": tag + "42"}]})
    check(data, ["Alpha", "Beta", "beta", "Gamma"], {"type": "or", "invert": True, "sub_expressions": [
        {"type": "exact", "field": "name", "value": tag + "42"},
        {"type": "exact", "field": "name", "value": tag + "Old"}]})


@rule("ufdl.filter.expressions-and")
@all_cases
def test_several_expressions_must_all_hold(data):
    # no case-sensitive `contains` here: on SQLite the real server's contains ignores ASCII case
    # (advisory rule ufdl.filter.contains-case-sensitive); code-point comparison is the same everywhere
    _, tag, _ = data
    check(data, ["Beta"], {"type": "contains", "field": "name", "sub_string": "eta"},
          {"type": "compare", "field": "name", "operator": "<", "value": tag + "a"})


@rule("ufdl.filter.relation-path")
@all_cases
def test_relation_paths(data):
    w, _, projects = data
    team = w.client.expect(w.client.get(f"/v1/teams/{projects['Alpha']['team']}"), 200, note="setup: the team's name")
    check(data, NAMES, {"type": "exact", "field": "team.name", "value": team["name"]})
    check(data, NAMES, {"type": "exact", "field": "creator.username", "value": w.main.username})
    check(data, [], {"type": "exact", "field": "team", "value": projects["Alpha"]["team"], "invert": True})


@rule("ufdl.filter.unknown-field-400")
def test_unknown_field_is_400(ufdl_world):
    w = ufdl_world
    with every_case() as case:
        for spec in ({"expressions": [{"type": "exact", "field": "no_such_field", "value": 1}]},
                     {"order_by": [{"field": "no_such_field"}]}):
            with case(json.dumps(spec)):
                response = w.client.post("/v1/projects/list", json=spec)
                body = w.client.expect(response, 400, note="an unknown field is a client error (the real server answers 500)")
                w.client.check(isinstance(body, dict) and isinstance(body.get("detail"), str), response, '{"detail": "..."}')


@rule("ufdl.filter.value-type-400")
def test_value_that_does_not_fit_the_field_is_400(ufdl_world):
    w = ufdl_world
    spec = {"expressions": [{"type": "exact", "field": "pk", "value": "abc"}]}
    response = w.client.post("/v1/projects/list", json=spec)
    w.client.expect(response, 400, note="pk is an integer column (the real server answers 500)")


@rule("ufdl.list.body-not-object-400")
def test_list_body_that_is_not_an_object_is_400(ufdl_world):
    w = ufdl_world
    with every_case() as case:
        for raw in (b"null", b"5", b'"x"'):
            with case(raw.decode()):
                response = w.client.post("/v1/projects/list", data=raw, headers={"Content-Type": "application/json"})
                w.client.expect(response, 400, note="a filter spec is an object (the real server answers 500)")


@rule("ufdl.order.dotted-field-no-500")
def test_order_by_a_dotted_field_is_not_a_server_error(ufdl_world):
    w, tag = ufdl_world, ufdl_world.tag()
    response = w.client.post("/v1/projects/list", json={"expressions": [
        {"type": "contains", "field": "name", "sub_string": tag}], "order_by": [{"field": "team.name"}]})
    w.client.expect(response, 200, 400, note="team.name is a relation path: accepted by the mock (ordering by the "
                                               "team's name), 400 would be fine too; the real server answers 500")


@rule("ufdl.filter.strict-spec-400")
def test_malformed_filter_spec_is_400(ufdl_world):
    w = ufdl_world
    with every_case() as case:
        for spec in ({"extra": 1}, {"expressions": [{"type": "regex", "field": "name", "value": "x"}]},
                     {"include_inactive": "yes"}, {"order_by": {"field": "name"}}):
            with case(json.dumps(spec)):
                w.client.expect(w.client.post("/v1/projects/list", json=spec), 400)


@rule("ufdl.order.by-name")
@all_cases
def test_order_by_name_both_directions(data):
    check(data, ["42", "Alpha", "Beta", "Gamma", "beta"], ordered=True, order_by=[{"field": "name"}])
    check(data, ["beta", "Gamma", "Beta", "Alpha", "42"], ordered=True,
          order_by=[{"field": "name", "ascending": False}])


@rule("ufdl.order.by-pk-desc")
@all_cases
def test_order_by_pk_descending(data):
    check(data, list(reversed(NAMES)), ordered=True, order_by=[{"field": "pk", "ascending": False}])


@rule("ufdl.order.several-keys")
@all_cases
def test_order_by_several_keys(data):
    check(data, ["beta", "Gamma", "Beta", "Alpha", "42"], ordered=True,
          order_by=[{"field": "team"}, {"field": "name", "ascending": False}])


@rule("ufdl.order.creation-time")
@all_cases
def test_order_by_creation_time(data):
    check(data, list(reversed(NAMES)), ordered=True, order_by=[{"field": "creation_time", "ascending": False},
                                                                {"field": "pk", "ascending": False}])


@rule("ufdl.order.default-pk")
@advisory("ufdl-observed.md §8: the real server has no default order; the mock orders by pk")
@all_cases
def test_default_order_is_pk_ascending(data):
    check(data, NAMES, ordered=True)
