"""UFDL wire basics: trailing slashes, leading zeros, 405/OPTIONS/HEAD, content negotiation (406),
media types (415, charset, form, multipart), malformed JSON texts, unknown routes, CORS and the
headers every DRF answer carries."""

from __future__ import annotations

import pytest
from aiohttp import FormData
from ufdl_helpers import (
    ALLOW_COLLECTION,
    ALLOW_DETAIL,
    ALLOW_MEMBERSHIPS,
    ALLOW_READ,
    ALLOW_SOFT,
    ALPHA,
    NOT_PROVIDED,
    ROUTE_NOT_FOUND,
    call,
    check,
    check_project,
    token,
    ufdl,
)

# every route of the contract (with a pk that exists in the seed) and its Allow header
ROUTES = [
    ("/v1/auth/obtain", ALLOW_COLLECTION),
    ("/v1/auth/refresh", ALLOW_COLLECTION),
    ("/v1/auth/verify", ALLOW_COLLECTION),
    ("/v1/users/create", ALLOW_COLLECTION),
    ("/v1/users/list", ALLOW_COLLECTION),
    ("/v1/users/2", ALLOW_DETAIL),
    ("/v1/users/alice", ALLOW_READ),
    ("/v1/teams/create", ALLOW_COLLECTION),
    ("/v1/teams/list", ALLOW_COLLECTION),
    ("/v1/teams/1", ALLOW_DETAIL),
    ("/v1/teams/1/reinstate", ALLOW_SOFT),
    ("/v1/teams/1/hard", ALLOW_SOFT),
    ("/v1/teams/1/memberships", ALLOW_MEMBERSHIPS),
    ("/v1/teams/1/permissions/alice", ALLOW_READ),
    ("/v1/projects/list", ALLOW_COLLECTION),
    ("/v1/projects/create", ALLOW_COLLECTION),
    ("/v1/projects/1", ALLOW_DETAIL),
    ("/v1/projects/1/hard", ALLOW_SOFT),
    ("/v1/projects/1/reinstate", ALLOW_SOFT),
]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


@pytest.mark.parametrize(("path", "allow"), ROUTES)
async def test_every_unmapped_method_is_405_with_the_allow_header(make_mock, path, allow):
    client = await ufdl(make_mock)
    for method in METHODS:
        if method in allow.split(", "):
            continue
        answer = await call(client, method, path)
        if method == "HEAD":
            check(answer, 405, allow=allow)
            assert answer.raw == b""
        else:
            check(answer, 405, {"detail": f'Method "{method}" not allowed.'}, allow=allow)


@pytest.mark.parametrize(("path", "allow"), ROUTES)
async def test_options_answers_200_with_allow_on_every_route_and_slash_variant(make_mock, path, allow):
    client = await ufdl(make_mock)
    for variant in (path, path + "/"):
        answer = await call(client, "OPTIONS", variant)
        body = check(answer, 200, allow=allow)
        assert body["renders"] == ["application/json"]


async def test_cors_preflight_is_answered_with_the_methods_of_the_path(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "OPTIONS", "/v1/projects/1", headers={
        "Origin": "http://localhost:4200", "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, content-type"})
    check(answer, 200, allow=ALLOW_DETAIL)
    assert answer.headers["Access-Control-Allow-Methods"] == ALLOW_DETAIL
    assert answer.headers["Access-Control-Allow-Headers"] == "authorization, content-type"


@pytest.mark.parametrize(("path", "allow"), ROUTES)
async def test_every_route_works_with_and_without_a_trailing_slash(make_mock, path, allow):
    client = await ufdl(make_mock)
    method = "GET" if "GET" in allow else allow.split(", ")[0]
    for variant in (path, path + "/"):
        answer = await call(client, method, variant, headers={"Accept": "application/xml"})
        check(answer, 406, {"detail": "Could not satisfy the request Accept header."}, allow=allow)


