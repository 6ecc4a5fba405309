"""Testiny wire errors: unknown routes and methods, bad path ids, malformed JSON, wrong body types and
media types, Accept, body size, the envelope with a fresh `reqid` on every answer, and a sweep of
junk input that must never produce a 5xx."""

from __future__ import annotations

import json

import pytest
from testiny_helpers import BASE, DEMO, ERROR_KEYS, KEY, call, check_error, check_ok, start_mock

from mockserver.apis.testiny.errors import render_error
from mockserver.errors import InjectedFault, InternalError

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("path", ["/nope", "/project/1/extra", "/projects", "/project/", "/Project", "/",
                                  "/project/bulk/undelete/1", "/account", "/project/find/1"])
async def test_an_unknown_route_is_route_not_found_with_or_without_a_key(make_mock, path):
    client = await start_mock(make_mock)
    for key in (KEY, None):
        response, body = await call(client, "GET", path, key=key)
        check_error(response, body, 404, "API_ROUTE_NOT_FOUND", r"^No route matches /api/v1")


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("PATCH", "/project/1", "GET, PUT, DELETE"), ("POST", "/project/1", "GET, PUT, DELETE"),
    ("GET", "/project/find", "POST"), ("GET", "/project/bulk", "POST, PUT, DELETE"),
    ("PUT", "/project", "GET, POST"), ("DELETE", "/project", "GET, POST"),
    ("GET", "/project/undelete/1", "POST"), ("GET", "/project/bulk/undelete", "POST"),
    ("POST", "/account/me", "GET"), ("DELETE", "/permission/me", "GET"),
])
async def test_a_method_the_route_lacks_is_route_not_found(make_mock, method, path, allowed):
    client = await start_mock(make_mock)
    response, body = await call(client, method, path)
    check_error(response, body, 404, "API_ROUTE_NOT_FOUND", rf"^No route for {method} here \(this path has {allowed}\)$")
    assert "Allow" not in response.headers


@pytest.mark.parametrize("path", ["/project/abc", "/project/0", "/project/-1", "/project/1.5", "/project/2147483648",
                                  "/project/+1", "/project/undelete", "/project/undelete/x"])
async def test_a_malformed_path_id_is_an_invalid_request_whatever_the_method(make_mock, path):
    client = await start_mock(make_mock)
    for method in ("GET", "PUT", "DELETE", "POST", "PATCH"):
        target = path.replace("/project/", "/project/undelete/", 1) if method == "POST" and "undelete" not in path \
            else path
        response, body = await call(client, method, target, {"name": "Body"} if method == "PUT" else None)
        check_error(response, body, 400, "API_INVALID_REQUEST", r"^id: must be an integer from 1 to 2147483647, got ")


async def test_a_path_id_with_leading_zeros_names_the_same_project(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "GET", "/project/001")
    check_ok(response)
    assert body["id"] == DEMO


@pytest.mark.parametrize("text", ["{", '{"name": "x",}', "{'name': 'abc'}", '{"name": "abc"} extra', "NaN",
                                  '{"name": NaN}', "\xff", "[1, 2", '"unterminated'])
async def test_malformed_json_is_invalid_input(make_mock, text):
    client = await start_mock(make_mock)
    for method, path in [("POST", "/project"), ("PUT", "/project/1"), ("POST", "/project/find"),
                         ("POST", "/project/bulk")]:
        response, body = await call(client, method, path, data=text.encode("latin-1"), headers=JSON)
        check_error(response, body, 400, "API_INVALID_INPUT", r"^Malformed JSON in the request body: ")


async def test_a_body_whose_content_encoding_fails_is_invalid_input(make_mock):
    client = await start_mock(make_mock)
    response, body = await call(client, "POST", "/project", data=b"not gzip",
                                headers={**JSON, "Content-Encoding": "gzip", "Connection": "close"})
    check_error(response, body, 400, "API_INVALID_INPUT", r"^Malformed JSON in the request body: .*gzip")


@pytest.mark.parametrize(("body", "kind"), [([{"name": "In an array"}], "array"), ("text", "string"), (12, "number"),
                                            (True, "boolean"), (None, "null")])
async def test_a_body_of_the_wrong_json_type_is_invalid_input(make_mock, body, kind):
    client = await start_mock(make_mock)
    for method, path in [("POST", "/project"), ("PUT", "/project/1"), ("POST", "/project/find")]:
        response, error = await call(client, method, path, data=json.dumps(body), headers=JSON)
        check_error(response, error, 400, "API_INVALID_INPUT", rf"^The request body must be a JSON object, not {kind}$")


