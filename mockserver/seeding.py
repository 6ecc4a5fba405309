"""Seed files: YAML or JSON documents with one section per API (`ufdl:`, `testiny:`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

DEMO_SEED = Path(__file__).resolve().parent / "data" / "demo-seed.yaml"


class SeedError(ValueError):
    """A seed file that cannot be used; the message names the file and what is wrong."""


def load_seed_file(path: Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{path}: cannot read seed file ({exc.strerror})") from None
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SeedError(f"{path}: not valid {'JSON' if str(path).endswith('.json') else 'YAML'}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SeedError(f"{path}: a seed file must be a mapping of API name to its data")
    return data


def demo_seed() -> dict[str, Any]:
    return load_seed_file(DEMO_SEED)
