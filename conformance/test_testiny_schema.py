"""Layer 1 for Testiny: every operation of openapi/testiny.yaml fuzzed with positive and negative
data and checked with every schemathesis response check (see testiny_schema.EXCLUDED for the
per-operation exclusions and why)."""

from __future__ import annotations

import pytest

from conformance import fuzz, testiny
from conformance.reporting import rule
from conformance.target import target
from conformance.testiny_schema import EXCLUDED, POOL, ApiKeyAuth, advisory, after_call, fuzzed_schema, prepare, schema

if not target().serves("testiny"):
    pytest.skip("the target does not serve the Testiny API", allow_module_level=True)


@pytest.fixture(scope="module")
def pool():
    POOL.setup()
    return POOL


@fuzzed_schema().parametrize()
def test_operation(case, pool):
    prepare(case)
    op = fuzz.operation_id(case)
    fuzz.run_case(case, "testiny", testiny.base_url(), fuzz.excluded_checks(EXCLUDED, op), after_call=after_call,
                  advisory=advisory)


@rule("testiny.auth.provider-key-works")
def test_authenticated_call_succeeds():
    """A wrong key would turn every fuzzed response into a documented 403 and a green run."""
    key = ApiKeyAuth().get(None, None)
    case = schema["/project/find"]["POST"].Case(body={"pagination": {"limit": 1}}, media_type="application/json")
    response = case.call(base_url=testiny.base_url(), headers={"X-Api-Key": key})
    client = testiny.world().client
    client.check(response.status_code == 200 and "data" in response.json(), response,
                 "status 200 with a FindResult: the suite's API key must authenticate it")