@pytest.mark.parametrize(("method", "path"), [("POST", "/project"), ("PUT", "/project/1"), ("POST", "/project/find"),
                                              ("POST", "/project/bulk"), ("PUT", "/project/bulk"),
                                              ("POST", "/project/bulk/undelete")])
async def test_a_missing_body_is_invalid_input(make_mock, method, path):
    client = await start_mock(make_mock)
    for headers in ({}, JSON):
        response, body = await call(client, method, path, headers=headers)
        check_error(response, body, 400, "API_INVALID_INPUT", r"^A JSON request body is required$")


# only application/json is JSON (as the spec lists it); a +json suffix type is not taken for it
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                          "multipart/form-data; boundary=x", "", "application/vnd.testiny+json"])
async def test_a_body_that_is_not_json_by_its_content_type_is_invalid_input(make_mock, content_type):
    client = await start_mock(make_mock)
    headers = {"Content-Type": content_type} if content_type else {}
    response, body = await call(client, "POST", "/project", data=b'{"name": "Typed"}', headers=headers,
                                skip_auto_headers=["Content-Type"])
    check_error(response, body, 400, "API_INVALID_INPUT", r"^The request body must be JSON \(Content-Type: application")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "APPLICATION/JSON"])
async def test_json_media_types_with_parameters_are_accepted(make_mock, content_type):
    client = await start_mock(make_mock)
    response, body = await call(client, "POST", "/project", data=b'{"name": "Typed"}',
                                headers={"Content-Type": content_type})
    check_ok(response)
    assert body["name"] == "Typed"


@pytest.mark.parametrize(("accept", "ok"), [("application/json", True), ("*/*", True), ("application/*", True),
                                            ("text/html, application/json;q=0.9", True), ("text/html", False),
                                            ("application/xml", False)])
async def test_an_accept_header_without_json_is_an_invalid_request(make_mock, accept, ok):
    client = await start_mock(make_mock)
    response, body = await call(client, "GET", "/account/me", headers={"Accept": accept})
    if ok:
        check_ok(response)
    else:
        check_error(response, body, 400, "API_INVALID_REQUEST", r"^Accept: .* does not allow application/json")


async def test_a_body_over_the_limit_is_data_too_large(make_mock):
    client = await start_mock(make_mock, max_body_bytes=1024)
    response, body = await call(client, "POST", "/project/bulk", [{"name": f"Project {n}"} for n in range(100)])
    check_error(response, body, 413, "API_DATA_TOO_LARGE", r"^The request body exceeds 1024 bytes$")
    response, body = await call(client, "POST", "/project/bulk", [{"name": "x" * 2000}], key=None)
    check_error(response, body, 413, "API_DATA_TOO_LARGE")  # the size is checked before the key
    response, found = await call(client, "POST", "/project/find", {})
    assert [p["id"] for p in found["data"]] == [1, 2]


async def test_every_answer_carries_a_fresh_request_id(make_mock):
    client = await start_mock(make_mock)
    seen = set()
    for method, path in [("GET", "/account/me"), ("GET", "/project/1"), ("GET", "/project/99"), ("GET", "/nope"),
                         ("GET", "/account/me"), ("OPTIONS", "/project")]:
        response, _ = await call(client, method, path)
        request_id = response.headers["X-Request-Id"]
        assert request_id not in seen
        seen.add(request_id)


async def test_a_cors_preflight_is_answered_without_a_key(make_mock):
    client = await start_mock(make_mock)
    response = await client.options(BASE + "/project", headers={"Origin": "http://localhost:3000",
                                                                "Access-Control-Request-Method": "POST",
                                                                "Access-Control-Request-Headers": "x-api-key"})
    assert response.status == 204  # as Express's cors middleware answers
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"  # named: pages may send cookies
    assert response.headers["X-Request-Id"]


JUNK_BODIES: list[bytes] = [
    b"", b"{", b"}", b"[]", b"{}", b"null", b"0", b"-1e999", b'""', b"\x00\x01\x02", b"\xef\xbb\xbf{}",
    b'{"name": "\\ud800"}', b'{"name": ' + b"[" * 5000 + b"]" * 5000 + b"}", b'{"name": 1e400}',
    b'{"name": "ok name", "project_key": {"$ne": 1}}', b'{"__proto__": {"admin": true}, "name": "proto"}',
    b'{"id": 99999999999999999999999, "name": "big id"}', b'{"name": "' + b"x" * 5000 + b'"}',
    b'[{"id": 1}, "x", null, 3.5, {"id": -1}]', b'{"filter": {"id": {"op": "like", "value": ["%"]}}}',
    b'{"filter": {"or": [[[]]]}}', b'{"order": [{"column": "id", "order": "seq", "seq": ["a"]}]}',
    b'{"pagination": {"limit": 1e10, "offset": 1.5}}', b'{"ids": [1e309]}', b"\xff\xfe{}",
]
JUNK_TARGETS = [("POST", "/project"), ("PUT", "/project/1"), ("PUT", "/project/1?force=1"), ("POST", "/project/find"),
                ("POST", "/project/bulk"), ("PUT", "/project/bulk?force=true"), ("DELETE", "/project/bulk"),
                ("POST", "/project/bulk/undelete"), ("POST", "/project/undelete/1")]
