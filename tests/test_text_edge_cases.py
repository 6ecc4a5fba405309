"""Text that is not Unicode never breaks the mock: a lone surrogate is refused, in each API's own
400, wherever text comes in (bodies of both APIs, seeds, fault rules) and never stored; header
bytes that are not UTF-8 get the API's own 4xx; integers beyond 64 bits are read exactly."""

from __future__ import annotations

import asyncio
import json

import pytest

from mockserver import MockConfig
from mockserver.jsonio import dumps, loads
from mockserver.seeding import SeedError, load_seed_file
from mockserver.service import MockService
from mockserver.testing import MockTestServer

KEY = {"X-Api-Key": "testiny-mock-demo-key"}


def test_a_lone_surrogate_is_encoded_as_an_escape_as_javascript_does():
    data = dumps({"name": "abc\ud800", "other": "é"})
    assert data == b'{"name":"abc\\ud800","other":"\\u00e9"}'
    assert json.loads(data) == {"name": "abc\ud800", "other": "é"}


LONE = b'"abc\\ud800"'


async def test_a_lone_surrogate_is_refused_by_testiny_and_never_stored(make_mock):
    client = await make_mock(apis=("testiny",))
    json_key = {**KEY, "Content-Type": "application/json"}
    created = await client.post("/api/v1/project", data=b'{"name": "Kept"}', headers=json_key)
    project = await created.json()
    attempts = [("POST", "/api/v1/project", b'{"name": ' + LONE + b'}', "name: holds U+D800"),
                ("PUT", f"/api/v1/project/{project['id']}?force=true", b'{"description": ' + LONE + b'}',
                 "description: holds U+D800"),
                ("POST", "/api/v1/project/bulk", b'[{"name": "fine one"}, {"name": ' + LONE + b'}]',
                 "item 1: name: holds U+D800"),
                ("POST", "/api/v1/project/find", b'{"filter": {"name": ' + LONE + b'}}', "holds U+D800")]
    for method, path, body, message in attempts:
        answer = await client.request(method, path, data=body, headers=json_key)
        payload = await answer.json()
        assert answer.status == 400 and payload["code"] == "API_INVALID_INPUT_DATA", payload
        assert message in payload["message"] and "lone surrogate" in payload["message"]
    found = await (await client.post("/api/v1/project/find", json={}, headers=KEY)).json()
    assert [p["name"] for p in found["data"]] == ["Kept"]  # nothing of the refused calls was stored
    assert found["data"][0]["description"] == ""


async def test_the_control_api_refuses_a_lone_surrogate_in_seeds_and_fault_rules(make_mock):
    client = await make_mock()
    json_only = {"Content-Type": "application/json"}
    seed = await client.post("/__mock__/seed", data=b'{"testiny": {"projects": [{"name": ' + LONE + b'}]}}',
                             headers=json_only)
    assert seed.status == 400 and "testiny.projects.0.name: holds U+D800" in (await seed.json())["errors"][0]
    fault = await client.post("/__mock__/faults", data=b'{"path": ' + LONE + b', "status": 500}', headers=json_only)
    assert fault.status == 400 and "lone surrogate" in (await fault.json())["errors"][0]
    assert await (await client.get("/__mock__/faults")).json() == []
    assert (await client.get("/__mock__/state")).status == 200


def test_a_seed_file_with_a_lone_surrogate_is_refused_naming_the_place(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_bytes(b'{"ufdl": {"teams": [{"name": "vision"}, {"name": ' + LONE + b'}]}}')
    with pytest.raises(SeedError) as refused:
        load_seed_file(seed)
    assert str(seed) in str(refused.value) and "ufdl.teams[1].name: holds U+D800" in str(refused.value)


async def test_ufdl_refuses_a_lone_surrogate_as_drf_does(make_mock):
    client = await make_mock(apis=("ufdl",))
    pair = await (await client.post("/v1/auth/obtain", json={"username": "admin", "password": "admin"})).json()
    headers = {"Authorization": "Bearer " + pair["access"], "Content-Type": "application/json"}
    answer = await client.post("/v1/teams/create", data=b'{"name": ' + LONE + b'}', headers=headers)
    assert answer.status == 400 and await answer.json() == {"name": ["Surrogate characters are not allowed: U+D800."]}


async def test_integers_beyond_64_bits_are_read_exactly(make_mock):
    client = await make_mock(apis=("ufdl",))
    pair = await (await client.post("/v1/auth/obtain", json={"username": "admin", "password": "admin"})).json()
    headers = {"Authorization": "Bearer " + pair["access"], "Content-Type": "application/json"}
    answer = await client.post("/v1/projects/create", data=b'{"name": "x", "team": 1180591620717411303424}',
                               headers=headers)
    assert answer.status == 400
    assert await answer.json() == {"team": ['Invalid pk "1180591620717411303424" - object does not exist.']}


def test_json_integers_of_any_size_stay_exact():
    assert loads(b'[18446744073709551616, -9223372036854775809, 12345678901234567890123]') == \
        [2**64, -(2**63) - 1, 12345678901234567890123]
    assert loads(b'{"n": 9223372036854775807}') == {"n": 2**63 - 1}


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
        accept = await raw_request(server.port, b"GET /api/v1/project/1 HTTP/1.1\r\nHost: x\r\n"
                                                b"X-Api-Key: testiny-mock-demo-key\r\nAccept: \xff\r\n\r\n")
        assert accept.startswith(b"HTTP/1.1 400") and b'"code":"API_INVALID_REQUEST"' in accept, accept[:300]
    finally:
        await server.close()
