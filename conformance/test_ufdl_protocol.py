"""UFDL scenarios at the HTTP level: authentication and token refresh, the DRF error envelopes,
405/OPTIONS/406/415, malformed JSON, and pks the real server mishandles (its "Real-server bugs",
reported here as failures)."""

from __future__ import annotations

import json

import pytest

from conformance import ufdl
from conformance.client import Client, every_case
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
    team, refused = team_for_refused_create(w)
    response = c.post("/v1/projects/create", json={"name": w.name("anon"), "team": team}, refused=refused)
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


def team_for_refused_create(w) -> tuple[int, bool]:
    """The team a create that must be refused names: the run's own, or (in --read-only runs or
    without a team) one that does not exist, so that even a server that wrongly accepts the
    request cannot put a record anywhere; the flag says which (the guard's `refused`)."""
    team = None if ufdl.SETTINGS.read_only else w.team()
    return (team, False) if team is not None else (w.unused_team(), True)


def own_project_pk(w) -> int:
    """A project of this run (pk 0, which no project has, in --read-only runs or without a team)."""
    if ufdl.SETTINGS.read_only or w.team() is None:
        return 0
    return w.create_project("probe")["pk"]


@rule("ufdl.http.method-not-allowed-405")
def test_unsupported_method_is_405_with_allow(w):
    c, pk = w.client, own_project_pk(w)
    list_allow, detail_allow, action_allow = "POST, OPTIONS", "GET, PUT, PATCH, DELETE, HEAD, OPTIONS", "DELETE, OPTIONS"
    with every_case() as case:
        for method, path, allow in (("GET", "/v1/projects/list", list_allow), ("GET", "/v1/projects/create", list_allow),
                                    ("POST", f"/v1/projects/{pk}", detail_allow),
                                    ("GET", f"/v1/projects/{pk}/hard", action_allow),
                                    ("POST", f"/v1/projects/{pk}/reinstate", action_allow)):
            with case(f"{method} {path}"):
                response = c.request(method, path)
                body = json_detail(c, response, 405, note="the real server answers 500")
                c.check(body["detail"] == f'Method "{method}" not allowed.', response, f'Method "{method}" not allowed.')
                c.check(response.headers.get("Allow") == allow, response, f"Allow: {allow}",
                        str(response.headers.get("Allow")))


@rule("ufdl.http.options-200")
def test_options_answers_200_with_allow(w):
    c, pk = w.client, own_project_pk(w)
    with every_case() as case:
        for path, allow in (("/v1/projects/list", "POST, OPTIONS"),
                            (f"/v1/projects/{pk}", "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"),
                            (f"/v1/projects/{pk}/hard", "DELETE, OPTIONS")):
            with case(f"OPTIONS {path}"):
                response = c.request("OPTIONS", path)
                c.expect(response, 200, note="the real server answers 500")
                c.check(response.headers.get("Allow") == allow, response, f"Allow: {allow}",
                        str(response.headers.get("Allow")))


@rule("ufdl.http.malformed-json-400")
def test_malformed_json_is_400(w):
    c = w.client
    with every_case() as case:
        for path in ("/v1/projects/create", "/v1/projects/list"):
            with case(path):
                response = c.post(path, data=b'{"name": ', headers={"Content-Type": "application/json"}, refused=True)
                body = json_detail(c, response, 400)
                c.check(body["detail"].startswith("JSON parse error - "), response, '"JSON parse error - <parser message>"')


@rule("ufdl.http.unsupported-media-type-415")
def test_other_media_type_is_415(w):
    c = w.client
    response = c.post("/v1/projects/create", data=b"name=x", headers={"Content-Type": "text/plain"}, refused=True)
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
    team, _ = team_for_refused_create(w)
    with every_case() as case:
        for body, expected in (({}, {"name": ["This field is required."], "team": ["This field is required."]}),
                               ({"name": "   ", "team": team}, {"name": ["This field may not be blank."]}),
                               ([], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})):
            with case(repr(body)):
                response = c.post("/v1/projects/create", json=body, refused=True)  # no server can create from these
                body = c.expect(response, 400)
                c.check(isinstance(body, dict) and all(body.get(k) == v for k, v in expected.items()), response,
                        json.dumps(expected) + " (among the field errors)")


@rule("ufdl.errors.unknown-team-400")
def test_unknown_team_is_a_field_error(w):
    c = w.client
    team = w.unused_team()
    response = c.post("/v1/projects/create", json={"name": w.name("noteam"), "team": team}, refused=True)
    body = c.expect(response, 400)
    c.check(body == {"team": [f'Invalid pk "{team}" - object does not exist.']}, response,
            f'{{"team": ["Invalid pk \\"{team}\\" - object does not exist."]}}')


@rule("ufdl.errors.body-not-object-400")
def test_a_body_that_is_not_an_object_is_400(w):
    c = w.client
    with every_case() as case:
        for raw in (b"null", b"[]", b"5"):
            with case(f"POST /v1/users/create {raw.decode()}"):
                response = c.post("/v1/users/create", data=raw, headers={"Content-Type": "application/json"},
                                  refused=True)  # no server can create a user from these
                c.expect(response, 400, 403, note="a user spec is an object (the real server answers 500 to null)")
        team = None if ufdl.SETTINGS.read_only else w.team()
        if team is not None:
            for raw in (b"null", b"[null, null]"):
                with case(f"PATCH /v1/teams/{{pk}}/memberships {raw.decode()}"):
                    response = c.patch(f"/v1/teams/{team}/memberships", data=raw,
                                       headers={"Content-Type": "application/json"})
                    c.expect(response, 400, 403, note="a membership spec is an object (the real server answers 500)")


@rule("ufdl.http.multipart-nameless-part-ignored")
def test_a_multipart_part_without_a_name_is_ignored(w):
    c = w.client
    w.require_team()
    boundary = "cf-boundary"
    name = w.name("multipart")
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="team"\r\n\r\n{w.team()}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data\r\n\r\nx\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name=""\r\n\r\ny\r\n--{boundary}--\r\n').encode()
    response = c.post("/v1/projects/create", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    created = c.expect(response, 201, note="parts without a field name are skipped, as Django does")
    ufdl.record_project(created)
    c.check(created.get("name") == name, response, f"the project {name!r} created from the named parts")


@rule("ufdl.pk.huge-team-400")
def test_a_team_pk_beyond_64_bit_is_a_field_error(w):
    c = w.client
    huge = 2**63
    response = c.post("/v1/projects/create", json={"name": w.name("hugeteam"), "team": huge}, refused=True)
    body = c.expect(response, 400, note="no team has such a pk (the real server answers 500: OverflowError)")
    c.check(body == {"team": [f'Invalid pk "{huge}" - object does not exist.']}, response,
            f'{{"team": ["Invalid pk \\"{huge}\\" - object does not exist."]}}')
