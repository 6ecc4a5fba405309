"""UFDL projects: create, retrieve, update (PUT) and partial update (PATCH), with DRF's field
validation messages and coercions (trimming, numbers as names, `"1"` and `1.5` as team, null,
blank, too long, wrong types), non-object bodies, and read-only/unknown keys being ignored."""

from __future__ import annotations

import pytest
from ufdl_helpers import (
    ALICE,
    ALLOW_COLLECTION,
    ALLOW_DETAIL,
    BLANK,
    NOT_A_STRING,
    NULL,
    REQUIRED,
    TOO_LONG,
    call,
    check,
    check_project,
    token,
    ufdl,
)

CREATE = "/v1/projects/create"


def incorrect(kind: str) -> list[str]:
    return [f"Incorrect type. Expected pk value, received {kind}."]


def missing_team(pk: str) -> list[str]:
    return [f'Invalid pk "{pk}" - object does not exist.']


async def create(client, body, user: str = "admin", **kwargs):
    return await call(client, "POST", CREATE, user=user, json_body=body, **kwargs)


# -- create ---------------------------------------------------------------------------------------

async def test_create_answers_201_with_the_project_in_key_order_and_the_caller_as_creator(make_mock):
    client = await ufdl(make_mock)
    answer = await create(client, {"name": "Delta", "team": 1}, user="alice")
    project = check_project(answer, 201, allow=ALLOW_COLLECTION, pk=5, name="Delta", team=1, creator=ALICE,
                            deletion_time=None)
    fetched = check_project(await call(client, "GET", "/v1/projects/5", user="alice"))
    assert fetched == project


async def test_created_projects_take_increasing_pks(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    pks = []
    for name in ("one", "two", "three"):
        answer = await call(client, "POST", CREATE, access=admin, json_body={"name": name, "team": 2})
        pks.append(check_project(answer, 201, allow=ALLOW_COLLECTION)["pk"])
    assert pks == [5, 6, 7]


async def test_create_trims_surrounding_whitespace_of_the_name(make_mock):
    client = await ufdl(make_mock)
    check_project(await create(client, {"name": "  Padded Name  ", "team": 1}), 201, allow=ALLOW_COLLECTION,
                  name="Padded Name")
    check_project(await create(client, {"name": "\tTabbed\n", "team": 1}), 201, allow=ALLOW_COLLECTION,
                  name="Tabbed")


@pytest.mark.parametrize(("value", "stored"), [(123, "123"), (42, "42"), (0, "0"), (-7, "-7"), (1.5, "1.5")])
async def test_numbers_given_as_name_are_stored_as_strings(make_mock, value, stored):
    client = await ufdl(make_mock)
    check_project(await create(client, {"name": value, "team": 1}), 201, allow=ALLOW_COLLECTION, name=stored)


@pytest.mark.parametrize(("value", "team"), [("1", 1), (" 2 ", 2), ("+1", 1), ("002", 2), (1.5, 1), (2.0, 2),
                                             (1.99, 1)])
async def test_team_as_numeric_string_or_float_resolves_like_int(make_mock, value, team):
    client = await ufdl(make_mock)
    check_project(await create(client, {"name": "T", "team": value}), 201, allow=ALLOW_COLLECTION, team=team)


@pytest.mark.parametrize(("name", "errors"), [
    ("", BLANK), ("   ", BLANK), ("\t\n", BLANK), (None, NULL),
    ("x" * 201, TOO_LONG), ("  " + "x" * 201 + "  ", TOO_LONG),
    (True, NOT_A_STRING), (False, NOT_A_STRING), ({"a": 1}, NOT_A_STRING), ([], NOT_A_STRING), (["x"], NOT_A_STRING),
    ("nul\x00char", ["Null characters are not allowed."]),
])
async def test_invalid_names_are_400_with_the_drf_message(make_mock, name, errors):
    client = await ufdl(make_mock)
    check(await create(client, {"name": name, "team": 1}), 400, {"name": errors}, allow=ALLOW_COLLECTION)


async def test_a_name_of_exactly_200_characters_after_trimming_is_accepted(make_mock):
    client = await ufdl(make_mock)
    name = "n" * 200
    check_project(await create(client, {"name": f"   {name}   ", "team": 1}), 201, allow=ALLOW_COLLECTION, name=name)


@pytest.mark.parametrize(("team", "errors"), [
    ("abc", incorrect("str")), ("1.5", incorrect("str")), ("", NULL), (True, incorrect("bool")),
    (False, incorrect("bool")), ({"pk": 1}, incorrect("dict")), ([1], incorrect("list")), (None, NULL),
    (999, missing_team("999")), ("999", missing_team("999")), (999999, missing_team("999999")),
    (0, missing_team("0")), (-1, missing_team("-1")),
])
async def test_invalid_teams_are_400_with_the_drf_message(make_mock, team, errors):
    client = await ufdl(make_mock)
    check(await create(client, {"name": "N", "team": team}), 400, {"team": errors}, allow=ALLOW_COLLECTION)


async def test_missing_fields_are_all_reported_name_first(make_mock):
    client = await ufdl(make_mock)
    both = {"name": REQUIRED, "team": REQUIRED}
    check(await create(client, {}), 400, both, allow=ALLOW_COLLECTION)
    check(await call(client, "POST", CREATE, user="admin"), 400, both, allow=ALLOW_COLLECTION)
    check(await create(client, {"team": 1}), 400, {"name": REQUIRED})
    check(await create(client, {"name": "N"}), 400, {"team": REQUIRED})
    check(await create(client, {"team": "abc", "name": ""}), 400, {"name": BLANK, "team": incorrect("str")})


@pytest.mark.parametrize(("body", "kind"), [([], "list"), ([{"name": "N", "team": 1}], "list"), ("hello", "str"),
                                            (5, "int"), (1.5, "float"), (True, "bool")])
async def test_a_body_that_is_not_an_object_is_400_non_field_errors(make_mock, body, kind):
    client = await ufdl(make_mock)
    check(await create(client, body), 400,
          {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}, allow=ALLOW_COLLECTION)


async def test_json_null_body_is_400_no_data_provided(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "POST", CREATE, user="admin", data=b"null", headers={"Content-Type": "application/json"})
    check(answer, 400, {"non_field_errors": ["No data provided"]}, allow=ALLOW_COLLECTION)


async def test_read_only_and_unknown_keys_are_ignored_on_create(make_mock):
    client = await ufdl(make_mock)
    body = {"name": "Ignored", "team": 1, "pk": 99, "creator": 5, "creation_time": "2000-01-01T00:00:00.000000Z",
            "deletion_time": "2000-01-01T00:00:00.000000Z", "foo": {"bar": 1}}
    project = check_project(await create(client, body, user="alice"), 201, allow=ALLOW_COLLECTION, pk=5, creator=ALICE,
                            deletion_time=None)
    assert not project["creation_time"].startswith("2000")


async def test_form_encoded_bodies_get_the_same_field_errors(make_mock):
    client = await ufdl(make_mock)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    check(await call(client, "POST", CREATE, user="admin", data="name=&team=1", headers=form), 400, {"name": BLANK})
    check(await call(client, "POST", CREATE, user="admin", data="name=x&team=abc", headers=form), 400,
          {"team": incorrect("str")})
    check(await call(client, "POST", CREATE, user="admin", data="name=x&team=", headers=form), 400, {"team": NULL})
    check(await call(client, "POST", CREATE, user="admin", data="", headers=form), 400,
          {"name": REQUIRED, "team": REQUIRED})


async def test_create_in_a_soft_deleted_team_succeeds(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "DELETE", "/v1/teams/2", access=admin), 204)
    answer = await call(client, "POST", CREATE, access=admin, json_body={"name": "Late", "team": 2})
    check_project(answer, 201, allow=ALLOW_COLLECTION, team=2)


