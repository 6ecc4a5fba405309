"""Seed files: YAML or JSON documents with one section per API (`ufdl:`, `testiny:`, ...).

Each section is checked against its API's own seed schema (`ApiDefinition.seed_schema`, which may
refer to rules of the API's spec), with errors that name the file, the place in the file and what
is wrong. The same check serves seed files and seeds posted to the control API.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from .api import ApiDefinition
from .text import describe, find_lone_surrogate
from .validation import SchemaValidator, ValidatorFactory, Violation, dotted_path

DEMO_SEED = Path(__file__).resolve().parent / "data" / "demo-seed.yaml"


class SeedError(ValueError):
    """A seed that cannot be used; the message names the file and what is wrong."""


def load_seed_file(path: Path, definitions: Iterable[ApiDefinition] | None = None) -> dict[str, Any]:
    """A seed file, checked against the seed schemas of every API the mock knows and of `definitions`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{path}: cannot read seed file ({exc.strerror})") from None
    is_json = path.suffix.lower() == ".json"
    try:
        data = json.loads(text) if is_json else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SeedError(f"{path}: not valid {'JSON' if is_json else 'YAML'}: {exc}") from None
    return check_seed(data if data is not None else {}, definitions, str(path))


def check_seed(data: Any, definitions: Iterable[ApiDefinition] | None = None, source: str = "seed") -> dict[str, Any]:
    """`data` if it is a seed for the APIs the mock knows and `definitions`; else SeedError listing
    the problems."""
    problems = seed_violations(data, definitions)
    if problems:
        lines = [f"  at {dotted_path(v.path) or '<top level>'}: {v.readable}" for v in problems[:10]]
        raise SeedError(f"{source}: does not match the seed schema:\n" + "\n".join(lines))
    return data


def seed_violations(data: Any, definitions: Iterable[ApiDefinition] | None = None,
                    location: str = "seed") -> list[Violation]:
    """What in `data` is not a seed of the APIs the mock knows and `definitions`: the problems of
    every section, their places starting with the section's name."""
    known = known_apis(definitions)
    found = find_lone_surrogate(data)
    if found is not None:
        return [Violation(location, found[0], describe(found[1]), "unicode")]
    if not isinstance(data, dict):
        return [Violation(location, (), f"a seed is a mapping of API names to their sections, not {data!r:.60}",
                          "type")]
    problems: list[Violation] = []
    for name, section in data.items():
        definition = known.get(name)
        if definition is None or definition.seed_schema is None:
            takes = ", ".join(n for n, d in known.items() if d.seed_schema is not None)
            problems.append(Violation(location, (name,), f"no API named {name!r} takes a seed section "
                                                       f"(sections: {takes})", "additionalProperties"))
            continue
        validator = seed_validator(definition.seed_schema, definition.spec_file, definition.name)
        problems.extend(replace(v, location=location, path=(name, *v.path)) for v in validator.violations(section))
    return problems


def known_apis(served: Iterable[ApiDefinition] | None = None) -> dict[str, ApiDefinition]:
    """The APIs a seed may have sections for, by name: every API the mock knows, and those served
    (which may be none of those, e.g. an API given to MockService directly)."""
    from . import apis

    known = {d.name: d for d in apis.definitions()}
    known.update((d.name, d) for d in served or ())
    return known


@functools.lru_cache(maxsize=32)
def seed_validator(schema_file: str, spec_file: str, api: str) -> SchemaValidator:
    """The compiled seed schema of an API; its `$ref`s into `urn:mockserver:<api>` reach the spec."""
    from .spec import load_spec

    with open(schema_file, encoding="utf-8") as handle:
        schema = yaml.safe_load(handle)
    spec = load_spec(spec_file, api).document  # the document the API is served from (parsed once)
    factory = ValidatorFactory(schema, f"urn:mockserver:{api}:seed", {f"urn:mockserver:{api}": spec})
    return factory.validator("")


def demo_seed() -> dict[str, Any]:
    return load_seed_file(DEMO_SEED)
