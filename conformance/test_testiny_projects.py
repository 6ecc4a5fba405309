"""Testiny scenarios: the project lifecycle, `_etag` conflicts and forced updates, soft delete and
undelete, the error envelope and authentication.

Checks that rest only on a decision of our mock (testiny-projects.md §10) are marked advisory:
against a live server their failures are reported, not counted."""

from __future__ import annotations

import re

import pytest
import requests

from conformance import testiny
from conformance.client import Client, every_case
from conformance.reporting import advisory, rule
from conformance.target import spec_document

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ENVELOPE = {"code", "status", "message", "reqid"}
DECISION = "testiny-projects.md §10 (the public record is silent)"


@pytest.fixture
def w(testiny_world):
    return testiny_world


def envelope(c: Client, response: requests.Response, statuses: range | tuple[int, ...]) -> dict:
    c.check(response.status_code in statuses, response, f"a status in {_show(statuses)}")
    try:
        body = response.json()
    except ValueError:
        raise c.fail(response, "a JSON error envelope {code, status, message, reqid}") from None
    c.check(isinstance(body, dict) and ENVELOPE <= set(body), response, "the error envelope {code, status, message, reqid}")
    c.check(body["status"] == response.status_code, response, f"status {response.status_code} repeated in the body",
            repr(body["status"]))
    return body


def _show(statuses) -> str:
    return "4xx" if isinstance(statuses, range) else ", ".join(map(str, statuses))


CLIENT_ERROR = range(400, 500)


@rule("testiny.lifecycle.create")
def test_create_returns_the_full_project(w):
    c, name = w.client, w.name("create")
    response = c.post("/project", json={"name": name, "project_key": None, "description": "made by the suite"})
    body = c.expect(response, 200)
    testiny.record(body)
    c.check(isinstance(body.get("id"), int) and body["id"] >= 1, response, "a positive integer id")
    c.check(body.get("is_deleted") is False, response, "is_deleted false")
    c.check(body.get("name") == name and body.get("description") == "made by the suite", response, "name/description as sent")
    c.check(isinstance(body.get("_etag"), str) and 0 < len(body["_etag"]) <= 32, response, "_etag: 1-32 characters")
    c.check(TIMESTAMP.match(str(body.get("created_at"))) is not None, response, "created_at like 2024-05-01T10:00:00.000Z")
    c.check(isinstance(body.get("created_by"), int), response, "created_by an integer")


@rule("testiny.lifecycle.unset-fields-omitted")
@advisory(DECISION + ": unset modified_*/deleted_* are omitted, not null")
def test_unset_metadata_is_omitted(w):
    body = w.create("omit")
    w.client.check(not {"modified_at", "modified_by", "deleted_at", "deleted_by"} & set(body), None,
                   "no modified_*/deleted_* keys on a new project", str(sorted(body)))


@rule("testiny.lifecycle.read-back")
def test_created_project_reads_back(w):
    created = w.create("read")
    response = w.client.get(f"/project/{created['id']}")
    w.client.check(w.client.expect(response, 200) == created, response, f"the created project {created}")


@rule("testiny.lifecycle.update-partial")
def test_update_changes_only_the_given_fields(w):
    c = w.client
    created = w.create("upd", description="before")
    response = c.put(f"/project/{created['id']}", json={"_etag": created["_etag"], "description": "after"})
    body = c.expect(response, 200)
    c.check(body["description"] == "after" and body["name"] == created["name"], response,
            "description changed, name unchanged")
    c.check(body["_etag"] != created["_etag"], response, "a new _etag after the update")
    c.check(TIMESTAMP.match(str(body.get("modified_at"))) is not None and "modified_by" in body, response,
            "modified_at/modified_by set")
    read = c.get(f"/project/{created['id']}")
    c.check(c.expect(read, 200) == body, read, f"the updated project {body}")


@rule("testiny.etag.stale-rejected")
def test_update_with_a_stale_etag_is_refused(w):
    c = w.client
    created = w.create("stale")
    c.expect(c.put(f"/project/{created['id']}", json={"_etag": created["_etag"], "description": "v2"}), 200)
    response = c.put(f"/project/{created['id']}", json={"_etag": created["_etag"], "description": "v3"})
    envelope(c, response, CLIENT_ERROR)
    read = c.expect(c.get(f"/project/{created['id']}"), 200)
    c.check(read["description"] == "v2", response, "nothing changed by the refused update", repr(read["description"]))


@rule("testiny.etag.missing-rejected")
def test_update_without_etag_is_refused(w):
    c = w.client
    created = w.create("noetag")
    response = c.put(f"/project/{created['id']}", json={"description": "changed"})
    envelope(c, response, CLIENT_ERROR)
    c.check(c.get(f"/project/{created['id']}").json().get("description") == created["description"], response,
            "nothing changed")


