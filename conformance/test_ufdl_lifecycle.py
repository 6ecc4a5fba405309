"""UFDL scenarios: the project lifecycle, soft delete, reinstate, hard delete, pks and names.

Each test names the rule it checks; they use plain HTTP through `conformance.client`, so they run
unchanged against the in-process mock or a live server (creating only prefixed records)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from conformance.client import every_case
from conformance.reporting import advisory, rule
from conformance.target import spec_document
from conformance.ufdl import record_project

PROJECT_KEYS = ["pk", "name", "team", "creator", "creation_time", "deletion_time"]
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@pytest.fixture
def w(ufdl_world):
    ufdl_world.require_team()
    return ufdl_world


def admin_only(w):
    if not w.is_admin:
        pytest.skip("needs an admin account (hard delete and reinstate are admin-only)")


def _timestamp(value):
    return isinstance(value, str) and ISO.match(value) and datetime.fromisoformat(value.replace("Z", "+00:00"))


@rule("ufdl.lifecycle.create-201")
def test_create_answers_201_with_the_project(w):
    c, team, name = w.client, w.team(), w.name("create")
    response = c.post("/v1/projects/create", json={"name": f"  {name}  ", "team": team})
    body = c.expect(response, 201)
    record_project(body)
    c.check(list(body) == PROJECT_KEYS, response, f"exactly the keys {PROJECT_KEYS} in this order", f"{list(body)}")
    c.check(isinstance(body["pk"], int) and body["pk"] >= 1, response, "pk a positive integer")
    c.check(body["name"] == name, response, f"name trimmed: {name!r}", repr(body["name"]))
    c.check(body["team"] == team, response, f"team {team}", repr(body["team"]))
    c.check(body["creator"] == w.main.user_pk, response, f"creator = the caller's pk {w.main.user_pk}", repr(body["creator"]))
    c.check(body["deletion_time"] is None, response, "deletion_time null", repr(body["deletion_time"]))
    c.check(bool(_timestamp(body["creation_time"])), response, "creation_time an ISO-8601 timestamp",
            repr(body["creation_time"]))


@rule("ufdl.lifecycle.read-back")
def test_created_project_reads_back_unchanged(w):
    c = w.client
    created = w.create_project("readback")
    response = c.get(f"/v1/projects/{created['pk']}")
    c.check(c.expect(response, 200) == created, response, f"the created project {created}")


@rule("ufdl.lifecycle.listed")
def test_created_project_is_listed_once(w):
    tag = w.tag()
    created = w.create_project("", exact_name=tag + "listed")
    response, listed = w.list_tagged(tag)
    w.client.check(listed == [created], response, f"exactly [{created}]")


@rule("ufdl.lifecycle.put-updates")
def test_put_replaces_name_and_keeps_the_rest(w):
    c = w.client
    created = w.create_project("put")
    new_name = w.name("put-renamed")
    response = c.put(f"/v1/projects/{created['pk']}", json={"name": new_name, "team": created["team"]})
    body = c.expect(response, 200)
    c.check(body == {**created, "name": new_name}, response, f"{ {**created, 'name': new_name} }")
    read = c.get(f"/v1/projects/{created['pk']}")
    c.check(c.expect(read, 200) == body, read, f"the updated project {body}")


@rule("ufdl.lifecycle.patch-partial")
def test_patch_changes_only_the_given_fields(w):
    c = w.client
    created = w.create_project("patch")
    new_name = w.name("patch-renamed")
    body = c.expect(c.patch(f"/v1/projects/{created['pk']}", json={"name": new_name}), 200)
    c.check(body == {**created, "name": new_name}, None, f"only the name changed: {created} -> {body}")
    response = c.patch(f"/v1/projects/{created['pk']}", json={})
    c.check(c.expect(response, 200) == body, response, f"PATCH {{}} leaves the project unchanged: {body}")


@rule("ufdl.lifecycle.timestamps-utc")
@advisory("ufdl-observed.md §8: the mock prints UTC with a Z; the real server prints its local offset")
def test_timestamps_are_utc_with_microseconds(w):
    created = w.create_project("utc")
    w.client.check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", created["creation_time"]) is not None,
                   None, "creation_time like 2026-11-25T10:15:02.123456Z", created["creation_time"])


@rule("ufdl.soft-delete.204-empty")
def test_soft_delete_answers_204_without_body(w):
    c = w.client
    created = w.create_project("sd204")
    response = c.delete(f"/v1/projects/{created['pk']}")
    c.expect(response, 204)
    c.check(response.content == b"", response, "an empty body")


@rule("ufdl.soft-delete.still-retrievable")
def test_soft_deleted_project_is_still_retrievable(w):
    c = w.client
    created = w.create_project("sdget")
    c.expect(c.delete(f"/v1/projects/{created['pk']}"), 204)
    response = c.get(f"/v1/projects/{created['pk']}")
    body = c.expect(response, 200, note="a soft delete keeps the record")
    c.check(bool(_timestamp(body["deletion_time"])), response, "deletion_time set to a timestamp")
    c.check({k: v for k, v in body.items() if k != "deletion_time"}
            == {k: v for k, v in created.items() if k != "deletion_time"}, response, "every other field unchanged")


@rule("ufdl.soft-delete.hidden-from-list")
def test_soft_deleted_project_is_not_listed_by_default(w):
    tag = w.tag()
    kept = w.create_project("", exact_name=tag + "kept")
    gone = w.create_project("", exact_name=tag + "gone")
    w.client.expect(w.client.delete(f"/v1/projects/{gone['pk']}"), 204)
    response, listed = w.list_tagged(tag)
    w.client.check([p["pk"] for p in listed] == [kept["pk"]], response,
                   f"only pk {kept['pk']} (pk {gone['pk']} is soft-deleted)", f"pks {[p['pk'] for p in listed]}")


@rule("ufdl.soft-delete.include-inactive")
def test_include_inactive_lists_soft_deleted_projects(w):
    tag = w.tag()
    kept = w.create_project("", exact_name=tag + "kept")
    gone = w.create_project("", exact_name=tag + "gone")
    w.client.expect(w.client.delete(f"/v1/projects/{gone['pk']}"), 204)
    response, listed = w.list_tagged(tag, include_inactive=True)
    w.client.check(sorted(p["pk"] for p in listed) == sorted([kept["pk"], gone["pk"]]), response,
                   f"pks {sorted([kept['pk'], gone['pk']])} (include_inactive)", f"pks {[p['pk'] for p in listed]}")


@rule("ufdl.soft-delete.idempotent")
def test_second_soft_delete_is_a_noop(w):
    c = w.client
    created = w.create_project("sdtwice")
    c.expect(c.delete(f"/v1/projects/{created['pk']}"), 204)
    first = c.expect(c.get(f"/v1/projects/{created['pk']}"), 200)
    again = c.delete(f"/v1/projects/{created['pk']}")
    c.expect(again, 204, note="deleting a deleted project is a no-op 204")
    second = c.expect(c.get(f"/v1/projects/{created['pk']}"), 200)
    c.check(second["deletion_time"] == first["deletion_time"], again, "deletion_time unchanged by the second DELETE",
            f"{first['deletion_time']} -> {second['deletion_time']}")


@rule("ufdl.soft-delete.frees-name")
def test_name_of_a_soft_deleted_project_can_be_reused(w):
    name = w.name("reuse")
    first = w.create_project("", exact_name=name)
    w.client.expect(w.client.delete(f"/v1/projects/{first['pk']}"), 204)
    second = w.create_project("", exact_name=name)
    w.client.check(second["pk"] != first["pk"], None, "a new project with a new pk")


@rule("ufdl.reinstate.restores")
def test_reinstate_clears_deletion_time_and_lists_again(w):
    admin_only(w)
    c, tag = w.client, w.tag()
    created = w.create_project("", exact_name=tag + "back")
    c.expect(c.delete(f"/v1/projects/{created['pk']}"), 204)
    response = c.delete(f"/v1/projects/{created['pk']}/reinstate")
    body = c.expect(response, 200)
    c.check(body == created, response, f"the project as created, deletion_time null: {created}")
    read = c.get(f"/v1/projects/{created['pk']}")
    c.check(c.expect(read, 200)["deletion_time"] is None, read, "deletion_time null after reinstate")
    listed_response, listed = w.list_tagged(tag)
    c.check([p["pk"] for p in listed] == [created["pk"]], listed_response, f"pk {created['pk']} listed again")


@rule("ufdl.reinstate.noop-on-active")
def test_reinstate_of_an_active_project_changes_nothing(w):
    admin_only(w)
    created = w.create_project("reactive")
    response = w.client.delete(f"/v1/projects/{created['pk']}/reinstate")
    w.client.check(w.client.expect(response, 200) == created, response, f"200 with the unchanged project {created}")


@rule("ufdl.reinstate.duplicate-name-400")
def test_reinstate_onto_an_active_name_is_400(w):
    admin_only(w)
    c, name = w.client, w.name("redup")
    old = w.create_project("", exact_name=name)
    c.expect(c.delete(f"/v1/projects/{old['pk']}"), 204)
    w.create_project("", exact_name=name)
    response = c.delete(f"/v1/projects/{old['pk']}/reinstate")
    c.expect(response, 400, note="an active project of the team has the name (the real server answers 500)")
    c.check(c.get(f"/v1/projects/{old['pk']}").json().get("deletion_time") is not None, response,
            "the project stays soft-deleted")


@rule("ufdl.hard-delete.returns-record")
def test_hard_delete_answers_the_record_with_pk_null(w):
    admin_only(w)
    c = w.client
    created = w.create_project("hard")
    response = c.delete(f"/v1/projects/{created['pk']}/hard")
    body = c.expect(response, 200)
    c.check(body.get("pk") is None and body.get("name") == created["name"] and body.get("team") == created["team"],
            response, f"the project with pk null: {created['name']!r} in team {created['team']}")
    c.check(bool(_timestamp(body.get("deletion_time"))), response, "deletion_time set")


@rule("ufdl.hard-delete.gone-404")
def test_hard_deleted_project_is_gone(w):
    admin_only(w)
    c = w.client
    created = w.create_project("gone")
    c.expect(c.delete(f"/v1/projects/{created['pk']}/hard"), 200)
    pk = created["pk"]
    for response in (c.get(f"/v1/projects/{pk}"), c.delete(f"/v1/projects/{pk}"), c.patch(f"/v1/projects/{pk}", json={}),
                     c.delete(f"/v1/projects/{pk}/hard"), c.delete(f"/v1/projects/{pk}/reinstate")):
        body = c.expect(response, 404)
        c.check(body == {"detail": "No Project matches the given query."}, response,
                '{"detail": "No Project matches the given query."}')


@rule("ufdl.pk.never-reused")
def test_pk_of_a_hard_deleted_project_is_never_reused(w):
    admin_only(w)
    c = w.client
    first = w.create_project("pk-a")
    c.expect(c.delete(f"/v1/projects/{first['pk']}/hard"), 200)
    second = w.create_project("pk-b")
    c.check(second["pk"] > first["pk"], None, f"a pk greater than the hard-deleted {first['pk']}", str(second["pk"]))


@rule("ufdl.pk.increasing")
def test_pks_increase(w):
    pks = [w.create_project(f"inc{i}")["pk"] for i in range(3)]
    w.client.check(pks == sorted(set(pks)), None, "strictly increasing pks", str(pks))


@rule("ufdl.names.unique-per-team")
def test_duplicate_active_name_in_a_team_is_400(w):
    c, name = w.client, w.name("dup")
    w.create_project("", exact_name=name)
    response = c.post("/v1/projects/create", json={"name": name, "team": w.team()})
    if response.status_code == 201:
        record_project(response.json())
    c.expect(response, 400, note="names are unique per team among active projects")


@rule("ufdl.names.case-sensitive")
def test_names_differing_in_case_coexist(w):
    tag = w.tag()
    w.create_project("", exact_name=tag + "CASE")
    w.create_project("", exact_name=tag + "case")


@rule("ufdl.names.other-team-ok")
def test_same_name_in_another_team_is_fine(w):
    w.require_accounts()
    name = w.name("twin")
    w.create_project("", exact_name=name)
    w.create_project("", team=w.new_team("twin-team"), exact_name=name)


@rule("ufdl.names.duplicate-rename-400")
def test_rename_onto_an_active_name_is_400(w):
    c, tag = w.client, w.tag()
    w.create_project("", exact_name=tag + "taken")
    other = w.create_project("", exact_name=tag + "other")
    with every_case() as case:
        for method in ("PATCH", "PUT"):
            with case(method):
                response = c.request(method, f"/v1/projects/{other['pk']}",
                                     json={"name": tag + "taken", "team": other["team"]})
                c.expect(response, 400, note="renaming onto an active name (the real server answers 500)")
                read = c.get(f"/v1/projects/{other['pk']}")
                c.check(read.json().get("name") == tag + "other", read, f"the name unchanged: {tag + 'other'!r}")


def name_limit() -> int:
    """The longest project name, as the spec states it (StoredName.maxLength)."""
    return spec_document("ufdl")["components"]["schemas"]["StoredName"]["maxLength"]


@rule("ufdl.names.max-length-400")
def test_names_over_the_limit_are_400(w):
    c, tag, limit = w.client, w.tag(), name_limit()
    longest = tag + "x" * (limit - len(tag))
    too_long = longest + "y"
    message = {"name": [f"Ensure this field has no more than {limit} characters."]}
    with every_case() as case:
        with case(f"create with {limit} characters"):
            created = w.create_project("", exact_name=longest)
            c.check(created["name"] == longest, None, f"the {limit}-character name stored as sent")
        with case(f"create with {limit + 1} characters"):
            response = c.post("/v1/projects/create", json={"name": too_long, "team": w.team()})
            if response.status_code == 201:
                record_project(response.json())
            c.check(c.expect(response, 400) == message, response, str(message))
        project = w.create_project("short")
        for method in ("PUT", "PATCH"):
            with case(f"{method} with {limit + 1} characters"):
                response = c.request(method, f"/v1/projects/{project['pk']}", json={"name": too_long, "team": w.team()})
                c.check(c.expect(response, 400) == message, response, str(message))
                read = c.get(f"/v1/projects/{project['pk']}")
                c.check(read.json().get("name") == project["name"], read, "the name unchanged")
