"""The one rule for text the mock stores or echoes: it must be Unicode text, so a string holding a
lone surrogate (U+D800..U+DFFF, which JSON's `\\ud800` escape can produce and UTF-8 cannot encode)
is refused wherever text comes in — request bodies of every API and of the control API, seed
files, fault rules. Each caller refuses it in its own envelope; this module only finds it.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(text: str) -> str | None:
    """The first lone surrogate in `text`, or None (a proper pair is decoded to one character)."""
    if text.isascii():
        return None
    found = _SURROGATE.search(text)
    return found.group() if found else None


def find_lone_surrogate(value: Any, path: tuple[str | int, ...] = ()) -> tuple[tuple[str | int, ...], str] | None:
    """Where in a JSON value (keys included) the first lone surrogate is, and which one."""
    if isinstance(value, str):
        found = lone_surrogate(value)
        return (path, found) if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = lone_surrogate(key) if isinstance(key, str) else None
            if found:
                return (*path, key), found
            deeper = find_lone_surrogate(item, (*path, key))
            if deeper:
                return deeper
    elif isinstance(value, list):
        for index, item in enumerate(value):
            deeper = find_lone_surrogate(item, (*path, index))
            if deeper:
                return deeper
    return None


def describe(character: str) -> str:
    return f"holds U+{ord(character):04X}, a lone surrogate: not Unicode text"
