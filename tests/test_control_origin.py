"""The control API can be driven only by the mock's own pages and by clients that are not browsers:
a page of another origin, or one that reached the mock through a foreign DNS name (DNS rebinding),
is refused — while the product APIs keep their CORS for frontends."""

from __future__ import annotations

import pytest

from mockserver.cli import build_parser, config_from_args, is_loopback

WRITES = [("POST", "/__mock__/reset"), ("POST", "/__mock__/seed"), ("POST", "/__mock__/purge?prefix=Alp"),
          ("DELETE", "/__mock__/journal"), ("POST", "/__mock__/faults"), ("GET", "/__mock__/state")]


@pytest.mark.parametrize(("method", "path"), WRITES)
async def test_a_page_of_another_origin_cannot_call_the_control_api(make_mock, method, path):
    client = await make_mock(apis=("ufdl",), demo_data=True)
    before = await (await client.get("/__mock__/state")).json()
    answer = await client.request(method, path, data="{}", headers={
        "Origin": "https://evil.example", "Content-Type": "text/plain"})
    assert answer.status == 403 and "other origins" in (await answer.json())["detail"]
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert await (await client.get("/__mock__/state")).json() == before


async def test_a_foreign_host_name_is_refused_so_dns_rebinding_gets_nothing(make_mock):
    client = await make_mock(apis=("ufdl",))
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example"):
        answer = await client.get("/__mock__/state", headers={"Host": host})
        assert answer.status == 403 and "Host" in (await answer.json())["detail"], host
    for host in ("localhost:8000", "127.0.0.1", "127.8.9.10:1", "[::1]:8000"):
        assert (await client.get("/__mock__/health", headers={"Host": host})).status == 200, host


async def test_with_a_control_token_other_host_names_are_served(make_mock):
    client = await make_mock(apis=("ufdl",), control_token="s3cret")
    answer = await client.get("/__mock__/state", headers={"Host": "mock.internal:8000", "X-Mock-Token": "s3cret"})
    assert answer.status == 200


async def test_the_mocks_own_pages_may_call_it(make_mock):
    client = await make_mock(apis=("ufdl",))
    host = f"127.0.0.1:{client.port}"
    answer = await client.post("/__mock__/reset", headers={"Origin": f"http://{host}", "Host": host})
    assert answer.status == 200


async def test_a_preflight_for_the_control_api_is_not_granted(make_mock):
    client = await make_mock(apis=("ufdl",))
    answer = await client.options("/__mock__/reset", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert answer.status == 403
    assert not any(name.startswith("Access-Control-") for name in answer.headers)


async def test_the_product_apis_keep_their_cors(make_mock):
    client = await make_mock(apis=("ufdl",))
    answer = await client.get("/v1/projects/1", headers={"Origin": "http://localhost:3000"})
    assert answer.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert (await client.get("/v1/projects/1")).headers["Access-Control-Allow-Origin"] == "*"  # no page: any


def test_loopback_is_judged_by_address_not_by_a_prefix():
    assert is_loopback("127.0.0.1") and is_loopback("127.3.2.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("127.example.com") and not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")
    config = config_from_args(build_parser().parse_args(["--host", "127.example.com"]))
    assert config.control is False  # not loopback, no token: no control API