# -- retrieve -------------------------------------------------------------------------------------

async def test_retrieve_returns_the_project(make_mock):
    client = await ufdl(make_mock)
    answer = await call(client, "GET", "/v1/projects/1", user="bob")
    check_project(answer, pk=1, name="Alpha", team=1, creator=ALICE, creation_time="2026-01-01T00:00:01.000001Z",
                  deletion_time=None)


async def test_a_soft_deleted_project_is_retrievable_with_deletion_time(make_mock):
    client = await ufdl(make_mock)
    project = check_project(await call(client, "GET", "/v1/projects/4", user="bob"), name="Old")
    assert project["deletion_time"] is not None


async def test_an_unknown_pk_is_404(make_mock):
    client = await ufdl(make_mock)
    for pk in ("99", "0", "99999999999999999999999"):
        check(await call(client, "GET", f"/v1/projects/{pk}", user="admin"), 404,
              {"detail": "No Project matches the given query."}, allow=ALLOW_DETAIL)


# -- update (PUT) ---------------------------------------------------------------------------------

async def test_put_replaces_name_and_team_and_keeps_creator_and_creation_time(make_mock):
    client = await ufdl(make_mock)
    before = check_project(await call(client, "GET", "/v1/projects/1", user="admin"))
    answer = await call(client, "PUT", "/v1/projects/1", user="admin", json_body={"name": " Renamed ", "team": 2})
    after = check_project(answer, pk=1, name="Renamed", team=2, creator=ALICE)
    assert after["creation_time"] == before["creation_time"]
    assert check_project(await call(client, "GET", "/v1/projects/1", user="admin")) == after


