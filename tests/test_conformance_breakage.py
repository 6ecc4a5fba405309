"""The conformance suite catches breakage: it is run (in a subprocess, as a user would run it
against a live server) against deliberately broken variants of the mock served in a thread, and
must report the right rule as failed; against the correct mock the same scenarios all pass.

Only the scenarios of the relevant rules run per variant (`--rule`), so this stays fast."""

from __future__ import annotations

import pytest
from broken_variants import REAL_SERVER_BUGS, VARIANTS, build_app, options_500, real_server_bugs, run_suite, serve

from mockserver.apis.testiny import API as TESTINY
from mockserver.apis.ufdl import API as UFDL


@pytest.mark.parametrize("api", ["ufdl", "testiny"])
def test_the_correct_mock_passes_every_scenario(api, tmp_path):
    with serve(build_app([UFDL, TESTINY])) as url:
        run = run_suite(url, api, tmp_path)
    assert run.returncode == 0, run.output[-4000:]
    assert not run.failed()
    assert sum(outcome == "passed" for outcome in run.outcomes.values()) >= 20
    assert "conformance summary" in run.output and "no failures" in run.output


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_the_suite_catches(name, tmp_path):
    variant = VARIANTS[name]
    definitions = [variant.build(), TESTINY] if variant.api == "ufdl" else [UFDL, variant.build()]
    with serve(build_app(definitions)) as url:
        run = run_suite(url, variant.api, tmp_path, *(f"--rule={glob}" for glob in variant.select))
    assert run.returncode == 1, run.output[-4000:]
    missing = set(variant.must_fail) - run.failed()
    assert not missing, f"{name}: expected failures of {sorted(missing)}; got {run.outcomes}\n{run.output[-3000:]}"
    for rule in variant.must_fail:
        message = run.messages[rule]
        assert f"[{rule}]" in message and "expected:" in message and "request:  curl" in message, message
        assert rule in run.output.split("conformance summary", 1)[1], "the summary names the rule"


@pytest.fixture(scope="module")
def real_server_url():
    with serve(build_app([real_server_bugs(), TESTINY], middlewares=(options_500,))) as url:
        yield url


RULES = [f"--rule={rule}" for rule in [*REAL_SERVER_BUGS, "ufdl.filter.contains-case-sensitive"]]


def test_real_server_bugs_are_reported_as_failures(real_server_url, tmp_path):
    run = run_suite(real_server_url, "ufdl", tmp_path, *RULES)
    assert run.returncode == 1
    for rule, bug in REAL_SERVER_BUGS.items():
        assert run.outcomes.get(rule) == "failed", f"{rule} ({bug}) not reported: {run.outcomes}"
        message = run.messages[rule]
        assert "expected: status" in message and "actual:   status 500" in message or "text/html" in message, message
    # the SQLite `contains` quirk rests on a mock decision: against a live server it is advisory
    assert run.outcomes["ufdl.filter.contains-case-sensitive"] == "xfailed"
    assert "advisory" in run.messages["ufdl.filter.contains-case-sensitive"]


def test_a_deviations_file_turns_accepted_differences_into_expected_failures(real_server_url, tmp_path):
    deviations = tmp_path / "deviations.yaml"
    deviations.write_text("ufdl.pk.huge-404: our backend answers 500 for pks beyond 64 bit (ticket UF-12)\n"
                          "ufdl.http.options-200: OPTIONS is blocked by our proxy\n", encoding="utf-8")
    run = run_suite(real_server_url, "ufdl", tmp_path, *RULES, f"--deviations={deviations}")
    assert run.outcomes["ufdl.pk.huge-404"] == "xfailed"
    assert "UF-12" in run.messages["ufdl.pk.huge-404"]
    assert run.outcomes["ufdl.http.options-200"] == "xfailed"
    assert run.outcomes["ufdl.pk.non-numeric-json-404"] == "failed"  # not listed: still a failure
    summary = run.output.split("conformance summary", 1)[1]
    assert "EXPECTED FAILURES" in summary and "UF-12" in summary