async def test_trailing_slash_variants_serve_the_same_actions_without_redirects(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check_project(await call(client, "GET", "/v1/projects/1/", access=admin), name="Alpha")
    listed = check(await call(client, "POST", "/v1/projects/list/", access=admin), 200, allow=ALLOW_COLLECTION)
    assert [p["pk"] for p in listed] == [1, 2, 3]
    created = await call(client, "POST", "/v1/projects/create/", access=admin, json_body={"name": "N", "team": 1})
    check_project(created, 201, allow=ALLOW_COLLECTION, pk=5)
    check(await call(client, "DELETE", "/v1/projects/5/", access=admin), 204, allow=ALLOW_DETAIL)
    check_project(await call(client, "DELETE", "/v1/projects/5/reinstate/", access=admin), allow=ALLOW_SOFT,
                  deletion_time=None)
    check_project(await call(client, "DELETE", "/v1/projects/5/hard/", access=admin), allow=ALLOW_SOFT, pk=None)
    obtained = await call(client, "POST", "/v1/auth/obtain/", json_body={"username": "admin", "password": "admin"})
    assert list(check(obtained, 200, allow=ALLOW_COLLECTION)) == ["refresh", "access"]


async def test_a_pk_with_leading_zeros_resolves_like_the_number(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check_project(await call(client, "GET", "/v1/projects/001", access=admin), pk=ALPHA, name="Alpha")
    check_project(await call(client, "GET", "/v1/projects/0001/", access=admin), pk=ALPHA)
    check(await call(client, "GET", "/v1/teams/01", access=admin), 200, allow=ALLOW_DETAIL)
    check(await call(client, "GET", "/v1/projects/000", access=admin), 404,
          {"detail": "No Project matches the given query."}, allow=ALLOW_DETAIL)


async def test_head_on_a_detail_route_answers_200_without_a_body(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "HEAD", "/v1/projects/1", user="admin")
    assert answer.status == 200
    assert answer.raw == b""
    assert answer.headers["Allow"] == ALLOW_DETAIL
    assert answer.headers["Content-Type"] == "application/json"


async def test_head_follows_the_checks_of_get(make_mock):
    client = await ufdl(make_mock)
    anonymous = await call(client, "HEAD", "/v1/projects/1")
    assert anonymous.status == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert (await call(client, "HEAD", "/v1/projects/99")).status == 404
    assert (await call(client, "HEAD", "/v1/projects/1", user="erin")).status == 403


@pytest.mark.parametrize("accept", ["application/xml", "text/html", "text/plain, application/xml;q=0.9"])
async def test_accept_without_json_is_406_before_authentication(make_mock, accept):
    client = await ufdl(make_mock)
    for method, path, allow in [("POST", "/v1/projects/list", ALLOW_COLLECTION),
                                ("GET", "/v1/projects/99", ALLOW_DETAIL),
                                ("DELETE", "/v1/projects/1/hard", ALLOW_SOFT)]:
        answer = await call(client, method, path, headers={"Accept": accept})
        check(answer, 406, {"detail": "Could not satisfy the request Accept header."}, allow=allow)


@pytest.mark.parametrize("accept", ["*/*", "application/json", "application/*", "text/html, */*;q=0.1",
                                    "application/json; indent=4", ""])
async def test_accept_allowing_json_gets_json(make_mock, accept):
    client = await ufdl(make_mock)
    answer = await call(client, "GET", "/v1/projects/1", user="admin", headers={"Accept": accept})
    check_project(answer, name="Alpha")


async def test_responses_are_compact_utf8_json_with_non_ascii_unescaped(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    answer = await call(client, "POST", "/v1/projects/create", access=admin, json_body={"name": "Ünïcødé ✓", "team": 1})
    check_project(answer, 201, allow=ALLOW_COLLECTION, name="Ünïcødé ✓")
    assert answer.raw.startswith('{"pk":5,"name":"Ünïcødé ✓","team":1,"creator":1,"creation_time":"'.encode())


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream"])
async def test_a_body_of_another_media_type_is_415(make_mock, content_type):
    client = await ufdl(make_mock)
    admin = await token(client)
    for method, path, allow in [("POST", "/v1/projects/create", ALLOW_COLLECTION),
                                ("POST", "/v1/projects/list", ALLOW_COLLECTION),
                                ("PUT", "/v1/projects/1", ALLOW_DETAIL),
                                ("PATCH", "/v1/projects/1", ALLOW_DETAIL),
                                ("PATCH", "/v1/teams/1/memberships", ALLOW_MEMBERSHIPS),
                                ("POST", "/v1/auth/obtain", ALLOW_COLLECTION)]:
        answer = await call(client, method, path, access=admin, data=b'{"name": "x"}',
                            headers={"Content-Type": content_type})
        check(answer, 415, {"detail": f'Unsupported media type "{content_type}" in request.'}, allow=allow)


async def test_415_quotes_the_whole_content_type_header(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user="admin", data=b"x",
                        headers={"Content-Type": "text/plain; charset=utf-8"})
    check(answer, 415, {"detail": 'Unsupported media type "text/plain; charset=utf-8" in request.'},
          allow=ALLOW_COLLECTION)


async def test_json_with_a_charset_parameter_is_accepted(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user="admin", data='{"name": "Java", "team": 1}',
                        headers={"Content-Type": "application/json; charset=utf-8"})
    check_project(answer, 201, allow=ALLOW_COLLECTION, name="Java", team=1)


async def test_form_encoded_create_succeeds(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user="admin", data="name=form-made&team=1",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    check_project(answer, 201, allow=ALLOW_COLLECTION, name="form-made", team=1, creator=1)


async def test_multipart_create_and_patch_succeed(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    form = FormData()
    form.add_field("name", "multi-made")
    form.add_field("team", "2")
    form.add_field("unused", b"bytes", filename="f.bin")
    answer = await call(client, "POST", "/v1/projects/create", access=admin, data=form)
    check_project(answer, 201, allow=ALLOW_COLLECTION, name="multi-made", team=2)
    patch = FormData()
    patch.add_field("name", "  multi-renamed ")
    patch.add_field("x", "y")
    check_project(await call(client, "PATCH", "/v1/projects/5", access=admin, data=patch), name="multi-renamed")


async def test_form_fields_given_twice_use_the_last_value(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user="admin", data="name=first&name=second&team=1",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    check_project(answer, 201, allow=ALLOW_COLLECTION, name="second")


@pytest.mark.parametrize(("raw", "message"), [
    ('{"name": "x", "team": }', "Expecting value: line 1 column 23 (char 22)"),
    ("{'name': 'x'}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ('{"name": "x"', "Expecting ',' delimiter: line 1 column 13 (char 12)"),
    ('{"name": "x",}', "Expecting property name enclosed in double quotes: line 1 column 14 (char 13)"),
    ("[1,]", "Expecting value: line 1 column 4 (char 3)"),
    ("nul", "Expecting value: line 1 column 1 (char 0)"),
    ('{"a": 1} x', "Extra data: line 1 column 10 (char 9)"),
])
async def test_malformed_json_is_400_with_the_parser_message(make_mock, raw, message):
    client = await ufdl(make_mock)
    admin = await token(client)
    for method, path, allow in [("POST", "/v1/projects/create", ALLOW_COLLECTION),
                                ("POST", "/v1/projects/list", ALLOW_COLLECTION),
                                ("PATCH", "/v1/projects/1", ALLOW_DETAIL),
                                ("PATCH", "/v1/teams/1/memberships", ALLOW_MEMBERSHIPS),
                                ("POST", "/v1/auth/obtain", ALLOW_COLLECTION)]:
        answer = await call(client, method, path, access=admin, data=raw.encode(),
                            headers={"Content-Type": "application/json"})
        check(answer, 400, {"detail": f"JSON parse error - {message}"}, allow=allow)


async def test_invalid_utf8_is_a_json_parse_error(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user="admin", data=b'\xff{"name": 1}',
                        headers={"Content-Type": "application/json"})
    check(answer, 400, {"detail": "JSON parse error - 'utf-8' codec can't decode byte 0xff in position 0: "
                                  "invalid start byte"}, allow=ALLOW_COLLECTION)


async def test_nan_in_json_is_rejected_with_drf_wording(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user="admin", data=b'{"name": NaN, "team": 1}',
                        headers={"Content-Type": "application/json"})
    check(answer, 400, {"detail": "JSON parse error - Out of range float values are not JSON compliant: 'NaN'"},
          allow=ALLOW_COLLECTION)


async def test_nan_in_json_is_a_400_parse_error(make_mock):
    client = await ufdl(make_mock)
    for constant in ("NaN", "Infinity", "-Infinity"):
        answer = await call(client, "POST", "/v1/projects/create", user="admin",
                            data=f'{{"name": {constant}, "team": 1}}'.encode(),
                            headers={"Content-Type": "application/json"})
        body = check(answer, 400, allow=ALLOW_COLLECTION)
        assert body["detail"].startswith("JSON parse error - Out of range float values")


@pytest.mark.parametrize("path", ["/v1/projects", "/v1/projects/abc", "/v1/projects/-1", "/v1/projects/1.0",
                                  "/v1/projects/1/other", "/v1/nothing", "/", "/v2/projects/list",
                                  "/v1/projects/%201", "/v1/teams/x/memberships", "/v1/users/bob/extra"])
async def test_a_path_matching_no_route_is_a_json_404_without_allow(make_mock, path):
    client = await ufdl(make_mock)
    for method in ("GET", "POST", "DELETE"):
        answer = await call(client, method, path, user="admin")
        check(answer, 404, ROUTE_NOT_FOUND)
        assert "Allow" not in answer.headers


async def test_every_answer_carries_cors_and_vary(make_mock):
    client = await ufdl(make_mock)
    for answer in [await call(client, "POST", "/v1/projects/list"),
                   await call(client, "POST", "/v1/projects/list", user="admin"),
                   await call(client, "GET", "/v1/projects/abc"),
                   await call(client, "DELETE", "/v1/projects/1", user="admin")]:
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert answer.headers["Vary"] == "Accept, Origin"


async def test_401_carries_the_bearer_challenge_and_403_none(make_mock):
    client = await ufdl(make_mock)
    check(await call(client, "POST", "/v1/projects/list"), 401, NOT_PROVIDED, allow=ALLOW_COLLECTION)
    check(await call(client, "GET", "/v1/projects/3", user="bob"), 403,
          {"detail": "You do not have permission to perform this action."}, allow=ALLOW_DETAIL)


async def test_no_location_header_on_create(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user="admin", json_body={"name": "N", "team": 1})
    check_project(answer, 201, allow=ALLOW_COLLECTION)
    assert "Location" not in answer.headers


async def test_a_json_suffix_media_type_is_415_too(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user="admin", data=b'{"name": "x", "team": 1}',
                        headers={"Content-Type": "application/vnd.api+json"})
    check(answer, 415, {"detail": 'Unsupported media type "application/vnd.api+json" in request.'},
          allow=ALLOW_COLLECTION)


async def test_json_body_is_decoded_with_the_charset_it_declares(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", "/v1/projects/create", user="admin",
                        data='{"name": "Café", "team": 1}'.encode("latin-1"),
                        headers={"Content-Type": "application/json; charset=latin-1"})
    check_project(answer, 201, allow=ALLOW_COLLECTION)
    assert answer.body["name"] == "Café"


async def test_content_negotiation_comes_before_the_method_check(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "GET", "/v1/auth/obtain", headers={"Accept": "application/xml"})
    check(answer, 406, {"detail": "Could not satisfy the request Accept header."}, allow="POST, OPTIONS")
