"""The pytest plugin a user's own test suite gets with mockserver: the `mockserver` fixture (one
in-process mock per session, reset before each test), its settings and markers, sync and async."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def run(pytester: pytest.Pytester, tests: str, ini: str = "") -> pytest.RunResult:
    pytester.makeini("[pytest]\nasyncio_mode = auto\n" + ini)
    pytester.makepyfile(test_user=tests)
    return pytester.runpytest_subprocess("-q", "-p", "no:randomly")


def test_each_test_gets_a_fresh_mock_with_urls_credentials_and_control(pytester):
    result = run(pytester, '''
import requests

def test_first(mockserver):
    created = requests.post(mockserver.testiny_url + "project", json={"name": "Mine"},
                            headers=mockserver.testiny_headers())
    assert created.status_code == 200
    assert [p["name"] for p in mockserver.state("testiny")["testiny"]["projects"]] == ["Mine"]
    assert mockserver.requests(api="testiny")[0]["path"] == "/api/v1/project"

def test_second_starts_again(mockserver):
    assert mockserver.state("testiny")["testiny"]["projects"] == []
    assert requests.get(mockserver.ufdl_url + "users/1", headers=mockserver.ufdl_headers()).json()["username"] == "admin"
''')
    result.assert_outcomes(passed=2)


def test_settings_choose_the_apis_and_the_start_up_seed_and_a_marker_seeds_one_test(pytester):
    pytester.makefile(".yaml", seed="ufdl:\n  teams: [{name: vision}]\n  projects: [{name: Cats, team: vision}]\n")
    result = run(pytester, '''
import pytest
import requests

def names(mockserver):
    return [p["name"] for p in requests.post(mockserver.ufdl_url + "projects/list",
                                            headers=mockserver.ufdl_headers()).json()]

def test_the_seed_is_there(mockserver):
    assert names(mockserver) == ["Cats"]
    assert list(mockserver.state()) == ["ufdl"]

@pytest.mark.mockserver_seed({"ufdl": {"teams": [{"name": "t"}], "projects": [{"name": "Dogs", "team": "t"}]}})
def test_a_marker_gives_one_test_its_own_data(mockserver):
    assert names(mockserver) == ["Dogs"]

def test_the_start_up_seed_comes_back(mockserver):
    assert names(mockserver) == ["Cats"]
''', ini="mockserver_apis = ufdl\nmockserver_seed = seed.yaml\n")
    result.assert_outcomes(passed=3)


def test_async_tests_and_faults_work_too(pytester):
    result = run(pytester, '''
import aiohttp

async def test_async_client(mockserver):
    mockserver.add_fault(path="/api/v1/project/*", status=503, count=1)
    async with aiohttp.ClientSession(headers=mockserver.testiny_headers()) as session:
        async with session.get(mockserver.testiny_url + "project/1") as first:
            assert first.status == 503
        async with session.get(mockserver.testiny_url + "project/1") as second:
            assert second.status == 404
''')
    result.assert_outcomes(passed=1)


def test_the_readme_example_passes_as_written(pytester):
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The mock in your own tests (pytest plugin)", 1)[1]
    example = section.split("```python", 1)[1].split("```", 1)[0]
    run(pytester, example).assert_outcomes(passed=3)


def test_a_test_can_verify_how_often_a_request_was_made(pytester):
    run(pytester, '''
import requests

def test_exactly_one_create(mockserver):
    headers = mockserver.testiny_headers()
    requests.post(mockserver.testiny_url + "project", json={"name": "Once"}, headers=headers)
    requests.get(mockserver.testiny_url + "project/99", headers=headers)
    assert mockserver.count_requests(method="POST", path="/api/v1/project") == 1
    assert mockserver.count_requests(api="testiny", status="4xx") == 1
    assert mockserver.requests(status=404)[0]["path"] == "/api/v1/project/99"
''').assert_outcomes(passed=1)


def test_sessions_through_the_fixture_stay_apart_and_end_with_the_test(pytester):
    run(pytester, '''
import requests

def test_two_worlds(mockserver):
    for who in ("alice", "bob"):
        requests.post(mockserver.testiny_url + "project", json={"name": "Made by " + who},
                      headers=mockserver.testiny_headers(session=who))
    auth = mockserver.ufdl_headers(session="alice")
    assert requests.post(mockserver.ufdl_url + "projects/list", headers=auth).status_code == 200
    assert [p["name"] for p in mockserver.state(session="bob")["testiny"]["projects"]] == ["Made by bob"]
    assert mockserver.state()["testiny"]["projects"] == []
    assert mockserver.count_requests(session="alice", method="POST") == 3  # create, obtain, list
    assert {s["name"] for s in mockserver.sessions()} == {"alice", "bob"}

def test_the_next_test_starts_without_them(mockserver):
    assert mockserver.sessions() == []
''').assert_outcomes(passed=2)
