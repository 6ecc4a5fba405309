"""The mock as served: aiohttp's low-level server (what the command line runs) and the
`create_app` wrapper give the same answers; `Expect: 100-continue` works without the
application router that would normally answer it."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import TestClient, TestServer

from mockserver import MockConfig, create_app
from mockserver.service import MockService
from mockserver.testing import MockTestServer

SEED = {"ufdl": {"teams": [{"name": "t"}], "projects": [{"name": "p", "team": "t",
                                                          "creation_time": "2026-01-01T00:00:00Z"}]}}
VOLATILE = {"date", "x-request-id", "server"}


async def _raw_exchange(port: int, head: bytes, body: bytes) -> tuple[bytes, bytes]:
    """Send the head, read the interim answer (if any), then send the body and read the rest."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    final = b""
    if interim.startswith(b"HTTP/1.1 100"):
        writer.write(body)
        await writer.drain()
        final = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    writer.close()
    return interim, final


async def _obtain(client: TestClient) -> str:
    resp = await client.post("/v1/auth/obtain", json={"username": "admin", "password": "admin"})
    return (await resp.json())["access"]


async def test_expect_100_continue_gets_an_interim_answer_then_the_real_one(make_mock):
    client = await make_mock(apis=("ufdl",), seeds=SEED)
    access = await _obtain(client)
    body = json.dumps({"name": "after-continue", "team": 1}).encode()
    head = (f"POST /v1/projects/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {access}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode()
    interim, final = await _raw_exchange(client.server.port, head, body)
    assert interim.startswith(b"HTTP/1.1 100 Continue")
    assert final.startswith(b"HTTP/1.1 201 Created")
    listed = await client.post("/v1/projects/list", json={}, headers={"Authorization": f"Bearer {access}"})
    assert "after-continue" in [p["name"] for p in await listed.json()]


async def test_an_unknown_expectation_gets_417_as_json(make_mock):
    client = await make_mock(apis=("ufdl",), seeds=SEED)
    resp = await client.post("/v1/projects/create", data=b"{}", headers={"Expect": "teapot"})
    assert resp.status == 417
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert (await resp.json())["detail"] == "Expectation Failed"


async def test_the_app_wrapper_answers_like_the_low_level_server():
    config = MockConfig(apis=("ufdl", "testiny"), access_log=False, demo_data=False)
    raw = TestClient(MockTestServer(MockService(config, seeds=SEED)))
    wrapped = TestClient(TestServer(create_app(config, seeds=SEED)))
    answers = []
    for client in (raw, wrapped):
        await client.start_server()
        access = await _obtain(client)
        auth = {"Authorization": f"Bearer {access}"}
        seen = []
        for method, path, kwargs in [
            ("GET", "/v1/projects/1", {"headers": auth}),
            ("GET", "/v1/projects/1", {}),
            ("PATCH", "/v1/projects/1", {"headers": auth, "json": {"name": "q"}}),
            ("DELETE", "/v1/projects/99", {"headers": auth}),
            ("PUT", "/v1/projects/list", {"headers": auth}),
            ("OPTIONS", "/v1/projects/1", {"headers": {"Origin": "http://a", "Access-Control-Request-Method": "GET"}}),
            ("GET", "/api/v1/project/1", {"headers": {"X-Api-Key": "nope"}}),
            ("GET", "/nowhere", {}),
        ]:
            resp = await client.request(method, path, **kwargs)
            headers = sorted((k, v) for k, v in resp.headers.items() if k.lower() not in VOLATILE)
            body = await resp.read()
            seen.append((method, path, resp.status, headers, json.loads(body) if body else None))
        answers.append(seen)
        await client.close()
    for mine, theirs in zip(*answers, strict=True):
        if mine[1].startswith("/api/"):  # Testiny's reqid differs per request
            mine[4].pop("reqid"), theirs[4].pop("reqid")
        assert mine == theirs
