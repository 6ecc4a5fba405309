"""`Prefer: code=NNN` answers one request with another documented status of its operation (errors
in the API's envelope, successes with the spec's example) without touching state; `Prefer:
delay=MS` answers later; a status the operation does not document is a 400 that lists them."""

from __future__ import annotations

import time

KEY = {"X-Api-Key": "testiny-mock-demo-key"}


async def ufdl_auth(client) -> dict[str, str]:
    pair = await (await client.post("/v1/auth/obtain", json={"username": "admin", "password": "admin"})).json()
    return {"Authorization": "Bearer " + pair["access"]}


async def test_a_documented_error_status_comes_in_the_api_envelope_and_changes_nothing(make_mock):
    client = await make_mock(demo_data=True)
    before = await (await client.get("/__mock__/state")).json()
    auth = await ufdl_auth(client)
    ufdl = await client.delete("/v1/projects/1", headers={**auth, "Prefer": "code=404"})
    assert ufdl.status == 404 and set(await ufdl.json()) == {"detail"}
    testiny = await client.post("/api/v1/project", json={"name": "Never made"}, headers={**KEY, "Prefer": "code=503"})
    body = await testiny.json()
    assert testiny.status == 503 and body["code"] == "API_SERVICE_UNAVAILABLE" and body["reqid"]
    after = await (await client.get("/__mock__/state")).json()
    for user in after["ufdl"]["users"] + before["ufdl"]["users"]:
        user.pop("last_login")  # the login above is the one change
    assert after == before


async def test_a_success_comes_with_the_specs_example(make_mock):
    client = await make_mock(apis=("ufdl",))  # strict: the example must fit the spec
    created = await client.post("/v1/projects/create", json={"name": "x", "team": 99},
                                headers={**await ufdl_auth(client), "Prefer": "code=201"})
    assert created.status == 201 and set(await created.json()) >= {"pk", "name", "team", "creation_time"}
    listed = await client.post("/v1/projects/list", headers=await ufdl_auth(client))
    assert await listed.json() == []  # nothing was created


async def test_an_undocumented_status_is_refused_naming_the_documented_ones(make_mock):
    client = await make_mock(apis=("testiny",))
    answer = await client.get("/api/v1/account/me", headers={**KEY, "Prefer": "code=404"})
    body = await answer.json()
    assert answer.status == 400 and body["code"] == "API_INVALID_REQUEST"
    assert body["message"] == "Prefer: code=404 is not documented for account_me (documented: 200, 400, 403, 5XX)"
    bad = await client.get("/api/v1/account/me", headers={**KEY, "Prefer": "code=abc"})
    assert bad.status == 400 and "not an HTTP status" in (await bad.json())["message"]


async def test_a_delay_answers_later_and_other_preferences_are_ignored(make_mock):
    client = await make_mock(apis=("testiny",))
    started = time.monotonic()
    answer = await client.get("/api/v1/account/me", headers={**KEY, "Prefer": "return=minimal, delay=200"})
    assert answer.status == 200 and time.monotonic() - started >= 0.2
