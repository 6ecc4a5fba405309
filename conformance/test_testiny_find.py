"""Testiny scenarios: find (body and query forms), the filter language, order, pagination and
result shapes, and the bulk operations with their all-or-nothing rule."""

from __future__ import annotations

import base64
import json

import pytest

from conformance import testiny
from conformance.client import all_cases, soft
from conformance.reporting import advisory, rule

DECISION = "testiny-projects.md §10 (the public record is silent)"
NAMES = ["Alpha", "Beta", "beta", "Gamma", "Delta"]


@pytest.fixture(scope="module")
def data(testiny_world):
    """Five live projects (in this order) and a deleted one, named <tag><name>."""
    w = testiny_world
    tag = w.tag()
    projects = {name: w.create(exact_name=tag + name, description=f"d-{i}") for i, name in enumerate([*NAMES, "Old"])}
    w.client.expect(w.client.delete(f"/project/{projects['Old']['id']}"), 200)
    return w, tag, projects


def names(found, tag):
    return [p["name"][len(tag):] for p in found["data"]]


def check(data, expected, params=None, *, ordered=False, **filter_):
    w, tag, _ = data
    params = dict(params or {})
    if filter_:
        params["filter"] = filter_
    found = None
    with soft(json.dumps(params)[:160]):
        response, found = w.find(params, tag)
        got = names(found, tag)
        ok = got == expected if ordered else sorted(got) == sorted(expected)
        w.client.check(ok, response, f"{'in this order ' if ordered else ''}{expected}", str(got))
    return found


@rule("testiny.find.equality")
@all_cases
def test_filter_equality_and_membership(data):
    _, tag, _ = data
    check(data, ["Beta"], name=tag + "Beta")
    check(data, ["Beta", "Gamma"], name=[tag + "Beta", tag + "Gamma"])
    check(data, ["Alpha", "Delta"], name={"op": "in", "value": [tag + "Alpha", tag + "Delta"]})
    check(data, ["Alpha", "beta", "Gamma", "Delta"], name={"op": "not_eq", "value": tag + "Beta"})
    check(data, ["beta", "Gamma", "Delta"], name={"op": "not_in", "value": [tag + "Alpha", tag + "Beta"]})


@rule("testiny.find.like")
@all_cases
def test_filter_like(data):
    _, tag, _ = data
    check(data, ["Gamma"], name={"op": "like", "value": tag + "G%"})
    check(data, ["Beta", "beta"], name={"op": "like", "value": tag + "_eta"})


@rule("testiny.find.like-case-sensitive")
@advisory(DECISION + ": like is case-sensitive")
@all_cases
def test_filter_like_is_case_sensitive(data):
    _, tag, _ = data
    check(data, ["beta"], name={"op": "like", "value": tag + "b%"})


@rule("testiny.find.compare")
@all_cases
def test_filter_comparisons(data):
    _, _, projects = data
    gamma = projects["Gamma"]["id"]
    check(data, ["Gamma", "Delta"], id={"op": "gte", "value": gamma})
    check(data, ["Delta"], id={"op": "gt", "value": gamma})
    check(data, ["Alpha", "Beta", "beta"], id={"op": "lt", "value": gamma})
    check(data, ["Alpha", "Beta", "beta", "Gamma"], id={"op": "lte", "value": gamma})


@rule("testiny.find.range")
@advisory(DECISION + ": range takes [low, high], both inclusive")
@all_cases
def test_filter_range(data):
    _, _, projects = data
    check(data, ["Beta", "beta", "Gamma"], id={"op": "range", "value": [projects["Beta"]["id"], projects["Gamma"]["id"]]})


@rule("testiny.find.and-or")
@all_cases
def test_filter_and_or(data):
    _, tag, projects = data
    check(data, ["Alpha", "Delta"], **{"or": [{"name": tag + "Alpha"}, {"name": tag + "Delta"}]})
    check(data, ["Beta"], description="d-1", name={"op": "like", "value": tag + "B%"})


@rule("testiny.find.ids")
@all_cases
def test_find_by_ids(data):
    _, _, projects = data
    check(data, ["Alpha", "Gamma"], {"ids": [projects["Alpha"]["id"], projects["Gamma"]["id"]]})
    check(data, ["Beta"], {"id": projects["Beta"]["id"]})


@rule("testiny.find.order")
@all_cases
def test_order(data):
    check(data, ["beta", "Gamma", "Delta", "Beta", "Alpha"], {"order": [{"column": "name", "order": "desc"}]},
          ordered=True)
    check(data, list(reversed(NAMES)), {"order": [{"column": "id", "order": "desc"}]}, ordered=True)


@rule("testiny.find.default-order")
@advisory(DECISION + ": without order, finds are sorted by id ascending")
@all_cases
def test_default_order_is_id(data):
    check(data, NAMES, ordered=True)


