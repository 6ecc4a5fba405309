"""Seed files: YAML or JSON documents with one section per API (`ufdl:`, `testiny:`).

They are checked against the published schema (`Seed` in openapi/control.yaml) with errors that
name the file, the place in the file and what is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .text import describe, find_lone_surrogate
from .validation import Violation

DEMO_SEED = Path(__file__).resolve().parent / "data" / "demo-seed.yaml"
SEED_SCHEMA = "/components/schemas/Seed"


class SeedError(ValueError):
    """A seed that cannot be used; the message names the file and what is wrong."""


def load_seed_file(path: Path) -> dict[str, Any]:
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
    return check_seed(data if data is not None else {}, str(path))


def check_seed(data: Any, source: str = "seed") -> dict[str, Any]:
    """Validate a seed document against the published schema; raise SeedError listing every problem."""
    from .spec import load_spec

    validator = load_spec("control.yaml", "control").validator(SEED_SCHEMA)
    violations = validator.violations(data, "seed")
    found = find_lone_surrogate(data)
    if found is not None:
        violations.insert(0, Violation("seed", found[0], describe(found[1]), "unicode"))
    if violations:
        lines = [f"  at {_place(v.path)}: {v.message}" for v in violations[:10]]
        raise SeedError(f"{source}: does not match the seed schema:\n" + "\n".join(lines))
    return data


def _place(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<top level>"


def demo_seed() -> dict[str, Any]:
    return load_seed_file(DEMO_SEED)
