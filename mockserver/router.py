"""Match a request path and method to a spec operation.

Literal paths win over templated ones (so `/v1/projects/list` is never read as a pk), templated
paths are tried most-literal first, and a path that exists without the requested method gives
a 405 (`MethodNotAllowed`, raised by the runtime) with the methods the path does allow, in DRF/HTTP canonical order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import RouteNotFound
from .spec import ApiSpec, Operation, template_regex

CANONICAL_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class PathEntry:
    """One spec path: its operations by method and the `Allow` list derived from them."""

    template: str
    operations: dict[str, Operation]
    allowed: tuple[str, ...]


class Router:
    def __init__(self, spec: ApiSpec, *, optional_trailing_slash: bool = False) -> None:
        self.base_path = spec.base_path
        self._literal: dict[str, PathEntry] = {}
        self._templated: list[tuple[re.Pattern[str], PathEntry]] = []
        slash = "/?" if optional_trailing_slash else ""
        templated = []
        for template, operations in spec.paths.items():
            entry = PathEntry(template, operations, _allowed(operations))
            if "{" not in template:
                self._literal[template] = entry
                if optional_trailing_slash:
                    self._literal[template + "/"] = entry
            else:
                literal_segments = sum(1 for s in template.split("/") if s and "{" not in s)
                pattern = re.compile(template_regex(template).pattern + slash)
                templated.append((literal_segments, len(template), pattern, entry))
        templated.sort(key=lambda item: (-item[0], -item[1]))
        self._templated = [(pattern, entry) for _, _, pattern, entry in templated]

    @property
    def entries(self) -> list[PathEntry]:
        seen: dict[str, PathEntry] = {e.template: e for e in self._literal.values()}
        seen.update({e.template: e for _, e in self._templated})
        return list(seen.values())

    def owns(self, path: str) -> bool:
        """True when the path lies under this API's base path."""
        base = self.base_path
        return not base or path == base or path.startswith(base + "/")

    def resolve_path(self, path: str) -> tuple[PathEntry, dict[str, str]]:
        relative = path[len(self.base_path):] or "/"
        entry = self._literal.get(relative)
        if entry is not None:
            return entry, {}
        for pattern, entry in self._templated:
            found = pattern.fullmatch(relative)
            if found:
                return entry, found.groupdict()
        raise RouteNotFound(path)


def _allowed(operations: dict[str, Operation]) -> tuple[str, ...]:
    methods = set(operations) | {"OPTIONS"}
    if "GET" in methods:
        methods.add("HEAD")
    return tuple(m for m in CANONICAL_ORDER if m in methods)
