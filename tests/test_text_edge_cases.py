"""Text the mock cannot encode as UTF-8 never breaks it: a lone surrogate in a stored value, and
header bytes that are not UTF-8, get the API's answer — never a 500 — and nothing stored becomes
unreadable (reads, finds, the state dump and the state file keep working)."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from mockserver import MockConfig
from mockserver.jsonio import dumps
from mockserver.service import MockService
from mockserver.testing import MockTestServer

KEY = {"X-Api-Key": "testiny-mock-demo-key"}


def test_a_lone_surrogate_is_encoded_as_an_escape_as_javascript_does():
    data = dumps({"name": "abc\ud800", "other": "é"})
    assert data == b'{"name":"abc\\ud800","other":"\\u00e9"}'
    assert json.loads(data) == {"name": "abc\ud800", "other": "é"}


async def test_a_testiny_name_with_a_lone_surrogate_stays_readable_everywhere(make_mock, tmp_path):
    client = await make_mock(apis=("testiny",))
    raw = b'{"name": "abc\\ud800", "description": "x\\udfff"}'
    created = await client.post("/api/v1/project", data=raw, headers={**KEY, "Content-Type": "application/json"})
    assert created.status == 200, await created.text()
    project = await created.json()
    assert project["name"] == "abc\ud800"
    read = await client.get(f"/api/v1/project/{project['id']}", headers=KEY)
    assert read.status == 200 and (await read.json())["description"] == "x\udfff"
    found = await client.post("/api/v1/project/find", json={}, headers=KEY)
    assert found.status == 200 and project["id"] in [p["id"] for p in (await found.json())["data"]]
    state = await client.get("/__mock__/state")
    assert state.status == 200


async def test_the_state_file_keeps_a_lone_surrogate_across_a_restart(tmp_path):
    path = tmp_path / "state.json"
    first = MockService(MockConfig(apis=("testiny",), demo_data=False, access_log=False, state_file=path))
    server = MockTestServer(first)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{server.port}/api/v1/project", headers={
                    **KEY, "Content-Type": "application/json"}, data=b'{"name": "abc\\ud800"}') as answer:
                assert answer.status == 200
                pk = (await answer.json())["id"]
    finally:
        await server.close()
    second = MockService(MockConfig(apis=("testiny",), demo_data=False, access_log=False, state_file=path))
    server = MockTestServer(second)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{server.port}/api/v1/project/{pk}", headers=KEY) as answer:
                assert answer.status == 200 and (await answer.json())["name"] == "abc\ud800"
    finally:
        await server.close()


async def raw_request(port: int, head: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(65536), timeout=10)
    writer.close()
    return data


async def test_header_bytes_that_are_not_utf8_are_refused_in_the_api_envelope():
    service = MockService(MockConfig(demo_data=False, access_log=False, control_token="s3cret"))
    server = MockTestServer(service)
    await server.start_server()
    try:
        bearer = await raw_request(server.port, b"POST /v1/projects/list HTTP/1.1\r\nHost: x\r\n"
                                                b"Authorization: Bearer \xff\xfe\r\nContent-Length: 0\r\n\r\n")
        assert bearer.startswith(b"HTTP/1.1 401"), bearer[:200]
        assert b"token_not_valid" in bearer
        control = await raw_request(server.port, b"GET /__mock__/state HTTP/1.1\r\nHost: x\r\n"
                                                 b"X-Mock-Token: \xff\xfe\r\n\r\n")
        assert control.startswith(b"HTTP/1.1 401"), control[:200]
    finally:
        await server.close()
