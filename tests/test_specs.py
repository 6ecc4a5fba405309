"""The hand-written specs are valid OpenAPI 3.1, their examples fit their schemas, and every
operation has an operationId, a summary and documented error responses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_DIR = Path(__file__).resolve().parent.parent / "openapi"
SPECS = sorted(p.name for p in SPEC_DIR.glob("*.yaml"))
METHODS = ("get", "post", "put", "patch", "delete")


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((SPEC_DIR / name).read_text(encoding="utf-8"))


def operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def examples_with_schemas(document: dict[str, Any], node: Any, pointer: str):
    """Yield (pointer, example, schema pointer) for every media type object with an example."""
    if isinstance(node, dict):
        if "schema" in node and ("example" in node or "examples" in node):
            if "example" in node:
                values = [node["example"]]
            else:
                values = [resolve(document, e)["value"] for e in node["examples"].values()]
            for value in values:
                yield pointer, value, pointer + "/schema"
        for key, value in node.items():
            yield from examples_with_schemas(document, value, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from examples_with_schemas(document, value, f"{pointer}/{index}")


@pytest.mark.parametrize("name", SPECS)
def test_spec_is_valid_openapi(name):
    validate(load(name))


@pytest.mark.parametrize("name", SPECS)
def test_every_operation_has_an_id_a_summary_and_error_responses(name):
    document = load(name)
    ids = [op.get("operationId") for _, _, op in operations(document)]
    assert all(ids) and len(ids) == len(set(ids))
    for path, method, op in operations(document):
        assert op.get("summary"), f"{method.upper()} {path} has no summary"
        statuses = set(map(str, op["responses"]))
        assert any(s.startswith("4") for s in statuses), f"{method.upper()} {path} documents no 4xx"


@pytest.mark.parametrize("name", SPECS)
def test_examples_match_their_schemas(name):
    document = load(name)
    registry = Registry().with_resource("urn:spec", Resource(contents=document, specification=DRAFT202012))
    checked = 0
    for pointer, example, schema_pointer in examples_with_schemas(document, document["paths"], "/paths"):
        validator = Draft202012Validator({"$ref": f"urn:spec#{schema_pointer}"}, registry=registry)
        errors = [e.message for e in validator.iter_errors(example)]
        assert not errors, f"example at {pointer}: {errors[:3]}"
        checked += 1
    assert checked > 0


def test_product_specs_declare_links_for_stateful_testing():
    for name in ("ufdl.yaml", "testiny.yaml"):
        document = load(name)
        links = [link for _, _, op in operations(document) for r in op["responses"].values()
                 if isinstance(r, dict) for link in r.get("links", {})]
        refs = [r for r in document.get("components", {}).get("responses", {}).values() if r.get("links")]
        assert links or refs, f"{name} has no links"
