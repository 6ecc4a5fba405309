"""UFDL scenarios at the HTTP level: authentication and token refresh, the DRF error envelopes,
405/OPTIONS/406/415, malformed JSON, and pks the real server mishandles (its "Real-server bugs",
reported here as failures)."""

from __future__ import annotations

import pytest

from conformance import ufdl
from conformance.client import Client
from conformance.reporting import rule

CHALLENGE = 'Bearer realm="api"'


@pytest.fixture
def w(ufdl_world):
    return ufdl_world


def anonymous() -> Client:
    return Client(ufdl.base_url(), "ufdl")


def json_detail(c, response, status, note=None):
    body = c.expect(response, status, note=note)
    c.check(response.headers.get("Content-Type", "").startswith("application/json"), response,
            "Content-Type: application/json")
    c.check(isinstance(body, dict) and isinstance(body.get("detail"), str), response, 'a {"detail": "..."} body')
    return body


@rule("ufdl.auth.required-401")
def test_no_credentials_is_401_with_challenge(w):
    c = anonymous()
    for response in (c.post("/v1/projects/list"), c.post("/v1/teams/list")):
        body = json_detail(c, response, 401)
        c.check(body == {"detail": "Authentication credentials were not provided."}, response,
                '{"detail": "Authentication credentials were not provided."}')
        c.check(response.headers.get("WWW-Authenticate") == CHALLENGE, response, f"WWW-Authenticate: {CHALLENGE}",
                str(response.headers.get("WWW-Authenticate")))


@rule("ufdl.auth.anonymous-create-401")
def test_anonymous_create_is_401(w):
    c = anonymous()
    response = c.post("/v1/projects/create", json={"name": w.name("anon"), "team": w.team() or 1})
    json_detail(c, response, 401, note="the real server answers 500 (a TypeError in its permission check)")


@rule("ufdl.auth.invalid-token-401")
def test_invalid_or_refresh_token_is_401(w):
    c = anonymous()
    for token in ("not-a-jwt", w.main.refresh_token):
        response = c.post("/v1/projects/list", headers={"Authorization": f"Bearer {token}"})
        body = json_detail(c, response, 401)
        c.check(body.get("code") == "token_not_valid", response, 'code "token_not_valid"', repr(body.get("code")))


@rule("ufdl.auth.wrong-password-401")
def test_wrong_credentials_are_401(w):
    c = anonymous()
    response = c.post("/v1/auth/obtain", json={"username": w.main.username, "password": "wrong-" + w.main.password})
    json_detail(c, response, 401)


@rule("ufdl.auth.token-refresh")
def test_refresh_issues_a_working_access_token(w):
    c = anonymous()
    pair = c.expect(c.post("/v1/auth/obtain", json={"username": w.main.username, "password": w.main.password}), 200)
    c.check(set(pair) == {"refresh", "access"}, None, "obtain answers {refresh, access}", str(sorted(pair)))
    response = c.post("/v1/auth/refresh", json={"refresh": pair["refresh"]})
    fresh = c.expect(response, 200)
    c.check(set(fresh) == {"access"}, response, "refresh answers only {access} (no rotation)")
    listed = c.post("/v1/projects/list", headers={"Authorization": f"Bearer {fresh['access']}"})
    c.expect(listed, 200, note="the refreshed access token authenticates")
    wrong = c.post("/v1/auth/refresh", json={"refresh": pair["access"]})
    body = c.expect(wrong, 401, note="an access token cannot be used to refresh")
    c.check(body.get("code") == "token_not_valid", wrong, 'code "token_not_valid"')
    c.check(c.expect(c.post("/v1/auth/verify", json={"token": fresh["access"]}), 200) == {}, None, "verify answers {}")
    c.expect(c.post("/v1/auth/verify", json={"token": "garbage"}), 401)


@rule("ufdl.http.method-not-allowed-405")
def test_unsupported_method_is_405_with_allow(w):
    c = w.client
    for method, path, allow in (("GET", "/v1/projects/list", "POST, OPTIONS"),
                                ("POST", "/v1/projects/1", "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"),
                                ("GET", "/v1/projects/1/hard", "DELETE, OPTIONS")):
        response = c.request(method, path)
        body = json_detail(c, response, 405, note="the real server answers 500")
        c.check(body["detail"] == f'Method "{method}" not allowed.', response, f'Method "{method}" not allowed.')
        c.check(response.headers.get("Allow") == allow, response, f"Allow: {allow}", str(response.headers.get("Allow")))