async def test_put_needs_both_fields(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check(await call(client, "PUT", "/v1/projects/1", access=admin, json_body={}), 400,
          {"name": REQUIRED, "team": REQUIRED}, allow=ALLOW_DETAIL)
    check(await call(client, "PUT", "/v1/projects/1", access=admin), 400, {"name": REQUIRED, "team": REQUIRED})
    check(await call(client, "PUT", "/v1/projects/1", access=admin, json_body={"name": "x"}), 400, {"team": REQUIRED})
    check(await call(client, "PUT", "/v1/projects/1", access=admin, json_body={"team": 1}), 400, {"name": REQUIRED})


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize(("body", "errors"), [
    ({"name": "", "team": 1}, {"name": BLANK}),
    ({"name": None, "team": 1}, {"name": NULL}),
    ({"name": "x" * 201, "team": 1}, {"name": TOO_LONG}),
    ({"name": [], "team": 1}, {"name": NOT_A_STRING}),
    ({"name": "x", "team": "abc"}, {"team": incorrect("str")}),
    ({"name": "x", "team": 999}, {"team": missing_team("999")}),
    ({"name": True, "team": None}, {"name": NOT_A_STRING, "team": NULL}),
    ([], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ("hello", {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}),
])
async def test_updates_get_the_same_field_errors_as_create(make_mock, method, body, errors):
    client = await ufdl(make_mock)
    answer = await call(client, method, "/v1/projects/1", user="admin", json_body=body)
    check(answer, 400, errors, allow=ALLOW_DETAIL)
    check_project(await call(client, "GET", "/v1/projects/1", user="admin"), name="Alpha", team=1)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_json_null_update_body_is_400_no_data_provided(make_mock, method):
    client = await ufdl(make_mock)
    answer = await call(client, method, "/v1/projects/1", user="admin", data=b"null",
                        headers={"Content-Type": "application/json"})
    check(answer, 400, {"non_field_errors": ["No data provided"]}, allow=ALLOW_DETAIL)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_read_only_and_unknown_keys_are_ignored_on_update(make_mock, method):
    client = await ufdl(make_mock)
    before = check_project(await call(client, "GET", "/v1/projects/1", user="admin"))
    body = {"name": "Alpha", "team": 1, "pk": 7, "creator": 1, "creation_time": "2000-01-01T00:00:00.000000Z",
            "deletion_time": "2000-01-01T00:00:00.000000Z", "extra": [1, 2]}
    answer = await call(client, method, "/v1/projects/1", user="admin", json_body=body)
    assert check_project(answer) == before


async def test_put_on_a_soft_deleted_project_keeps_deletion_time(make_mock):
    client = await ufdl(make_mock)
    before = check_project(await call(client, "GET", "/v1/projects/4", user="admin"))
    answer = await call(client, "PUT", "/v1/projects/4", user="admin", json_body={"name": "Older", "team": 2})
    check_project(answer, name="Older", team=2, deletion_time=before["deletion_time"])


# -- partial update (PATCH) -----------------------------------------------------------------------

async def test_patch_changes_only_the_given_fields(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    check_project(await call(client, "PATCH", "/v1/projects/1", access=admin, json_body={"name": "  Alpha v2 "}),
                  name="Alpha v2", team=1)
    check_project(await call(client, "PATCH", "/v1/projects/1", access=admin, json_body={"team": "2"}),
                  name="Alpha v2", team=2)
    check_project(await call(client, "PATCH", "/v1/projects/1", access=admin, json_body={"name": 7}), name="7")


async def test_patch_with_an_empty_object_or_no_body_changes_nothing(make_mock):
    client = await ufdl(make_mock)
    admin = await token(client)
    before = check_project(await call(client, "GET", "/v1/projects/2", access=admin))
    assert check_project(await call(client, "PATCH", "/v1/projects/2", access=admin, json_body={})) == before
    assert check_project(await call(client, "PATCH", "/v1/projects/2", access=admin)) == before
    assert check_project(await call(client, "PATCH", "/v1/projects/2", access=admin, data=b"",
                                    headers={"Content-Type": "application/json"})) == before


async def test_patch_on_a_soft_deleted_project_keeps_deletion_time(make_mock):
    client = await ufdl(make_mock)
    before = check_project(await call(client, "GET", "/v1/projects/4", user="admin"))
    answer = await call(client, "PATCH", "/v1/projects/4", user="admin", json_body={"name": "Revived name"})
    check_project(answer, name="Revived name", deletion_time=before["deletion_time"])


async def test_updates_of_an_unknown_pk_are_404(make_mock):
    client = await ufdl(make_mock)
    for method in ("PUT", "PATCH", "DELETE"):
        check(await call(client, method, "/v1/projects/99", user="admin", json_body={"name": "x", "team": 1}), 404,
              {"detail": "No Project matches the given query."}, allow=ALLOW_DETAIL)