ODD_REQUESTS: list[tuple[str, str, dict[str, str], bytes]] = [
    ("GET", "/project?q=" + "%7B" * 300, {}, b""),
    ("GET", "/project?q=eyJmaWx0ZXIiOnsiaWQiOjF9fQ", {}, b""),
    ("GET", "/project?q=%00%01", {}, b""),
    ("GET", "/project?q={}&q=[]", {}, b""),
    ("GET", "/project/" + "9" * 400, {}, b""),
    ("GET", "/project/%F0%9F%98%80", {}, b""),
    ("GET", "/project/1?force=maybe", {}, b""),
    ("GET", "/permission/me?project_id=" + "1" * 50, {}, b""),
    ("DELETE", "/project/bulk?ids=" + ",".join(["1"] * 2000), {}, b""),
    ("DELETE", "/project/bulk?ids=1&ids=x", {}, b""),
    ("TRACE", "/project", {}, b""),
    ("PATCH", "/project/abc", {}, b""),
    ("GET", "/account/me", {"X-Api-Key": "\t"}, b""),
    ("GET", "/account/me", {"X-Api-Key": "x" * 4000}, b""),
    ("GET", "/account/me", {"Accept": ";;,,q=x"}, b""),
    ("POST", "/project", {"Content-Type": "application/json; charset=latin-1"}, b'{"name": "caf\xe9"}'),
    ("POST", "/project", {"Content-Type": "application/json", "Content-Encoding": "gzip", "Connection": "close"},
     b"not gzip"),
    ("POST", "/project", {"Content-Type": "multipart/form-data"}, b"--x\r\n"),
]


async def test_junk_input_never_gives_a_5xx_and_always_the_envelope_with_a_fresh_reqid(make_mock):
    client = await start_mock(make_mock)
    requests = [(m, p, {"Content-Type": "application/json"}, b) for m, p in JUNK_TARGETS for b in JUNK_BODIES]
    requests += [(m, p, {"Content-Type": t}, b'{"name": "Typed"}') for m, p in JUNK_TARGETS[:2]
                 for t in ("text/plain", "application/jsonx", "json", "")]
    requests += ODD_REQUESTS
    reqids: set[str] = set()
    for method, path, headers, data in requests:
        sent = {"X-Api-Key": KEY, **headers}
        response = await client.request(method, BASE + path, headers=sent, data=data,
                                        skip_auto_headers=["Content-Type"])
        text = await response.text(errors="replace")
        where = f"{method} {path} {headers} {data[:60]!r}"
        assert response.status < 500, (where, text)
        request_id = response.headers.get("X-Request-Id")
        assert request_id and request_id not in reqids, where
        reqids.add(request_id)
        if response.status >= 400:
            body = json.loads(text)
            assert list(body) == ERROR_KEYS, (where, body)
            assert body["status"] == response.status and body["reqid"] == request_id, where
            assert body["code"].startswith("API_"), where
            assert len(body["message"]) <= 500, (where, body["message"])


def test_the_renderer_turns_injected_faults_and_internal_errors_into_the_envelope():
    for status, code in [(429, "API_TOO_MANY_REQUESTS"), (503, "API_SERVICE_UNAVAILABLE"), (421, "API_SERVICE_DRAINING"),
                         (418, "API_INVALID_REQUEST"), (507, "API_INTERNAL_ERROR")]:
        reply = render_error(InjectedFault(status, "injected"), "r1")
        assert (reply.status, reply.body) == (status, {"code": code, "status": status, "message": "injected",
                                                       "reqid": "r1"})
    reply = render_error(InternalError(KeyError("boom")), "r2")
    assert reply.status == 500 and reply.body["code"] == "API_INTERNAL_ERROR" and "KeyError" in reply.body["message"]


def test_the_renderer_re_raises_errors_it_does_not_know():
    with pytest.raises(ZeroDivisionError):
        render_error(ZeroDivisionError("bug"), "r1")
