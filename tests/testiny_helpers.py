"""Shared pieces of the Testiny HTTP tests: a seed, a strict mock, a request helper, a settable
clock, and the assertions every Testiny answer has to pass (envelope, `X-Request-Id`).

Seeded projects (ids from 1, created by the system user 0):
  Demo Project 1 (DP) · Mobile App 2 (MOB) · Archived Web Shop 3 (WEB, soft-deleted)
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from mockserver.apis.testiny.options import DEMO_API_KEY, TestinyOptions
from mockserver.apis.testiny.state import TestinyState

KEY = DEMO_API_KEY
OTHER_KEY = "second-key"
BASE = "/api/v1"
DEMO, MOBILE, ARCHIVED = 1, 2, 3
SEED: dict[str, Any] = {
    "projects": [
        {"name": "Demo Project", "project_key": "DP", "description": "The quickstart project"},
        {"name": "Mobile App", "project_key": "MOB", "description": "iOS and Android"},
        {"name": "Archived Web Shop", "project_key": "WEB", "description": "Old", "deleted": True},
    ],
}
PROJECT_KEYS = ["id", "is_deleted", "created_at", "created_by", "_etag", "owner_user_id", "name", "project_key",
                "description"]
ERROR_KEYS = ["code", "status", "message", "reqid"]
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
START = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def start_mock(make_mock, seed: dict[str, Any] | None = None, *, keys: tuple[str, ...] = (),
                  **settings: Any) -> TestClient:
    """A strict mock serving only Testiny; `seed=None` uses SEED, `{}` starts empty."""
    if keys:
        settings["api_options"] = {"testiny": TestinyOptions((KEY, *keys))}
    return await make_mock(apis=("testiny",), seeds={"testiny": SEED if seed is None else seed}, **settings)


def store_of(client: TestClient) -> TestinyState:
    return next(r for r in client.server.service.runtimes if r.name == "testiny").state


def use_clock(client: TestClient, start: datetime = START) -> FakeClock:
    clock = FakeClock(start)
    store_of(client).clock = clock
    return clock


async def call(client: TestClient, method: str, path: str, body: Any = None, *, key: str | None = KEY,
               headers: dict[str, str] | None = None, **kwargs: Any) -> tuple[ClientResponse, Any]:
    """One request under BASE with the demo key (or `key=None`); returns the response and its JSON."""
    sent = {"X-Api-Key": key} if key is not None else {}
    sent.update(headers or {})
    if body is not None:
        kwargs["json"] = body
    response = await client.request(method, BASE + path, headers=sent, **kwargs)
    text = await response.text()
    if response.content_type == "application/json" and text:
        return response, json.loads(text)
    return response, text


def check_ok(response: ClientResponse, status: int = 200) -> None:
    assert response.status == status
    assert response.content_type == "application/json"
    assert response.headers.get("X-Request-Id")


def check_error(response: ClientResponse, body: Any, status: int, code: str, message: str | None = None) -> None:
    """The Testiny envelope: exactly code/status/message/reqid, reqid equal to the X-Request-Id header."""
    assert response.status == status, body
    assert response.content_type == "application/json"
    assert isinstance(body, dict) and list(body) == ERROR_KEYS, body
    assert body["code"] == code, body
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert body["reqid"] and body["reqid"] == response.headers.get("X-Request-Id")
    if message is not None:
        assert re.search(message, body["message"]), body["message"]


def check_project(project: dict[str, Any], **expected: Any) -> None:
    """A project as the API returns it: the required keys in order, timestamps in the 24-char format."""
    assert [k for k in project if k in PROJECT_KEYS] == PROJECT_KEYS
    assert set(project) <= {*PROJECT_KEYS, "modified_at", "modified_by", "deleted_at", "deleted_by"}
    for name in ("created_at", "modified_at", "deleted_at"):
        if name in project:
            assert TIMESTAMP.fullmatch(project[name]), project[name]
    assert ("deleted_at" in project) == project["is_deleted"] == ("deleted_by" in project)
    assert ("modified_at" in project) == ("modified_by" in project)
    assert 1 <= len(project["_etag"]) <= 32
    for name, value in expected.items():
        assert project.get(name, "<absent>") == value, (name, project)


async def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response, body = await call(client, "POST", "/project", fields)
    check_ok(response)
    return body


async def read(client: TestClient, project_id: int) -> dict[str, Any]:
    response, body = await call(client, "GET", f"/project/{project_id}")
    check_ok(response)
    return body


async def find(client: TestClient, params: dict[str, Any]) -> dict[str, Any]:
    response, body = await call(client, "POST", "/project/find", params)
    check_ok(response)
    assert body["meta"]["count"] == len(body["data"]) or params.get("countOnly")
    return body


def ids(result: dict[str, Any] | list[dict[str, Any]]) -> list[int]:
    items = result["data"] if isinstance(result, dict) else result
    return [item["id"] for item in items]
