"""Layer 2 for Testiny: sequences built from the spec's links (create -> read/update/delete ->
undelete ...; updates carry the `_etag` of the previous answer), with every schemathesis check plus
what the links imply: a created or updated project reads back as answered, a deleted one is gone
from finds (and still readable with is_deleted), an undeleted one is found again."""

from __future__ import annotations

import pytest

from conformance import fuzz, testiny
from conformance.client import Client
from conformance.reporting import rule
from conformance.settings import SETTINGS
from conformance.target import target
from conformance.testiny_schema import EXCLUDED, POOL, advisory, after_call, prepare, schema

if not target().serves("testiny"):
    pytest.skip("the target does not serve the Testiny API", allow_module_level=True)

# DELETE is a soft delete (documented): the project stays readable, which use_after_free reports
# as "deleted resource still accessible"; what deletion does mean is checked in check_effects.
STATEFUL_EXCLUDED = {"use_after_free": "DELETE is a soft delete: the project stays readable with is_deleted"}


def _found(client: Client, project_id: int, include_deleted: bool) -> bool:
    response = client.post("/project/find", json={"ids": [project_id], "includeDeleted": include_deleted})
    return response.status_code == 200 and [p.get("id") for p in response.json().get("data", [])] == [project_id]


def check_effects(case, response) -> None:
    op = fuzz.operation_id(case)
    if response.status_code != 200 or op not in ("project_create", "project_update", "project_delete",
                                                 "project_undelete"):
        return
    body = response.json()
    client = Client(testiny.base_url(), "testiny", testiny.headers)
    read = client.get(f"/project/{body['id']}")
    if op in ("project_create", "project_update"):
        fuzz.expect_effect("testiny", "testiny.stateful.read-back", read.status_code == 200 and read.json() == body, read,
                           f"200 with the project as {op} answered it: {body}")
    elif op == "project_delete":
        fuzz.expect_effect("testiny", "testiny.stateful.deleted-not-found", not _found(client, body["id"], False), read,
                           f"project {body['id']} gone from a default find")
        fuzz.expect_effect("testiny", "testiny.stateful.deleted-not-found", _found(client, body["id"], True), read,
                           f"project {body['id']} found with includeDeleted")
    else:
        fuzz.expect_effect("testiny", "testiny.stateful.undeleted-found", _found(client, body["id"], False), read,
                           f"project {body['id']} found again after undelete")


LinkWorkflow = fuzz.link_workflow("testiny", schema, base_url=testiny.base_url, pool=POOL,
                                prepare=prepare, after_call=after_call, check_effects=check_effects,
                                excluded=EXCLUDED, stateful_excluded=STATEFUL_EXCLUDED, advisory=advisory)


@pytest.mark.skipif(SETTINGS.read_only, reason="--read-only: linked sequences start by creating records")
@rule("testiny.stateful.links")
def test_linked_sequences():
    fuzz.run_state_machine(LinkWorkflow, max_examples=SETTINGS.examples(25, 200))
