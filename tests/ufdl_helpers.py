"""Shared pieces of the UFDL HTTP tests: a seed, token helpers, a request helper and the header
assertions every DRF answer has to pass (`Allow`, `Vary`, CORS, Content-Type, WWW-Authenticate).

Seeded records and their pks (per-table counters from 1, the superuser first):
  users    admin 1 (superuser) · alice 2 · bob 3 · xena 4 · dave 5 · erin 6 · staff 7 (is_staff only)
  teams    team-a 1: alice W, bob R, xena X, dave A · team-b 2: alice R
  projects Alpha 1 (team-a) · Beta 2 (team-a) · Gamma 3 (team-b) · Old 4 (team-a, soft-deleted)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

ALLOW_COLLECTION = "POST, OPTIONS"
ALLOW_DETAIL = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
ALLOW_SOFT = "DELETE, OPTIONS"
ALLOW_MEMBERSHIPS = "PATCH, OPTIONS"
ALLOW_READ = "GET, HEAD, OPTIONS"

NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_PROJECT = {"detail": "No Project matches the given query."}
NO_TEAM = {"detail": "No Team matches the given query."}
NO_USER = {"detail": "No User matches the given query."}
ROUTE_NOT_FOUND = {"detail": "Not found."}
REQUIRED = ["This field is required."]
BLANK = ["This field may not be blank."]
NULL = ["This field may not be null."]
NOT_A_STRING = ["Not a valid string."]
TOO_LONG = ["Ensure this field has no more than 200 characters."]
UNIQUE = {"detail": "UNIQUE constraint failed: ufdl_core_project.name, ufdl_core_project.team_id"}
PROJECT_KEYS = ["pk", "name", "team", "creator", "creation_time", "deletion_time"]
TEAM_KEYS = ["pk", "name", "members", "creator", "creation_time", "deletion_time"]
USER_KEYS = ["username", "pk", "last_login", "is_superuser", "first_name", "last_name", "email", "is_staff",
             "is_active", "date_joined"]
MEMBERSHIP_KEYS = ["user", "team", "permissions", "creator", "creation_time", "deletion_time"]
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"

ADMIN, ALICE, BOB, XENA, DAVE, ERIN, STAFF = 1, 2, 3, 4, 5, 6, 7
TEAM_A, TEAM_B = 1, 2
ALPHA, BETA, GAMMA, OLD = 1, 2, 3, 4

SEED: dict[str, Any] = {
    "users": [
        {"username": "alice", "password": "alice-pw"},
        {"username": "bob", "password": "bob-pw"},
        {"username": "xena", "password": "xena-pw"},
        {"username": "dave", "password": "dave-pw"},
        {"username": "erin", "password": "erin-pw"},
        {"username": "staff", "password": "staff-pw", "is_staff": True},
    ],
    "teams": [
        {"name": "team-a", "members": [
            {"username": "alice", "permissions": "W"},
            {"username": "bob", "permissions": "R"},
            {"username": "xena", "permissions": "X"},
            {"username": "dave", "permissions": "A"},
        ]},
        {"name": "team-b", "members": [{"username": "alice", "permissions": "R"}]},
    ],
    "projects": [
        {"name": "Alpha", "team": "team-a", "creator": "alice", "creation_time": "2026-01-01T00:00:01.000001Z"},
        {"name": "Beta", "team": "team-a", "creator": "alice", "creation_time": "2026-01-01T00:00:02.000002Z"},
        {"name": "Gamma", "team": "team-b", "creator": "admin", "creation_time": "2026-01-01T00:00:03.000003Z"},
        {"name": "Old", "team": "team-a", "creator": "alice", "creation_time": "2026-01-01T00:00:04.000004Z",
         "deleted": True},
    ],
}
PASSWORDS = {"admin": "admin", **{u["username"]: u["password"] for u in SEED["users"]}}


@dataclass
class Answer:
    """One response: the aiohttp response (headers, status) and its decoded body."""

    response: ClientResponse
    raw: bytes

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def headers(self) -> Any:
        return self.response.headers

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None


async def ufdl(make_mock: Any, seed: dict[str, Any] | None = None, **settings: Any) -> TestClient:
    """A strict UFDL mock seeded with SEED (or `seed`)."""
    return await make_mock(apis=("ufdl",), seeds={"ufdl": SEED if seed is None else seed}, **settings)


async def tokens(client: TestClient, username: str, password: str | None = None) -> dict[str, str]:
    resp = await client.post("/v1/auth/obtain", json={"username": username,
                                                       "password": password or PASSWORDS[username]})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def token(client: TestClient, username: str = "admin") -> str:
    return (await tokens(client, username))["access"]


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


_UNSET: Any = object()


async def call(client: TestClient, method: str, path: str, *, user: str | None = None, access: str | None = None,
               json_body: Any = _UNSET, data: Any = None, headers: dict[str, str] | None = None) -> Answer:
    """Send one request; `user` logs in first (obtain), `access` uses a given token."""
    all_headers = dict(headers or {})
    if user is not None:
        access = await token(client, user)
    if access is not None:
        all_headers.setdefault("Authorization", f"Bearer {access}")
    kwargs: dict[str, Any] = {"headers": all_headers}
    if json_body is not _UNSET:
        kwargs["json"] = json_body
    elif data is not None:
        kwargs["data"] = data
    resp = await client.request(method, path, **kwargs)
    raw = await resp.read()
    return Answer(resp, raw)


def check(answer: Answer, status: int, body: Any = _UNSET, *, allow: str | None = None, keys: list[str] | None = None
          ) -> Any:
    """Assert the status, the DRF headers and (optionally) the exact body and its key order."""
    assert answer.status == status, (answer.status, answer.raw[:500])
    headers = answer.headers
    # any origin may call: `*`, or the page's own origin when it sends one (so that it may send cookies)
    assert headers.get("Access-Control-Allow-Origin") == answer.response.request_info.headers.get("Origin", "*")
    assert headers.get("Vary") == "Accept, Origin"
    if allow is not None:
        assert headers.get("Allow") == allow, headers.get("Allow")
    if status == 401:
        assert headers.get("WWW-Authenticate") == 'Bearer realm="api"'
    else:
        assert "WWW-Authenticate" not in headers
    if status == 204:
        assert "Content-Type" not in headers
        assert answer.raw == b""
        return None
    assert headers.get("Content-Type") == "application/json"
    value = answer.body
    if body is not _UNSET:
        assert value == body, value
        if isinstance(body, dict):
            assert list(value) == list(body), list(value)
    if keys is not None:
        assert list(value) == keys, list(value)
    return value


def check_project(answer: Answer, status: int = 200, *, allow: str = ALLOW_DETAIL, **expected: Any) -> dict[str, Any]:
    """A project answer: key order, timestamp format, and the given field values."""
    import re

    value = check(answer, status, allow=allow, keys=PROJECT_KEYS)
    assert re.fullmatch(TIMESTAMP, value["creation_time"]), value
    if value["deletion_time"] is not None:
        assert re.fullmatch(TIMESTAMP, value["deletion_time"]), value
    for key, wanted in expected.items():
        assert value[key] == wanted, (key, value)
    return value


async def list_names(client: TestClient, body: Any = _UNSET, user: str = "admin") -> list[str]:
    answer = await call(client, "POST", "/v1/projects/list", user=user, json_body=body)
    value = check(answer, 200, allow=ALLOW_COLLECTION)
    return [p["name"] for p in value]
