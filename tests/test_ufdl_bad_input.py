"""UFDL under junk: bodies, types, methods, pks, filter fields, Authorization headers and content
types that no client should send. Every answer must be a 4xx in the DRF envelope (`{"detail": ...}`
or field errors) with the usual headers, never a 5xx; strict mode also checks each against the spec."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ufdl_helpers import Answer, call, token, ufdl

ROUTES = [  # (method, path) of every operation, on records that exist in the seed
    ("POST", "/v1/auth/obtain"), ("POST", "/v1/auth/refresh"), ("POST", "/v1/auth/verify"),
    ("POST", "/v1/users/create"), ("POST", "/v1/users/list"), ("GET", "/v1/users/2"),
    ("POST", "/v1/teams/create"), ("POST", "/v1/teams/list"), ("GET", "/v1/teams/1"), ("DELETE", "/v1/teams/2"),
    ("PATCH", "/v1/teams/1/memberships"), ("GET", "/v1/teams/1/permissions/bob"),
    ("POST", "/v1/projects/list"), ("POST", "/v1/projects/create"), ("GET", "/v1/projects/1"),
    ("PUT", "/v1/projects/1"), ("PATCH", "/v1/projects/1"), ("DELETE", "/v1/projects/2"),
    ("DELETE", "/v1/projects/3/hard"), ("DELETE", "/v1/projects/4/reinstate"),
]
BODY_ROUTES = [r for r in ROUTES if r[0] in ("POST", "PUT", "PATCH")]

JUNK_BODIES: list[bytes] = [
    b"null", b"0", b"-1", b"1.5", b"1e400", b'"text"', b"true", b"[]", b"[1, 2]", b'[{"name": "x"}]', b"{", b"}",
    b"\xff\xfe", b"\x00", b'{"name": {"$gt": ""}, "team": {"$ne": null}}', b'{"name": "x", "team": 1e400}',
    b'{"name": "x", "team": 99999999999999999999999}', b'{"name": "x", "team": -99999999999999999999999}',
    b'{"name": "\\ud800", "team": 1}', b'{"name": "' + b"x" * 5000 + b'", "team": 1}',
    b'{"username": ["admin"], "password": {"a": 1}}', b'{"refresh": 123, "token": null}',
    b'{"expressions": [{"type": "exact", "field": "name", "value": 1e400}]}',
    b'{"expressions": [{"type": "compare", "field": "pk", "operator": "<", "value": 99999999999999999999999}]}',
    b'{"expressions": [{"type": "exact", "field": "creation_time", "value": "2026-13-45T99:99:99Z"}]}',
    b'{"order_by": [{"field": "team.creator.username.x"}]}',
    b'{"username": "bob", "method": "add", "permissions": null}', b'{"username": "", "method": "add"}',
    b'{"name": "' + "é".encode() * 300 + b'", "team": "1"}', b'{"team": "\\u0661"}', b'{"team": " "}',
    b'{"a": 1, "a": 2}', b'{"name": "x", "team": 1, "name": ""}',
]
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/plain", "application/xml",
                 "application/x-www-form-urlencoded", "text/html; charset=latin-1", "image/png", "application/jsonx",
                 "application", "*/*", "application/json; charset=utf-8; extra=1"]
AUTH_HEADERS = ["", "Bearer", "Bearer ", "Bearer  ", "bearer x", "Bearer x y z", "Bearer " + "x" * 8000,
                "Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.eyJqdHQiOiJhY2Nlc3MiLCJ1cGsiOiIxIn0.", "Basic Og==",
                "Bearer é", "Token", "Digest username=x", ",", "Bearer\tabc"]


def assert_drf_error(answer: Answer, *, route_known: bool = True, head: bool = False) -> None:
    """A 4xx in the DRF envelope with CORS, Vary, Allow (on known routes) and the 401 challenge."""
    status, headers = answer.status, answer.headers
    assert 400 <= status < 500, (status, answer.raw[:300])
    assert headers.get("Access-Control-Allow-Origin") == "*"
    assert headers.get("Vary") == "Accept, Origin"
    assert ("Allow" in headers) == route_known, dict(headers)
    if status == 401:
        assert headers["WWW-Authenticate"] == 'Bearer realm="api"'
    if head:
        return
    assert headers.get("Content-Type") == "application/json"
    body = answer.body
    assert isinstance(body, dict) and body, body
    if "detail" in body:
        assert isinstance(body["detail"], str)
        assert set(body) <= {"detail", "code", "messages"}, body
    else:
        for messages in body.values():
            assert isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages), body


def assert_answer(answer: Answer, **kwargs: Any) -> None:
    """Success is allowed for some junk (a body that happens to be valid); otherwise a DRF 4xx."""
    assert answer.status < 500, (answer.status, answer.raw[:300])
    if answer.status >= 400:
        assert_drf_error(answer, **kwargs)


def is_json_container(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw), (dict, list))
    except ValueError:
        return False


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_junk_bodies_get_4xx_in_the_drf_envelope(make_mock, method, path):
    """Anonymous: always a 4xx. An admin: a 4xx unless the body is a JSON object or array that
    happens to be valid for the route (duplicate keys, an empty list body...)."""
    client = await ufdl(make_mock)
    admin = await token(client)
    for raw in JUNK_BODIES:
        for user in (admin, None):
            answer = await call(client, method, path, access=user, data=raw,
                                headers={"Content-Type": "application/json"})
            if user is None or not is_json_container(raw):
                assert_drf_error(answer)
            else:
                assert_answer(answer)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_odd_content_types_get_4xx_in_the_drf_envelope(make_mock, method, path):
    client = await ufdl(make_mock)
    admin = await token(client)
    for content_type in CONTENT_TYPES:
        for raw in (b'{"name": "x", "team": 1}', b"name=x&team=1", b"\x89PNG", b""):
            answer = await call(client, method, path, access=admin, data=raw, headers={"Content-Type": content_type})
            assert_answer(answer)


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_odd_authorization_headers_get_401_or_pass_through(make_mock, method, path):
    """No junk header authenticates: 401 everywhere but on the auth routes, which ignore the
    header and answer 400 for their missing fields, and on memberships, whose missing body is found
    before an absent header is (400) but after a malformed one (401), as on the real server."""
    client = await ufdl(make_mock)
    for header in AUTH_HEADERS:
        answer = await call(client, method, path, headers={"Authorization": header})
        assert_drf_error(answer)
        wanted = {400} if path.startswith("/v1/auth/") else {400, 401} if path.endswith("/memberships") else {401}
        assert answer.status in wanted, (header, answer.status)


@pytest.mark.parametrize("value", [None, True, 1.5, -1, 0, 2**70, "", "1", "abc", [], {}, [1], {"a": None}, "\u0000"])
async def test_wrong_types_in_every_field_are_4xx(make_mock, value):
    client = await ufdl(make_mock)
    admin = await token(client)
    bodies = {
        "/v1/auth/obtain": ["username", "password"], "/v1/auth/refresh": ["refresh"], "/v1/auth/verify": ["token"],
        "/v1/users/create": ["username", "password", "email", "first_name"], "/v1/teams/create": ["name"],
        "/v1/projects/create": ["name", "team"], "/v1/projects/list": ["expressions", "order_by", "include_inactive"],
        "/v1/teams/list": ["expressions", "order_by", "include_inactive"],
    }
    for path, fields in bodies.items():
        for field in fields:
            body = {f: "valid" for f in fields} | {field: value}
            assert_answer(await call(client, "POST", path, access=admin, json_body=body))
    for field in ("name", "team"):
        for method in ("PUT", "PATCH"):
            body = {"name": "x", "team": 1} | {field: value}
            assert_answer(await call(client, method, "/v1/projects/1", access=admin, json_body=body))
    for field in ("username", "method", "permissions"):
        body = {"username": "erin", "method": "add", "permissions": "R"} | {field: value}
        assert_answer(await call(client, "PATCH", "/v1/teams/1/memberships", access=admin, json_body=body))


async def test_wrong_methods_are_405_everywhere(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    for _, path in ROUTES:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "TRACE", "PURGE", "PROPFIND"):
            answer = await call(client, method, path, access=admin)
            if answer.status == 405:
                assert_drf_error(answer, head=method == "HEAD")
                if method != "HEAD":
                    assert answer.body == {"detail": f'Method "{method}" not allowed.'}
            else:
                assert_answer(answer, head=method == "HEAD")


PKS = ["99999999999999999999999", "18446744073709551616", "9223372036854775808", "0", "-1", "+1", "1e3", "0x1",
       "1.0", "\u0663", "%00", "%20", "abc", "1;2", "1,2", "..", "%2e%2e", "1%2F2", "00000000000000000000001"]


@pytest.mark.parametrize("pk", PKS)
async def test_huge_negative_and_odd_pks_are_404(make_mock, pk):
    client = await ufdl(make_mock)
    admin = await token(client)
    for method, template in [("GET", "/v1/projects/{}"), ("PUT", "/v1/projects/{}"), ("PATCH", "/v1/projects/{}"),
                             ("DELETE", "/v1/projects/{}"), ("DELETE", "/v1/projects/{}/hard"),
                             ("DELETE", "/v1/projects/{}/reinstate"), ("GET", "/v1/teams/{}"),
                             ("PATCH", "/v1/teams/{}/memberships"), ("GET", "/v1/teams/{}/permissions/bob"),
                             ("GET", "/v1/users/{}")]:
        for user in (admin, None):
            answer = await call(client, method, template.format(pk), access=user,
                                json_body={"username": "bob", "method": "update", "permissions": "R"})
            if pk == "00000000000000000000001":
                assert_answer(answer)
                continue
            if template == "/v1/users/{}" and answer.status == 200:  # not all digits: a username lookup
                assert user is admin and answer.body == [], (pk, answer.raw)
                assert answer.response.headers["Allow"] == "GET, HEAD, OPTIONS"
                continue
            assert answer.status in (401, 404), (method, template, answer.status, answer.raw)
            assert_drf_error(answer, route_known=answer.body["detail"] != "Not found.")


async def test_a_pk_with_thousands_of_digits_is_404(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "GET", "/v1/projects/" + "9" * 5000, user="admin")
    assert_drf_error(answer)


async def test_unknown_filter_fields_and_junk_filters_are_400(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    fields = ["nope", "", ".", "..", "team.", ".name", "team..name", "team.name.x", "creator.team", "name__icontains",
              "pk__gt", "team__creator__nope", "__class__", "password", "creator.password", "members",
              "team.members", "deletion_time.year", "x" * 1000, "name\u0000"]
    for field in fields:
        for expression in ({"type": "exact", "field": field, "value": "x"},
                           {"type": "contains", "field": field, "sub_string": "x"},
                           {"type": "isnull", "field": field},
                           {"type": "compare", "field": field, "operator": "<", "value": 1}):
            for path in ("/v1/projects/list", "/v1/teams/list", "/v1/users/list"):
                answer = await call(client, "POST", path, access=admin, json_body={"expressions": [expression]})
                assert answer.status == 400, (path, field, answer.raw)
                assert_drf_error(answer)
        answer = await call(client, "POST", "/v1/projects/list", access=admin, json_body={"order_by": [{"field": field}]})
        assert answer.status == 400, (field, answer.raw)
        assert_drf_error(answer)


async def test_body_beyond_the_size_limit_is_4xx(make_mock):
    client = await ufdl(make_mock, max_body_bytes=1024)
    admin = await token(client)
    big = b'{"name": "' + b"x" * 4096 + b'", "team": 1}'
    for method, path in BODY_ROUTES:
        answer = await call(client, method, path, access=admin, data=big, headers={"Content-Type": "application/json"})
        assert_drf_error(answer)


async def test_deeply_nested_json_is_a_400_parse_error(make_mock):
    client = await ufdl(make_mock)
    for raw in (b"[" * 100_000 + b"]" * 100_000, b'{"expressions": ' + b"[" * 500 + b"]" * 500 + b"}"):
        for path in ("/v1/projects/create", "/v1/projects/list"):
            answer = await call(client, "POST", path, user="admin", data=raw, headers={"Content-Type": "application/json"})
            assert_drf_error(answer)
            assert answer.status == 400 and answer.body["detail"].startswith("JSON parse error - "), answer.body


async def test_multipart_without_boundary_is_a_400_parse_error(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user="admin", data=b"--x\r\n\r\n",
                        headers={"Content-Type": "multipart/form-data"})
    assert_drf_error(answer)
    assert answer.status == 400 and answer.body["detail"].startswith("Multipart form parse error - ")


async def test_multipart_with_odd_field_names_is_parsed_and_the_odd_fields_ignored(make_mock):
    client = await ufdl(make_mock)
    body = (b"--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nFrom multipart\r\n"
            b"--b\r\nContent-Disposition: form-data; name=\"team\"\r\n\r\n1\r\n"
            b"--b\r\nContent-Disposition: form-data; name=\"\x01\xc3\xa9\"\r\n\r\nignored\r\n--b--\r\n")
    answer = await call(client, "POST", "/v1/projects/create", user="admin", data=body,
                        headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert answer.status == 201, answer.body
    assert answer.body["name"] == "From multipart"


@pytest.mark.parametrize("disposition", [b"form-data", b'form-data; name=""'])
async def test_a_multipart_part_without_a_field_name_is_skipped_as_django_does(make_mock, disposition):
    client = await ufdl(make_mock)
    body = (b"--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nNamed parts only\r\n"
            b"--b\r\nContent-Disposition: form-data; name=\"team\"\r\n\r\n1\r\n"
            b"--b\r\nContent-Disposition: " + disposition + b"\r\n\r\nskipped\r\n--b--\r\n")
    answer = await call(client, "POST", "/v1/projects/create", user="admin", data=body,
                        headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert answer.status == 201, answer.body  # the real server: 201 too (a nameless part is not a field)
    assert answer.body["name"] == "Named parts only"


async def test_a_path_with_an_encoded_newline_is_a_json_404(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "GET", "/v1/projects/1%0A2", user="admin")
    assert answer.status == 404 and answer.body == {"detail": "Not found."}


@pytest.mark.parametrize("body", [b"--b\r\nNone--b--\r\n", b"garbage"])
async def test_a_multipart_body_that_is_not_a_form_is_a_400_parse_error(make_mock, body):
    client = await ufdl(make_mock)
    answer = await call(client, "PATCH", "/v1/projects/1", user="admin", data=body,
                        headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert answer.status == 400 and answer.body["detail"].startswith("Multipart form parse error - "), answer.body


@pytest.mark.parametrize("body", [b"--b--\r\n", b"--b\r\n\r\nno headers\r\n--b--\r\n"])
async def test_a_multipart_form_without_fields_is_an_empty_body(make_mock, body):
    client = await ufdl(make_mock)
    answer = await call(client, "PATCH", "/v1/projects/1", user="admin", data=body,
                        headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert answer.status == 200  # the real server too: a part without a field name is no field