@rule("testiny.find.pagination")
@all_cases
def test_pagination_meta(data):
    w, tag, _ = data
    first = check(data, NAMES[:2], {"pagination": {"offset": 0, "limit": 2}, "includeTotalCount": True,
                                    "order": [{"column": "id", "order": "asc"}]}, ordered=True)
    meta = (first or {}).get("meta", {})  # None: the find itself failed (already reported)
    w.client.check(meta.get("count") == 2 and meta.get("offset") == 0 and meta.get("limit") == 2
                   and meta.get("totalCount") == 5, None, "meta {count: 2, offset: 0, limit: 2, totalCount: 5}", str(meta))
    second = check(data, NAMES[2:4], {"pagination": {"offset": 2, "limit": 2},
                                      "order": [{"column": "id", "order": "asc"}]}, ordered=True)
    w.client.check((second or {}).get("meta", {}).get("offset") == 2, None, "meta.offset 2", str(second))
    unpaged = check(data, NAMES)
    limit = (unpaged or {}).get("meta", {}).get("limit")
    w.client.check(isinstance(limit, int) and limit > 0, None, "meta.limit always present (enforced page size)",
                   str(unpaged))


@rule("testiny.find.count-and-id-only")
@all_cases
def test_count_only_and_id_only(data):
    w, tag, projects = data
    response, found = w.find({"countOnly": True}, tag)
    w.client.check(found["data"] == [] and found["meta"].get("count") == 5, response, "data [] and meta.count 5",
                   str(found))
    response, found = w.find({"idOnly": True}, tag)
    w.client.check(sorted(found["data"], key=lambda p: p["id"]) == sorted(({"id": projects[n]["id"]} for n in NAMES),
                                                                          key=lambda p: p["id"]),
                   response, "items that are just {id}", str(found["data"]))


@rule("testiny.find.query-form")
@all_cases
def test_query_form_matches_body_form(data):
    w, tag, _ = data
    params = {"filter": {"name": {"op": "like", "value": testiny.like_prefix(tag)}}}
    _, body_form = w.find(params)
    for q in (json.dumps(params), base64.b64encode(json.dumps(params).encode()).decode()):
        response = w.client.get("/project", params={"q": q})
        w.client.check(w.client.expect(response, 200)["data"] == body_form["data"], response,
                       "the same data as POST /project/find")


@rule("testiny.bulk.create")
def test_bulk_create_keeps_order(testiny_world):
    w = testiny_world
    wanted = [w.name(f"bulk{i}") for i in range(3)]
    response = w.client.post("/project/bulk", json=[{"name": n} for n in wanted])
    created = w.client.expect(response, 200)
    for project in created:
        testiny.record(project)
    w.client.check([p.get("name") for p in created] == wanted, response, f"names in request order {wanted}")


@rule("testiny.bulk.update")
def test_bulk_update_needs_etags(testiny_world):
    w = testiny_world
    c = w.client
    a, b = w.create("bu-a"), w.create("bu-b")
    response = c.put("/project/bulk", json=[{"id": a["id"], "_etag": a["_etag"], "description": "A"},
                                            {"id": b["id"], "_etag": b["_etag"], "description": "B"}])
    updated = c.expect(response, 200)
    c.check([p["description"] for p in updated] == ["A", "B"], response, "both updated, in order")
    stale = c.put("/project/bulk", json=[{"id": a["id"], "_etag": updated[0]["_etag"], "description": "A2"},
                                         {"id": b["id"], "_etag": b["_etag"], "description": "B2"}])
    c.check(400 <= stale.status_code < 500, stale, "4xx: the second item carries a stale _etag")


@rule("testiny.bulk.all-or-nothing")
@advisory(DECISION + ": bulk calls are all-or-nothing")
def test_bulk_update_is_all_or_nothing(testiny_world):
    w = testiny_world
    c = w.client
    a, b = w.create("aon-a"), w.create("aon-b")
    response = c.put("/project/bulk", json=[{"id": a["id"], "_etag": a["_etag"], "description": "changed"},
                                            {"id": b["id"], "_etag": "stale", "description": "changed"}])
    c.check(response.status_code == 400, response, "400 (one stale item fails the call)")
    c.check(c.get(f"/project/{a['id']}").json().get("description") == a["description"], response,
            "the valid first item was not applied either")


@rule("testiny.bulk.delete-undelete")
def test_bulk_delete_and_undelete(testiny_world):
    w = testiny_world
    c = w.client
    a, b, d = w.create("bd-a"), w.create("bd-b"), w.create("bd-c")
    response = c.delete("/project/bulk", params={"ids": f"{a['id']},{b['id']}"})
    c.check([p.get("is_deleted") for p in c.expect(response, 200)] == [True, True], response, "both deleted (?ids=)")
    response = c.delete("/project/bulk", json=[d["id"]])
    c.check([p.get("is_deleted") for p in c.expect(response, 200)] == [True], response, "deleted (JSON body)")
    response = c.post("/project/bulk/undelete", json=[{"id": a["id"]}, {"id": d["id"]}])
    c.check([(p.get("id"), p.get("is_deleted")) for p in c.expect(response, 200)] == [(a["id"], False), (d["id"], False)],
            response, "both undeleted, in order")
