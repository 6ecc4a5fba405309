"""Abuse: thousands of malformed requests get 4xx in the API's envelope, never a 5xx or a dropped
connection; 64 concurrent writers lose and duplicate nothing."""

from __future__ import annotations

import asyncio
import json
import random

import aiohttp
import pytest

from mockserver import MockConfig
from mockserver.apis import names
from mockserver.service import MockService
from mockserver.testing import MockTestServer

UFDL_PATHS = ["/v1/projects/list", "/v1/projects/create", "/v1/projects/1", "/v1/projects/1/hard",
              "/v1/projects/1/reinstate", "/v1/teams/1/memberships", "/v1/auth/obtain", "/v1/users/create",
              "/v1/projects/99999999999999999999999999", "/v1/projects/-1", "/v1/projects/%00", "/v1/teams/1",
              "/v1/teams/1/reinstate", "/v1/teams/1/hard", "/v1/teams/2/hard", "/v1/users/1", "/v1/users/2",
              "/v1/users/admin", "/v1/users/%ff", "/v1/users/a%2Fb", "/v1/teams/1/permissions/admin"]
TESTINY_PATHS = ["/api/v1/project", "/api/v1/project/1", "/api/v1/project/find", "/api/v1/project/bulk",
                 "/api/v1/project/undelete/1", "/api/v1/project/bulk/undelete", "/api/v1/account/me",
                 "/api/v1/project/99999999999999999999", "/api/v1/project/-5", "/api/v1/project?q=%7B%7D"]
JUNK_PATHS = ["/", "/v1", "/v1/", "/api", "/..%2f..%2fetc/passwd", "/v1/projects/1/../../x", "/%ff%fe", "/v1/projects/%E0%A5%A7%E0%A5%A8", "/v1/projects/7%20"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "PURGE", "REPORT"]  # llhttp itself refuses unknown tokens
CONTENT_TYPES = [None, "application/json", "application/json; charset=utf-8", "text/plain", "application/xml",
                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin-1",
                 "image/png", "application/vnd.api+json", ";;;", "application/json; boundary"]
AUTH = [None, "Bearer", "Bearer a b c", "Bearer " + "x" * 5000, "Basic YWRtaW46YWRtaW4=", "bearer abc",
        "Bearer eyJhbGciOiJub25lIn0.eyJ1cGsiOiIxIn0.", "Token 123", "\u00e9\u00e9"]


def bodies(rng: random.Random) -> list[bytes]:
    nested = b"[" * 5000 + b"]" * 5000
    return [
        b"", b"{", b"}", b"[]", b"null", b"0", b'"str"', b"true", b"{\"name\": }", b"\xff\xfe\xfd", b"\x00" * 64,
        nested, b'{"a":' * 300 + b"1" + b"}" * 300, json.dumps({"name": "x" * 100_000, "team": 1}).encode(),
        json.dumps({"name": "\ud800", "team": "\u0000"}).encode(), b'{"name": NaN, "team": Infinity}',
        json.dumps({"expressions": [{"type": "or", "sub_expressions": [{"type": "exact"}] * 3}]}).encode(),
        json.dumps({"filter": {"or": [{"name": {"op": "like", "value": "%"}}] * 50}}).encode(),
        json.dumps([{"name": "bulk", "id": -1}] * 3).encode(), json.dumps({"name": 1e308, "team": -1e308}).encode(),
        json.dumps({"team": 2**70, "name": ["a"]}).encode(), bytes(rng.getrandbits(8) for _ in range(256)),
        "{\"name\": \"\u202e\u200b\ufeff\U0001f600\"}".encode(), b"a=1&a=2&name=&team=x",
    ]


@pytest.fixture
async def live_mock():
    # strict: every answer is also checked against the spec (the test asserts no contract violation)
    service = MockService(MockConfig(demo_data=True, access_log=False, strict=True, max_body_bytes=64 * 1024))
    server = MockTestServer(service)
    await server.start_server()
    yield service, f"http://127.0.0.1:{server.port}"
    await server.close()


