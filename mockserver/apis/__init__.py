"""The APIs this mock can serve, by name.

The built-in ones are the packages beside this file, each exporting `API` (an `ApiDefinition`);
adding one is a package and a line in `BUILT_IN`. Another distribution adds an API without any
edit here by declaring it under the entry-point group `mockserver.apis`:

    [project.entry-points."mockserver.apis"]
    shop = "my_shop_mock:API"
"""

from __future__ import annotations

import functools
import importlib
from importlib.metadata import entry_points

from ..api import ApiDefinition

BUILT_IN = {"ufdl": "mockserver.apis.ufdl:API", "testiny": "mockserver.apis.testiny:API"}
ENTRY_POINT_GROUP = "mockserver.apis"


@functools.cache
def _registry() -> dict[str, str]:
    """Name → `module:attribute` of every API: built in first, then the installed plugins'."""
    found = dict(BUILT_IN)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(point.name, point.value)
    return found


def names() -> tuple[str, ...]:
    return tuple(_registry())


def load(name: str) -> ApiDefinition:
    target = _registry().get(name)
    if target is None:
        raise ValueError(f"unknown API {name!r}; choose from {', '.join(names())}")
    module, _, attribute = target.partition(":")
    definition = getattr(importlib.import_module(module), attribute or "API")
    if not isinstance(definition, ApiDefinition) or definition.name != name:
        raise ValueError(f"{target} (API {name!r}) is not the ApiDefinition of an API named {name!r}")
    return definition


def definitions() -> list[ApiDefinition]:
    """Every API the mock can serve."""
    return [load(name) for name in names()]