@rule("testiny.etag.conflict-code")
@advisory(DECISION + ": a stale _etag is 400 API_INPUT_DATA_CONFLICT")
def test_stale_etag_code(w):
    c = w.client
    created = w.create("code")
    body = envelope(c, c.put(f"/project/{created['id']}", json={"_etag": "stale", "description": "x"}), (400,))
    c.check(body["code"] == "API_INPUT_DATA_CONFLICT", None, "code API_INPUT_DATA_CONFLICT", body["code"])


@rule("testiny.etag.force")
def test_force_skips_the_etag_check(w):
    c = w.client
    created = w.create("force")
    for value in ("1", "true"):
        response = c.put(f"/project/{created['id']}", params={"force": value}, json={"_etag": "stale", "description": value})
        c.check(c.expect(response, 200)["description"] == value, response, f"force={value} updates without a valid _etag")
    response = c.put(f"/project/{created['id']}", params={"force": "0"}, json={"_etag": "stale", "description": "no"})
    envelope(c, response, CLIENT_ERROR)


@rule("testiny.etag.changes-on-every-write")
@advisory(DECISION + ": delete and undelete issue a new _etag too")
def test_etag_changes_on_delete_and_undelete(w):
    c = w.client
    created = w.create("etags")
    deleted = c.expect(c.delete(f"/project/{created['id']}"), 200)
    undeleted = c.expect(c.post(f"/project/undelete/{created['id']}"), 200)
    etags = [created["_etag"], deleted["_etag"], undeleted["_etag"]]
    c.check(len(set(etags)) == 3, None, "three different _etags (create, delete, undelete)", str(etags))


@rule("testiny.soft-delete.marks-deleted")
def test_delete_marks_the_project_deleted(w):
    c = w.client
    created = w.create("del")
    response = c.delete(f"/project/{created['id']}")
    body = c.expect(response, 200)
    c.check(body.get("is_deleted") is True, response, "is_deleted true in the answer")
    c.check(TIMESTAMP.match(str(body.get("deleted_at"))) is not None and isinstance(body.get("deleted_by"), int),
            response, "deleted_at and deleted_by set")
    c.check(body["name"] == created["name"] and body["id"] == created["id"], response, "the same project, kept")


@rule("testiny.soft-delete.hidden-from-find")
def test_deleted_projects_are_found_only_with_include_deleted(w):
    c, tag = w.client, w.tag()
    keep, gone = (w.create(exact_name=tag + label) for label in ("kept", "gone"))
    c.expect(c.delete(f"/project/{gone['id']}"), 200)
    response, found = w.find({}, tag)
    c.check([p["id"] for p in found["data"]] == [keep["id"]], response, f"only id {keep['id']} by default")
    response, found = w.find({"includeDeleted": True}, tag)
    c.check(sorted(p["id"] for p in found["data"]) == sorted([keep["id"], gone["id"]]), response,
            "both with includeDeleted")


@rule("testiny.soft-delete.still-readable")
@advisory(DECISION + ": GET of a soft-deleted project is 200 with is_deleted true")
def test_deleted_project_is_still_readable(w):
    c = w.client
    created = w.create("readdel")
    c.expect(c.delete(f"/project/{created['id']}"), 200)
    c.check(c.expect(c.get(f"/project/{created['id']}"), 200)["is_deleted"] is True, None, "is_deleted true")


@rule("testiny.soft-delete.idempotent")
@advisory(DECISION + ": deleting a deleted project is a 200 that changes nothing")
def test_second_delete_changes_nothing(w):
    c = w.client
    created = w.create("twice")
    first = c.expect(c.delete(f"/project/{created['id']}"), 200)
    response = c.delete(f"/project/{created['id']}")
    c.check(c.expect(response, 200) == first, response, f"the unchanged project {first}")


@rule("testiny.undelete.restores")
def test_undelete_restores_the_project(w):
    c, tag = w.client, w.tag()
    created = w.create(exact_name=tag + "back")
    c.expect(c.delete(f"/project/{created['id']}"), 200)
    response = c.post(f"/project/undelete/{created['id']}")
    body = c.expect(response, 200)
    c.check(body.get("is_deleted") is False and "deleted_at" not in body, response,
            "is_deleted false and no deleted_at")
    listed_response, found = w.find({}, tag)
    c.check([p["id"] for p in found["data"]] == [created["id"]], listed_response, "found again by a default find")


@rule("testiny.errors.not-found")
def test_unknown_id_is_a_404_envelope(w):
    c = w.client
    body = envelope(c, c.get(f"/project/{w.missing_id()}"), (404,))
    c.check(body["code"] == "API_DATA_NOT_FOUND", None, "code API_DATA_NOT_FOUND", body["code"])