def envelope_ok(path: str, body: bytes) -> bool:
    """A 4xx body is JSON in the envelope of the API that owns the path."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    if path.startswith("/api/"):
        return isinstance(data, dict) and {"code", "status", "message", "reqid"} <= set(data)
    return isinstance(data, dict) and bool(data)


async def test_thousands_of_malformed_requests_never_get_a_5xx_or_a_dropped_connection(live_mock):
    service, base = live_mock
    rng = random.Random(20261125)
    paths = UFDL_PATHS + JUNK_PATHS + (TESTINY_PATHS if "testiny" in names() else [])
    samples = bodies(rng)
    problems: list[str] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as session:
        async with session.post(base + "/v1/auth/obtain", json={"username": "admin", "password": "admin"}) as r:
            admin = "Bearer " + (await r.json())["access"]  # junk sent as an admin reaches the actions too
        auth_choices = [*AUTH, admin, admin, admin]

        async def one(index: int) -> None:
            method, path = rng.choice(METHODS), rng.choice(paths)
            headers = {}
            if (ctype := rng.choice(CONTENT_TYPES)) is not None:
                headers["Content-Type"] = ctype
            if (auth := rng.choice(auth_choices)) is not None:
                headers["Authorization"] = auth
            if rng.random() < 0.3:
                headers["X-Api-Key"] = rng.choice(["", "nope", "x" * 300])
            if rng.random() < 0.1:
                headers["Accept"] = rng.choice(["application/xml", "*/*", "text/html;q=0.1", "garbage"])
            body = rng.choice(samples)
            url = aiohttp.client.URL(base + path, encoded=True)
            try:
                async with session.request(method, url, data=body, headers=headers) as response:
                    payload = await response.read()
            except aiohttp.ClientError as exc:
                problems.append(f"{method} {path}: connection problem {exc!r}")
                return
            if response.status >= 500:
                problems.append(f"{method} {path} {headers} -> {response.status} {payload[:200]!r}")
            elif response.status >= 400 and method != "HEAD" and not envelope_ok(path, payload):
                problems.append(f"{method} {path} -> {response.status} not in the API envelope: {payload[:200]!r}")

        for batch in range(20):
            await asyncio.gather(*(one(batch * 100 + i) for i in range(100)))
        for path in UFDL_PATHS:  # and every route and method as an admin, without a body: the actions run
            for method in METHODS:
                async with session.request(method, aiohttp.client.URL(base + path, encoded=True),
                                           headers={"Authorization": admin}) as response:
                    if response.status >= 500:
                        problems.append(f"{method} {path} as admin -> {response.status} {(await response.read())[:200]!r}")
    assert not problems, f"{len(problems)} bad answers, e.g.:\n" + "\n".join(problems[:10])
    async with aiohttp.ClientSession() as session, session.get(base + "/__mock__/health") as alive:
        assert alive.status == 200
    assert all(not runtime.contract_violations for runtime in service.runtimes)


async def test_64_concurrent_writers_lose_and_duplicate_nothing(live_mock):
    _, base = live_mock
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        async with session.post(base + "/v1/auth/obtain", json={"username": "admin", "password": "admin"}) as r:
            headers = {"Authorization": f"Bearer {(await r.json())['access']}"}

        async def writer(n: int) -> list[int]:
            mine = []
            for i in range(10):
                async with session.post(base + "/v1/projects/create", headers=headers,
                                        json={"name": f"w{n}-{i}", "team": 1}) as r:
                    assert r.status == 201, await r.text()
                    mine.append((await r.json())["pk"])
            for pk in mine[:5]:
                async with session.patch(f"{base}/v1/projects/{pk}", headers=headers, json={"name": f"w{n}-{pk}-x"}) as r:
                    assert r.status == 200
            for pk in mine[5:8]:
                async with session.delete(f"{base}/v1/projects/{pk}", headers=headers) as r:
                    assert r.status == 204
            return mine

        created = await asyncio.gather(*(writer(n) for n in range(64)))
        pks = [pk for mine in created for pk in mine]
        assert len(pks) == len(set(pks)) == 640
        async with session.post(base + "/v1/projects/list", headers=headers, json={"include_inactive": True}) as r:
            listed = {p["pk"]: p for p in await r.json()}
    assert set(pks) <= set(listed)
    for n, mine in enumerate(created):
        assert [listed[pk]["name"] for pk in mine[:5]] == [f"w{n}-{pk}-x" for pk in mine[:5]]
        assert all(listed[pk]["deletion_time"] for pk in mine[5:8])
        assert all(listed[pk]["deletion_time"] is None for pk in mine[8:])


@pytest.mark.parametrize("api, path, headers, envelope", [
    ("ufdl", "/v1/projects/create", {}, {"detail": "Request body exceeded the limit of 2048 bytes."}),
    ("testiny", "/api/v1/project", {"X-Api-Key": "k"}, None),
])
async def test_a_body_over_the_limit_gets_413_in_the_api_envelope(make_mock, api, path, headers, envelope):
    if api not in names():
        pytest.skip(f"{api} is not served by this build")
    seeds = {}
    client = await make_mock(apis=(api,), max_body_bytes=2048, seeds=seeds)
    if api == "testiny":
        headers = {"X-Api-Key": client.server.service.runtimes[0].options.api_keys[0]}
    response = await client.post(path, json={"name": "x" * 10_000, "team": 1}, headers=headers)
    assert response.status == 413
    body = await response.json()
    if envelope is not None:
        assert body == envelope
    else:
        assert body["code"] == "API_DATA_TOO_LARGE" and body["status"] == 413 and body["reqid"]
