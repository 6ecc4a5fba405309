"""Layer 1 for UFDL: every operation of openapi/ufdl.yaml fuzzed with positive and negative data
and checked with every schemathesis response check (see ufdl_schema.EXCLUDED for the few
per-operation exclusions and why)."""

from __future__ import annotations

import pytest

from conformance import fuzz, ufdl
from conformance.reporting import rule
from conformance.target import target
from conformance.ufdl_schema import ACCOUNT_CREATES, EXCLUDED, POOL, UfdlAuth, after_call, fuzzed_schema, prepare

if not target().serves("ufdl"):
    pytest.skip("the target does not serve the UFDL API", allow_module_level=True)

schema = fuzzed_schema()


@pytest.fixture(scope="module")
def pool():
    POOL.setup()
    return POOL


# users_list and teams_list take the same ListBody as projects_list, whose ~650 coverage-phase
# cases all run; of theirs the default run sends every 4th (--thorough sends all).
SAMPLED = {"users_list": 4, "teams_list": 4}


@schema.parametrize()
def test_operation(case, pool):
    op = fuzz.operation_id(case)
    # a case left out on purpose is counted (the summary says how many were sent of how many);
    # hypothesis runs every case of an operation in this one test, so a skip would skip them all
    if fuzz.sampled_out(case, op, SAMPLED) or fuzz.leaves_accounts_behind(case, op, ACCOUNT_CREATES):
        return
    prepare(case)
    fuzz.run_case(case, "ufdl", ufdl.base_url(), fuzz.excluded_checks(EXCLUDED, op), after_call=after_call)


@rule("ufdl.auth.provider-token-works")
def test_authenticated_call_succeeds():
    """A wrong token would turn every fuzzed response into a documented 401 and a green run."""
    token = UfdlAuth().get(None, None)
    case = schema["/v1/projects/list"]["POST"].Case(body={}, media_type="application/json")
    response = case.call(base_url=ufdl.base_url(), headers={"Authorization": f"Bearer {token}"})
    client = ufdl.world().client
    client.check(response.status_code == 200 and isinstance(response.json(), list), response,
                 "status 200 with a JSON array: the suite's token must authenticate it")