def name_limits() -> tuple[int, int]:
    """The shortest and longest project name, as the spec states them (ProjectName)."""
    schema = spec_document("testiny")["components"]["schemas"]["ProjectName"]
    return schema["minLength"], schema["maxLength"]


@rule("testiny.errors.validation")
def test_invalid_fields_are_refused_with_the_envelope(w):
    c = w.client
    shortest, longest = name_limits()
    with every_case() as case:
        for fields in ({"name": "x" * (shortest - 1)}, {"name": (w.tag() + "x" * longest)[:longest + 1]},
                       {"name": w.name("key"), "project_key": "lower"}, {}):
            with case(str(fields)):
                response = c.post("/project", json=fields)
                if response.status_code == 200:
                    testiny.record(response.json())
                envelope(c, response, CLIENT_ERROR)


@rule("testiny.names.length-limits")
def test_names_at_the_limits_are_accepted(w):
    c = w.client
    _, longest = name_limits()
    name = (w.tag() + "x" * longest)[:longest]
    created = w.create(exact_name=name)
    c.check(created["name"] == name, None, f"the {longest}-character name stored as sent: {name!r}", repr(created["name"]))


@rule("testiny.errors.validation-code")
@advisory(DECISION + ": a field failing its rule is 400 API_INVALID_INPUT_DATA naming the field")
def test_validation_error_code(w):
    c = w.client
    body = envelope(c, c.post("/project", json={"name": "ab"}), (400,))
    c.check(body["code"] == "API_INVALID_INPUT_DATA" and "name" in body["message"], None,
            "code API_INVALID_INPUT_DATA, message naming `name`", f"{body['code']}: {body['message']}")


@rule("testiny.errors.malformed-json")
def test_malformed_json_is_a_client_error(w):
    c = w.client
    response = c.post("/project", data=b'{"name": ', headers={"Content-Type": "application/json"})
    envelope(c, response, CLIENT_ERROR)


@rule("testiny.errors.request-id")
@advisory(DECISION + ": reqid equals the X-Request-Id response header")
def test_reqid_matches_the_header(w):
    c = w.client
    response = c.get(f"/project/{w.missing_id()}")
    body = envelope(c, response, CLIENT_ERROR)
    c.check(body["reqid"] == response.headers.get("X-Request-Id"), response, "reqid == X-Request-Id")


@rule("testiny.auth.key-required")
def test_missing_or_wrong_key_is_refused(w):
    anonymous = Client(testiny.base_url(), "testiny")
    for headers in ({}, {"X-Api-Key": "cf-not-a-key"}):
        envelope(anonymous, anonymous.post("/project/find", json={}, headers=headers), CLIENT_ERROR)
        envelope(anonymous, anonymous.post("/project", json={"name": w.name("nokey")}, headers=headers), CLIENT_ERROR)


@rule("testiny.auth.key-code")
@advisory(DECISION + ": a missing or unknown key is 403 API_ACCESS_DENIED")
def test_missing_key_code(w):
    anonymous = Client(testiny.base_url(), "testiny")
    body = envelope(anonymous, anonymous.get("/account/me"), (403,))
    anonymous.check(body["code"] == "API_ACCESS_DENIED", None, "code API_ACCESS_DENIED", body["code"])


@rule("testiny.auth.header-case-insensitive")
def test_key_header_name_is_case_insensitive(w):
    anonymous = Client(testiny.base_url(), "testiny")
    anonymous.expect(anonymous.get("/account/me", headers={"x-api-key": testiny.api_key()}), 200)


@rule("testiny.route.wrong-method-404")
@advisory(DECISION + ": a method a route does not have is 404 API_ROUTE_NOT_FOUND")
def test_wrong_method_is_route_not_found(w):
    c = w.client
    body = envelope(c, c.request("PATCH", "/project/find"), (404,))
    c.check(body["code"] == "API_ROUTE_NOT_FOUND", None, "code API_ROUTE_NOT_FOUND", body["code"])


@rule("testiny.project-key.unique")
@advisory(DECISION + ": project_key is unique among live projects (400 API_INPUT_DATA_CONFLICT)")
def test_project_key_is_unique_among_live_projects(w):
    c = w.client
    key = "Q" + w.tag().split("-")[1][:4].upper()  # run-specific, 5 characters
    first = w.create("key1", project_key=key)
    response = c.post("/project", json={"name": w.name("key2"), "project_key": key})
    if response.status_code == 200:
        testiny.record(response.json())
    body = envelope(c, response, (400,))
    c.check(body["code"] == "API_INPUT_DATA_CONFLICT", response, "code API_INPUT_DATA_CONFLICT", body["code"])
    c.expect(c.delete(f"/project/{first['id']}"), 200)
    w.create("key3", project_key=key)  # free again once the holder is deleted
