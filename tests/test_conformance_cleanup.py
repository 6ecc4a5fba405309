"""The conformance suite leaves nothing behind on a live server (also when tests fail), and its
options are documented in `pytest --help`."""

from __future__ import annotations

import subprocess
import sys

import requests
from broken_variants import ROOT, VARIANTS, build_app, run_suite, serve

from mockserver.apis.testiny import API as TESTINY
from mockserver.apis.ufdl import API as UFDL


def test_every_record_of_a_run_is_removed_even_when_tests_fail(tmp_path):
    broken = VARIANTS["soft-delete-removes"].build()  # makes the soft-delete scenarios fail
    with serve(build_app([broken, TESTINY])) as url:
        ufdl = run_suite(url, "ufdl", tmp_path, "--rule=ufdl.soft-delete.*", "--rule=ufdl.lifecycle.*",
                         "--rule=ufdl.filter.*")
        testiny = run_suite(url, "testiny", tmp_path, "--rule=testiny.lifecycle.*", "--rule=testiny.bulk.*")
        state = requests.get(url + "/__mock__/state", timeout=10).json()
    assert "testiny cleanup: soft-deleted" in testiny.output
    assert ufdl.failed() and "ufdl cleanup: hard-deleted" in ufdl.output
    assert state["ufdl"]["projects"] == [], "every UFDL project of the run is hard-deleted"
    # what the APIs can only soft-delete (teams, Testiny projects) is purged through this mock's control API
    assert state["ufdl"]["teams"] == [] and [u["username"] for u in state["ufdl"]["users"]] == ["admin"]
    assert state["testiny"]["projects"] == [], "every Testiny project of the run is gone"
    assert "mock purge: removed for good" in ufdl.output and "mock purge: removed for good" in testiny.output


def test_data_of_others_is_never_touched(tmp_path):
    with serve(build_app([UFDL, TESTINY])) as url:
        admin = requests.post(url + "/v1/auth/obtain", json={"username": "admin", "password": "admin"}, timeout=10)
        headers = {"Authorization": "Bearer " + admin.json()["access"]}
        team = requests.post(url + "/v1/teams/create", json={"name": "theirs"}, headers=headers, timeout=10).json()
        theirs = requests.post(url + "/v1/projects/create", json={"name": "Precious", "team": team["pk"]},
                               headers=headers, timeout=10).json()
        key = {"X-Api-Key": "testiny-mock-demo-key"}
        other = requests.post(url + "/api/v1/project", json={"name": "Their project"}, headers=key, timeout=10).json()
        run_suite(url, "ufdl", tmp_path, "--rule=ufdl.lifecycle.*", "--rule=ufdl.hard-delete.*")
        run_suite(url, "testiny", tmp_path, "--rule=testiny.soft-delete.*")
        after = requests.get(f"{url}/v1/projects/{theirs['pk']}", headers=headers, timeout=10).json()
        other_after = requests.get(f"{url}/api/v1/project/{other['id']}", headers=key, timeout=10).json()
    assert after == theirs
    assert other_after == other


def test_options_are_listed_in_pytest_help():
    done = subprocess.run([sys.executable, "-m", "pytest", "conformance", "--help", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    for option in ("--base-url", "--api", "--username", "--password", "--api-key", "--team",
                   "--allow-create-accounts", "--thorough", "--max-examples", "--rule", "--deviations"):
        assert option in done.stdout, option
