"""Testiny API keys (X-Api-Key, case-insensitive name, demo key and own keys) and the two account
calls a client makes first: `GET /account/me` and `GET /permission/me`."""

from __future__ import annotations

import pytest
from testiny_helpers import ARCHIVED, BASE, KEY, OTHER_KEY, call, check_error, check_ok, start_mock

ROUTES = [("GET", "/account/me"), ("GET", "/permission/me"), ("POST", "/project"), ("GET", "/project?q={}"),
          ("POST", "/project/find"), ("GET", "/project/1"), ("PUT", "/project/1"), ("DELETE", "/project/1"),
          ("POST", "/project/undelete/1"), ("POST", "/project/bulk"), ("PUT", "/project/bulk"),
          ("DELETE", "/project/bulk"), ("POST", "/project/bulk/undelete")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_operation_without_an_api_key_is_access_denied(make_mock, method, path):
    client = await start_mock(make_mock)
    response, body = await call(client, method, path, {"name": "x"} if method in ("POST", "PUT") else None, key=None)
    check_error(response, body, 403, "API_ACCESS_DENIED", r"^A valid API key is required \(header X-Api-Key\)$")


@pytest.mark.parametrize("key", ["wrong", KEY.upper(), KEY + "x", " "])
async def test_an_unknown_or_blank_api_key_is_access_denied(make_mock, key):
    client = await start_mock(make_mock)
    response, body = await call(client, "GET", "/account/me", key=key)
    check_error(response, body, 403, "API_ACCESS_DENIED")


async def test_access_is_checked_before_the_body_and_changes_nothing(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "POST", "/project", data="{broken", key="wrong",
                                headers={"Content-Type": "application/json"})
    check_error(response, body, 403, "API_ACCESS_DENIED")
    response, body = await call(client, "DELETE", "/project/1", key="wrong")
    check_error(response, body, 403, "API_ACCESS_DENIED")
    response, project = await call(client, "GET", "/project/1")
    assert project["is_deleted"] is False


@pytest.mark.parametrize("header", ["x-api-key", "X-API-KEY", "x-Api-kEy"])
async def test_the_api_key_header_name_is_matched_case_insensitively(make_mock, header):
    client = await start_mock(make_mock)
    response = await client.get(BASE + "/account/me", headers={header: KEY})
    check_ok(response)
    assert (await response.json())["userId"] == 1


async def test_own_api_keys_are_accepted_each_with_its_own_user(make_mock):
    client = await start_mock(make_mock, keys=(OTHER_KEY, "third"))
    for key, user, email in [(KEY, 1, "mock.user@example.com"), (OTHER_KEY, 2, "user2@example.com"),
                             ("third", 3, "user3@example.com")]:
        response, me = await call(client, "GET", "/account/me", key=key)
        check_ok(response)
        assert (me["userId"], me["email"]) == (user, email)


async def test_account_me_gives_the_minimal_answer_a_client_needs(make_mock):
    client = await start_mock(make_mock)
    response, me = await call(client, "GET", "/account/me", headers={"x-tab-hint": "abc", "x-wf-client": "cli"})
    check_ok(response)
    assert me == {"loggedIn": True, "userId": 1, "email": "mock.user@example.com",
                  "tenant": {"id": 1, "name": "Mock Organization"},
                  "apiLimits": {"items": {"read": 2000, "write": 1000}, "requestBytes": 1048576}}


async def test_account_me_states_the_configured_body_limit(make_mock):
    client = await start_mock(make_mock, max_body_bytes=4096)
    response, me = await call(client, "GET", "/account/me")
    assert me["apiLimits"]["requestBytes"] == 4096


async def test_permission_me_grants_everything(make_mock):
    client = await start_mock(make_mock)
    full = {"permissions": {"project": {"read": True, "create": True, "update": True, "delete": True}}}
    for query in ("", f"?project_id={ARCHIVED}"):
        response, body = await call(client, "GET", "/permission/me" + query)
        check_ok(response)
        assert body == full


async def test_permission_me_for_an_unknown_project_is_404(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "GET", "/permission/me?project_id=99")
    check_error(response, body, 404, "API_DATA_NOT_FOUND", r"^project 99 not found$")


@pytest.mark.parametrize("value", ["abc", "0", "1.5", "-3", "2147483648"])
async def test_permission_me_with_a_malformed_project_id_is_an_invalid_request(make_mock, value):
    client = await start_mock(make_mock)
    response, body = await call(client, "GET", "/permission/me", params={"project_id": value})
    check_error(response, body, 400, "API_INVALID_REQUEST", r"^project_id: must be an integer from 1 to 2147483647$")
