"""The APIs this mock can serve, by name. Each lives in its own package and exports `API`."""

from __future__ import annotations

import importlib

from ..api import ApiDefinition

AVAILABLE = ("ufdl", "testiny")


def load(name: str) -> ApiDefinition:
    if name not in AVAILABLE:
        raise ValueError(f"unknown API {name!r}; choose from {', '.join(AVAILABLE)}")
    return importlib.import_module(f"{__name__}.{name}").API
