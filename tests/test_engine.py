"""The generic engine, on a toy API: routing, method handling, decoding, validation, errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
from toy_api import TOY

from mockserver import MockConfig, create_app
from mockserver.api import HttpDialect, Reply
from mockserver.app import RUNTIMES
from mockserver.spec import SpecError


@pytest.fixture
async def toy(aiohttp_client):
    app = create_app(MockConfig(access_log=False, strict=True, max_body_bytes=2048), definitions=[TOY])
    client = await aiohttp_client(app)
    client.runtime = app[RUNTIMES][0]
    return client


async def test_literal_path_wins_over_template_and_wrong_method_gives_405_with_allow(toy):
    response = await toy.get("/toy/items/create")
    assert response.status == 405
    assert (await response.json())["error"] == "MethodNotAllowed"
    assert response.headers["Allow"] == "POST, OPTIONS"


async def test_options_lists_the_methods_of_the_path_without_a_body(toy):
    response = await toy.options("/toy/items/1")
    assert response.status == 204  # an API that does not describe its paths (DRF does) answers no body
    assert response.headers["Allow"] == "GET, DELETE, HEAD, OPTIONS"
    assert await response.read() == b""


async def test_options_answers_what_the_api_says_about_the_path(aiohttp_client):
    described = replace(TOY, http=HttpDialect(describe_path=lambda entry: Reply(200, {"path": entry.template})))
    client = await aiohttp_client(create_app(MockConfig(access_log=False, strict=True), definitions=[described]))
    response = await client.options("/toy/items/1")
    assert response.status == 200
    assert await response.json() == {"path": "/items/{id}"}


async def test_create_then_read_back_and_head_is_served_by_get(toy):
    created = await toy.post("/toy/items/create", json={"name": "a"})
    assert created.status == 201
    assert await created.json() == {"id": 1, "name": "a"}
    assert (await (await toy.get("/toy/items/1")).json()) == {"id": 1, "name": "a"}
    head = await toy.head("/toy/items/1")
    assert head.status == 200 and await head.read() == b""


async def test_unknown_route_and_unparseable_path_parameter_are_404(toy):
    assert (await toy.get("/toy/nothing")).status == 404
    response = await toy.get("/toy/items/abc")
    assert response.status == 404
    assert (await response.json())["error"] == "PathParamInvalid"
    assert (await toy.get("/toy/items/0")).status == 404  # minimum: 1


async def test_body_that_breaks_the_schema_is_rejected_with_violations(toy):
    response = await toy.post("/toy/items/create", json={"name": "", "extra": 1})
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "RequestInvalid"
    assert any("extra" in w for w in body["where"]) and any("non-empty" in w for w in body["where"])


async def test_missing_required_body_is_a_violation(toy):
    response = await toy.post("/toy/items/create")
    assert response.status == 400
    assert body_error(await response.json()) == "RequestInvalid"


def body_error(body):
    return body["error"]


async def test_malformed_json_wrong_content_type_and_unacceptable_accept(toy):
    bad = await toy.post("/toy/items/create", data="{nope", headers={"Content-Type": "application/json"})
    assert bad.status == 400 and (await bad.json())["error"] == "MalformedBody"
    plain = await toy.post("/toy/items/create", data="x", headers={"Content-Type": "text/plain"})
    assert plain.status == 415
    xml = await toy.get("/toy/items/1", headers={"Accept": "application/xml"})
    assert xml.status == 406
    assert (await toy.get("/toy/items/1", headers={"Accept": "application/*"})).status == 404  # acceptable


async def test_json_content_type_with_charset_and_suffix_is_accepted(toy):
    ok = await toy.post("/toy/items/create", data='{"name": "x"}',
                        headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok.status == 201


async def test_query_parameters_are_coerced_and_checked(toy):
    await toy.post("/toy/items/create", json={"name": "a"})
    assert (await toy.get("/toy/items/1?verbose=true")).status == 200
    wrong = await toy.get("/toy/items/1?verbose=maybe")
    assert wrong.status == 400
    assert any(w.startswith("query:") for w in (await wrong.json())["where"])


async def test_body_over_the_limit_is_413_in_the_api_envelope(toy):
    response = await toy.post("/toy/items/create", json={"name": "x" * 5000})
    assert response.status == 413
    assert (await response.json())["error"] == "BodyTooLarge"


async def test_a_crashing_handler_gives_the_api_500_envelope_and_the_server_lives_on(toy):
    await toy.post("/toy/items/create", json={"name": "boom"})
    response = await toy.get("/toy/items/1")
    assert response.status == 500 and await response.json() == {"error": "internal"}
    assert (await toy.post("/toy/items/create", json={"name": "fine"})).status == 201


async def test_strict_mode_turns_a_response_that_breaks_the_spec_into_a_loud_500(toy):
    await toy.post("/toy/items/create", json={"name": "drift"})
    response = await toy.get("/toy/items/1")
    assert response.status == 500
    assert toy.runtime.contract_violations == ["get_item answered 200: body at <root>: 'name' is a required property"]
    toy.runtime.contract_violations.clear()


def test_start_up_fails_when_an_operation_has_no_handler():
    broken = replace(TOY, handlers={k: v for k, v in TOY.handlers.items() if k != "delete_item"})
    with pytest.raises(SpecError, match="delete_item"):
        create_app(MockConfig(), definitions=[broken])


def test_start_up_fails_when_a_handler_has_no_operation():
    broken = replace(TOY, handlers={**TOY.handlers, "rename_item": TOY.handlers["get_item"]})
    with pytest.raises(SpecError, match="rename_item"):
        create_app(MockConfig(), definitions=[broken])


async def test_paths_outside_every_api_get_a_json_404(aiohttp_client):
    client = await aiohttp_client(create_app(MockConfig(access_log=False), definitions=[TOY]))
    response = await client.get("/elsewhere")
    assert response.status == 404
    assert (await response.json())["detail"] == "Not found."
