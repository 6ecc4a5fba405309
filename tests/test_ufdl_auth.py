"""UFDL authentication (simplejwt): obtain/refresh/verify, the token claims, every Authorization
header variant, real but configurable expiry, and a client that refreshes after a 401."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest
from ufdl_helpers import (
    ALLOW_COLLECTION,
    ALLOW_DETAIL,
    NOT_PROVIDED,
    call,
    check,
    check_project,
    tokens,
    ufdl,
)

from mockserver.apis.ufdl.options import UfdlOptions

NO_ACCOUNT = {"detail": "No active account found with the given credentials"}
TOKEN_INVALID = {"detail": "Token is invalid", "code": "token_not_valid"}
TOKEN_EXPIRED = {"detail": "Token is expired", "code": "token_not_valid"}
WRONG_TYPE = {"detail": "Token has wrong type", "code": "token_not_valid"}
KNOWN_SECRET = "a-known-secret-that-is-32-bytes-long"
BAD_HEADER = {"detail": "Authorization header must contain two space-delimited values",
              "code": "bad_authorization_header"}


def not_valid(message: str) -> dict:
    return {"detail": "Given token not valid for any token type", "code": "token_not_valid",
            "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}]}


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def post(client, path: str, body=None, **kwargs):
    if body is None:
        return await call(client, "POST", path, **kwargs)
    return await call(client, "POST", path, json_body=body, **kwargs)


# -- obtain ---------------------------------------------------------------------------------------

async def test_obtain_returns_refresh_then_access_tokens_with_simplejwt_claims(make_mock):
    client = await ufdl(make_mock)
    before = int(time.time())
    pair = check(await post(client, "/v1/auth/obtain", {"username": "alice", "password": "alice-pw"}), 200,
                 allow=ALLOW_COLLECTION)
    assert list(pair) == ["refresh", "access"]
    access, refresh = claims(pair["access"]), claims(pair["refresh"])
    assert jwt.get_unverified_header(pair["access"])["alg"] == "HS256"
    assert set(access) == {"jtt", "exp", "iat", "jti", "upk", "wld"}  # wld: the mock's world (not simplejwt's)
    assert access["jtt"] == "access" and refresh["jtt"] == "refresh"
    assert access["upk"] == "2" and refresh["upk"] == "2"  # the user pk as a string
    assert before <= access["iat"] <= int(time.time())
    assert access["exp"] - access["iat"] == 300  # 5 minutes
    assert refresh["exp"] - refresh["iat"] == 8 * 3600  # 8 hours
    assert access["jti"] != refresh["jti"]


@pytest.mark.parametrize("body", [{"username": "alice", "password": "wrong"},
                                  {"username": "nobody", "password": "alice-pw"},
                                  {"username": "Alice", "password": "alice-pw"},
                                  {"username": 123, "password": 456}])
async def test_obtain_with_wrong_credentials_is_401_no_active_account(make_mock, body):
    client = await ufdl(make_mock)
    check(await post(client, "/v1/auth/obtain", body), 401, NO_ACCOUNT, allow=ALLOW_COLLECTION)


async def test_obtain_for_an_inactive_user_is_401_no_active_account(make_mock):
    seed = {"users": [{"username": "gone", "password": "pw", "is_active": False}]}
    client = await ufdl(make_mock, seed)
    check(await post(client, "/v1/auth/obtain", {"username": "gone", "password": "pw"}), 401, NO_ACCOUNT,
          allow=ALLOW_COLLECTION)


@pytest.mark.parametrize(("body", "errors"), [
    (None, {"username": ["This field is required."], "password": ["This field is required."]}),
    ({}, {"username": ["This field is required."], "password": ["This field is required."]}),
    ({"username": "admin"}, {"password": ["This field is required."]}),
    ({"password": "admin"}, {"username": ["This field is required."]}),
    ({"username": "", "password": ""},
     {"username": ["This field may not be blank."], "password": ["This field may not be blank."]}),
    ({"username": "   ", "password": "admin"}, {"username": ["This field may not be blank."]}),
    ({"username": None, "password": "admin"}, {"username": ["This field may not be null."]}),
    ({"username": True, "password": ["admin"]},
     {"username": ["Not a valid string."], "password": ["Not a valid string."]}),
])
async def test_obtain_field_errors_name_only_the_failing_fields(make_mock, body, errors):
    client = await ufdl(make_mock)
    check(await post(client, "/v1/auth/obtain", body), 400, errors, allow=ALLOW_COLLECTION)


async def test_obtain_accepts_form_and_multipart_bodies_and_the_slash_variant(make_mock):
    client = await ufdl(make_mock)
    form = await call(client, "POST", "/v1/auth/obtain/", data="username=admin&password=admin",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert list(check(form, 200, allow=ALLOW_COLLECTION)) == ["refresh", "access"]
    multipart = await call(client, "POST", "/v1/auth/obtain", data={"username": "bob", "password": "bob-pw"})
    assert claims(check(multipart, 200, allow=ALLOW_COLLECTION)["access"])["upk"] == "3"


async def test_obtain_ignores_an_authorization_header(make_mock):
    client = await ufdl(make_mock)
    answer = await post(client, "/v1/auth/obtain", {"username": "admin", "password": "admin"},
                        headers={"Authorization": "Bearer garbage"})
    check(answer, 200, allow=ALLOW_COLLECTION)


async def test_obtain_does_not_set_last_login_but_a_viewset_request_does(make_mock):
    client = await ufdl(make_mock)
    alice = await tokens(client, "alice")
    admin = await tokens(client, "admin")
    user = check(await call(client, "GET", "/v1/users/2", access=admin["access"]), 200)
    assert user["last_login"] is None
    check(await post(client, "/v1/projects/list", access=alice["access"]), 200)
    user = check(await call(client, "GET", "/v1/users/2", access=admin["access"]), 200)
    assert user["last_login"] is not None


# -- refresh and verify ---------------------------------------------------------------------------

async def test_refresh_returns_only_a_new_access_token_and_does_not_rotate(make_mock):
    client = await ufdl(make_mock)
    pair = await tokens(client, "bob")
    first = check(await post(client, "/v1/auth/refresh", {"refresh": pair["refresh"]}), 200, allow=ALLOW_COLLECTION)
    assert list(first) == ["access"]
    assert claims(first["access"])["jtt"] == "access" and claims(first["access"])["upk"] == "3"
    again = check(await post(client, "/v1/auth/refresh", {"refresh": pair["refresh"]}), 200)
    assert list(again) == ["access"]
    listed = await post(client, "/v1/projects/list", access=first["access"])
    assert [p["name"] for p in check(listed, 200)] == ["Alpha", "Beta"]


@pytest.mark.parametrize(("which", "expected"), [("access", WRONG_TYPE), ("garbage", TOKEN_INVALID)])
async def test_refresh_with_an_unusable_token_is_401_token_not_valid(make_mock, which, expected):
    client = await ufdl(make_mock)
    pair = await tokens(client, "bob")
    value = pair["access"] if which == "access" else "not.a.jwt"
    check(await post(client, "/v1/auth/refresh", {"refresh": value}), 401, expected, allow=ALLOW_COLLECTION)


async def test_refresh_and_verify_reject_a_token_signed_with_another_key(make_mock):
    client = await ufdl(make_mock)
    forged = jwt.encode({"jtt": "refresh", "exp": int(time.time()) + 60, "iat": int(time.time()), "jti": "x",
                         "upk": "1"}, "another-secret-of-at-least-32-bytes!!", algorithm="HS256")
    check(await post(client, "/v1/auth/refresh", {"refresh": forged}), 401, TOKEN_INVALID, allow=ALLOW_COLLECTION)
    check(await post(client, "/v1/auth/verify", {"token": forged}), 401, TOKEN_INVALID, allow=ALLOW_COLLECTION)


async def test_refresh_and_verify_missing_fields_are_400(make_mock):
    client = await ufdl(make_mock)
    check(await post(client, "/v1/auth/refresh", {}), 400, {"refresh": ["This field is required."]},
          allow=ALLOW_COLLECTION)
    check(await post(client, "/v1/auth/refresh"), 400, {"refresh": ["This field is required."]})
    check(await post(client, "/v1/auth/verify", {"refresh": "x"}), 400, {"token": ["This field is required."]},
          allow=ALLOW_COLLECTION)
    check(await post(client, "/v1/auth/verify", {"token": ""}), 400, {"token": ["This field may not be blank."]})


async def test_verify_accepts_access_and_refresh_tokens_with_an_empty_object(make_mock):
    client = await ufdl(make_mock)
    pair = await tokens(client, "alice")
    for value in pair.values():
        answer = await post(client, "/v1/auth/verify", {"token": value})
        assert check(answer, 200, allow=ALLOW_COLLECTION) == {}
        assert answer.raw == b"{}"
    check(await post(client, "/v1/auth/verify", {"token": "garbage"}), 401, TOKEN_INVALID, allow=ALLOW_COLLECTION)


# -- the Authorization header on protected calls --------------------------------------------------

@pytest.mark.parametrize("header", [None, "Token abc", "Basic YWRtaW46YWRtaW4=", "bearer {access}", "JWT {access}",
                                    ""])
async def test_no_bearer_credentials_are_401_not_provided(make_mock, header):
    client = await ufdl(make_mock)
    access = (await tokens(client, "admin"))["access"]
    headers = {} if header is None else {"Authorization": header.format(access=access)}
    check(await post(client, "/v1/projects/list", headers=headers), 401, NOT_PROVIDED, allow=ALLOW_COLLECTION)


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer {access} extra"])
async def test_bearer_without_exactly_one_value_is_401_bad_authorization_header(make_mock, header):
    client = await ufdl(make_mock)
    access = (await tokens(client, "admin"))["access"]
    answer = await post(client, "/v1/projects/list", headers={"Authorization": header.format(access=access)})
    check(answer, 401, BAD_HEADER, allow=ALLOW_COLLECTION)


async def test_an_invalid_bearer_token_is_401_with_the_token_messages(make_mock):
    client = await ufdl(make_mock)
    for token_value in ("garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"):
        answer = await post(client, "/v1/projects/list", access=token_value)
        check(answer, 401, not_valid("Token is invalid"), allow=ALLOW_COLLECTION)


async def test_a_refresh_token_as_bearer_is_401_wrong_type(make_mock):
    client = await ufdl(make_mock)
    refresh = (await tokens(client, "admin"))["refresh"]
    check(await call(client, "GET", "/v1/projects/1", access=refresh), 401, not_valid("Token has wrong type"),
          allow=ALLOW_DETAIL)


async def test_a_bad_token_is_401_even_where_anonymous_callers_would_get_404(make_mock):
    client = await ufdl(make_mock)
    check(await call(client, "GET", "/v1/projects/99", access="garbage"), 401, not_valid("Token is invalid"),
          allow=ALLOW_DETAIL)


async def test_tokens_of_unknown_or_inactive_users_are_401(make_mock):
    options = UfdlOptions(jwt_secret=KNOWN_SECRET)
    seed = {"users": [{"username": "gone", "password": "pw", "is_active": False}]}
    client = await ufdl(make_mock, seed, api_options={"ufdl": options})
    now = int(time.time())

    def forge(upk: str) -> str:
        return jwt.encode({"jtt": "access", "exp": now + 60, "iat": now, "jti": "j", "upk": upk}, KNOWN_SECRET,
                          algorithm="HS256")

    check(await post(client, "/v1/projects/list", access=forge("99")), 401,
          {"detail": "User not found", "code": "user_not_found"}, allow=ALLOW_COLLECTION)
    check(await post(client, "/v1/projects/list", access=forge("2")), 401,
          {"detail": "User is inactive", "code": "user_inactive"}, allow=ALLOW_COLLECTION)
    check(await post(client, "/v1/projects/list", access=forge("1")), 200, [], allow=ALLOW_COLLECTION)


# -- expiry ---------------------------------------------------------------------------------------

async def _until_expired(client, access: str) -> None:
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        answer = await post(client, "/v1/auth/verify", {"token": access})
        if answer.status == 401:
            check(answer, 401, TOKEN_EXPIRED, allow=ALLOW_COLLECTION)
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the access token never expired")


async def test_expired_access_token_is_401_then_refresh_and_retry_succeeds(make_mock):
    options = UfdlOptions(access_lifetime=1, refresh_lifetime=60)
    client = await ufdl(make_mock, api_options={"ufdl": options})
    pair = await tokens(client, "alice")  # obtain
    assert claims(pair["access"])["exp"] - claims(pair["access"])["iat"] == 1
    check_project(await call(client, "GET", "/v1/projects/1", access=pair["access"]), name="Alpha")  # use
    await _until_expired(client, pair["access"])
    expired = await call(client, "GET", "/v1/projects/1", access=pair["access"])  # 401
    check(expired, 401, not_valid("Token is expired"), allow=ALLOW_DETAIL)
    fresh = check(await post(client, "/v1/auth/refresh", {"refresh": pair["refresh"]}), 200)  # refresh
    check_project(await call(client, "GET", "/v1/projects/1", access=fresh["access"]), name="Alpha")  # retry


async def test_an_expired_refresh_token_cannot_refresh_and_the_client_obtains_again(make_mock):
    options = UfdlOptions(access_lifetime=1, refresh_lifetime=1)
    client = await ufdl(make_mock, api_options={"ufdl": options})
    pair = await tokens(client, "alice")
    await _until_expired(client, pair["refresh"])
    check(await post(client, "/v1/auth/refresh", {"refresh": pair["refresh"]}), 401, TOKEN_EXPIRED,
          allow=ALLOW_COLLECTION)
    again = await tokens(client, "alice")
    check_project(await call(client, "GET", "/v1/projects/1", access=again["access"]), name="Alpha")


async def test_a_valid_token_keeps_working_within_its_lifetime(make_mock):
    client = await ufdl(make_mock)
    access = (await tokens(client, "alice"))["access"]
    for _ in range(20):
        check(await post(client, "/v1/projects/list", access=access), 200)


# -- field rules of simplejwt's serializers and the configurable superuser -------------------------

async def test_obtain_trims_username_and_password_and_has_no_length_limit(make_mock):
    client = await ufdl(make_mock)
    trimmed = await post(client, "/v1/auth/obtain", {"username": "  alice ", "password": " alice-pw  "})
    assert claims(check(trimmed, 200, allow=ALLOW_COLLECTION)["access"])["upk"] == "2"
    long_name = await post(client, "/v1/auth/obtain", {"username": "u" * 500, "password": "p" * 500})
    check(long_name, 401, NO_ACCOUNT, allow=ALLOW_COLLECTION)


async def test_refresh_and_verify_trim_the_token(make_mock):
    client = await ufdl(make_mock)
    pair = await tokens(client, "bob")
    check(await post(client, "/v1/auth/refresh", {"refresh": f"  {pair['refresh']}\n"}), 200, allow=ALLOW_COLLECTION)
    assert check(await post(client, "/v1/auth/verify", {"token": f" {pair['access']} "}), 200) == {}
    check(await post(client, "/v1/auth/verify", {"token": "x" * 20_000}), 401, TOKEN_INVALID)


async def test_the_superuser_is_configurable(make_mock):
    options = UfdlOptions(admin_username="root", admin_password="s3cret")
    client = await ufdl(make_mock, {}, api_options={"ufdl": options})
    check(await post(client, "/v1/auth/obtain", {"username": "admin", "password": "admin"}), 401, NO_ACCOUNT)
    pair = check(await post(client, "/v1/auth/obtain", {"username": "root", "password": "s3cret"}), 200)
    user = check(await call(client, "GET", "/v1/users/1", access=pair["access"]), 200)
    assert (user["username"], user["is_superuser"], user["is_staff"], user["email"]) == (
        "root", True, True, "admin@admin.net")


async def test_last_login_is_not_set_by_a_request_denied_by_the_object_permission(make_mock):
    client = await ufdl(make_mock)
    erin = await tokens(client, "erin")
    check(await call(client, "GET", "/v1/projects/1", access=erin["access"]), 403)
    check(await post(client, "/v1/auth/verify", {"token": erin["access"]}), 200)
    admin = await tokens(client, "admin")
    assert check(await call(client, "GET", "/v1/users/6", access=admin["access"]), 200)["last_login"] is None