@rule("ufdl.http.options-200")
def test_options_answers_200_with_allow(w):
    c = w.client
    for path, allow in (("/v1/projects/list", "POST, OPTIONS"), ("/v1/projects/1", "GET, PUT, PATCH, DELETE, HEAD, OPTIONS")):
        response = c.request("OPTIONS", path)
        c.expect(response, 200, note="the real server answers 500")
        c.check(response.headers.get("Allow") == allow, response, f"Allow: {allow}", str(response.headers.get("Allow")))


@rule("ufdl.http.malformed-json-400")
def test_malformed_json_is_400(w):
    c = w.client
    for path in ("/v1/projects/create", "/v1/projects/list"):
        response = c.post(path, data=b'{"name": ', headers={"Content-Type": "application/json"})
        body = json_detail(c, response, 400)
        c.check(body["detail"].startswith("JSON parse error - "), response, '"JSON parse error - <parser message>"')


@rule("ufdl.http.unsupported-media-type-415")
def test_other_media_type_is_415(w):
    c = w.client
    response = c.post("/v1/projects/create", data=b"name=x", headers={"Content-Type": "text/plain"})
    body = json_detail(c, response, 415)
    c.check(body["detail"] == 'Unsupported media type "text/plain" in request.', response,
            'Unsupported media type "text/plain" in request.')


@rule("ufdl.http.not-acceptable-406")
def test_accept_without_json_is_406(w):
    c = w.client
    json_detail(c, c.post("/v1/projects/list", headers={"Accept": "application/xml"}), 406)


@rule("ufdl.http.trailing-slash")
def test_paths_work_with_a_trailing_slash(w):
    c = w.client
    c.expect(c.post("/v1/projects/list/"), 200)
    if w.team() is not None:
        p = w.create_project("slash")
        c.expect(c.get(f"/v1/projects/{p['pk']}/"), 200)


@rule("ufdl.http.json-charset-accepted")
def test_json_with_charset_is_accepted(w):
    c = w.client
    response = c.post("/v1/projects/list", data=b"{}", headers={"Content-Type": "application/json; charset=utf-8"})
    c.expect(response, 200)


@rule("ufdl.pk.huge-404")
def test_pk_beyond_64_bit_is_404(w):
    c = w.client
    response = c.get("/v1/projects/" + "9" * 25)
    json_detail(c, response, 404, note="the real server answers 500")


@rule("ufdl.pk.non-numeric-json-404")
def test_non_numeric_pk_is_a_json_404(w):
    c = w.client
    response = c.get("/v1/projects/abc")
    json_detail(c, response, 404, note="the real server answers its HTML 404 page")


@rule("ufdl.errors.detail-envelope")
def test_errors_use_the_detail_envelope(w):
    c = w.client
    missing = c.get("/v1/projects/0")
    c.check(json_detail(c, missing, 404) == {"detail": "No Project matches the given query."}, missing,
            '{"detail": "No Project matches the given query."}')
    team_missing = c.get("/v1/teams/0")
    c.check(json_detail(c, team_missing, 404) == {"detail": "No Team matches the given query."}, team_missing,
            '{"detail": "No Team matches the given query."}')


@rule("ufdl.errors.field-envelope")
def test_validation_errors_use_the_field_envelope(w):
    c = w.client
    response = c.post("/v1/projects/create", json={})
    body = c.expect(response, 400)
    c.check(body == {"name": ["This field is required."], "team": ["This field is required."]}, response,
            '{"name": ["This field is required."], "team": ["This field is required."]}')
    response = c.post("/v1/projects/create", json={"name": "   ", "team": w.team() or 1})
    body = c.expect(response, 400)
    c.check(body.get("name") == ["This field may not be blank."], response, '{"name": ["This field may not be blank."]}')
    response = c.post("/v1/projects/create", json=[])
    body = c.expect(response, 400)
    c.check(body == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}, response,
            '{"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}')


@rule("ufdl.errors.unknown-team-400")
def test_unknown_team_is_a_field_error(w):
    c = w.client
    team = w.unused_team()
    response = c.post("/v1/projects/create", json={"name": w.name("noteam"), "team": team})
    body = c.expect(response, 400)
    c.check(body == {"team": [f'Invalid pk "{team}" - object does not exist.']}, response,
            f'{{"team": ["Invalid pk \\"{team}\\" - object does not exist."]}}')
