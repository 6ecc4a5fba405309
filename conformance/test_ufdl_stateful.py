"""Layer 2 for UFDL: sequences built from the spec's links (teams_create -> projects_create ->
retrieve/update/destroy/hard delete/reinstate), with every schemathesis check plus what links
imply: a created project reads back as created, a soft-deleted one is kept with `deletion_time`
set, a hard-deleted one is gone (404)."""

from __future__ import annotations

import pytest

from conformance import fuzz, ufdl
from conformance.client import Client
from conformance.reporting import rule
from conformance.settings import SETTINGS
from conformance.target import target
from conformance.ufdl_schema import ACCOUNT_CREATES, EXCLUDED, POOL, after_call, fuzzed_schema, prepare

if not target().serves("ufdl"):
    pytest.skip("the target does not serve the UFDL API", allow_module_level=True)

# Soft delete keeps the record retrievable by design (spec: projects_destroy), which
# use_after_free reports as "deleted resource still accessible"; hard delete is checked below.
STATEFUL_EXCLUDED = {"use_after_free": "DELETE is a soft delete: the record stays retrievable (documented)"}


def check_effects(case, response) -> None:
    """What a successful call implies for the next read of the same record."""
    op = fuzz.operation_id(case)
    client = Client(ufdl.base_url(), "ufdl", ufdl.world().main.headers)
    if op == "projects_create" and response.status_code == 201:
        created = response.json()
        read = client.get(f"/v1/projects/{created['pk']}")
        fuzz.expect_effect("ufdl", "ufdl.stateful.created-readable", read.status_code == 200 and read.json() == created,
                           read, f"200 with the created project {created}")
    elif op == "projects_destroy" and response.status_code == 204:
        read = client.get(f"/v1/projects/{case.path_parameters['pk']}")
        fuzz.expect_effect("ufdl", "ufdl.stateful.soft-deleted-kept",
                           read.status_code == 200 and read.json().get("deletion_time") is not None, read,
                           "200 with deletion_time set after a soft delete")
    elif op == "projects_hard_delete" and response.status_code == 200:
        read = client.get(f"/v1/projects/{case.path_parameters['pk']}")
        fuzz.expect_effect("ufdl", "ufdl.stateful.hard-deleted-gone", read.status_code == 404, read,
                           "404 after a hard delete")


UfdlWorkflow = fuzz.link_workflow("ufdl", fuzzed_schema(), base_url=ufdl.base_url, pool=POOL,
                                prepare=prepare, after_call=after_call, check_effects=check_effects,
                                excluded=EXCLUDED, stateful_excluded=STATEFUL_EXCLUDED,
                                skip=lambda case: fuzz.leaves_accounts_behind(case, fuzz.operation_id(case),
                                                                              ACCOUNT_CREATES))


@pytest.mark.skipif(SETTINGS.read_only, reason="--read-only: linked sequences start by creating records")
@rule("ufdl.stateful.links")
def test_linked_sequences():
    fuzz.run_state_machine(UfdlWorkflow, max_examples=SETTINGS.examples(25, 200))
