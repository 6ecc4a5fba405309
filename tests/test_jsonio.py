"""jsonio: JSON in and out of the hot path, and the encodings kept in caches."""

from __future__ import annotations

import tracemalloc

import pytest

from mockserver import jsonio

PROJECT = {"pk": 1, "name": "project-000001", "team": 1, "creator": 1,
           "creation_time": "2026-01-01T00:00:00.000000Z", "deletion_time": None}


def test_kept_encodings_cost_about_their_own_size():
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [jsonio.dumps_kept(PROJECT) for _ in range(1000)]
        per_item = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    finally:
        tracemalloc.stop()
    assert per_item < 2 * len(kept[0]) + 100  # orjson's own result holds ~4 KiB per call
    assert kept[0] == jsonio.dumps(PROJECT)


def test_an_encoded_array_is_the_array_of_its_items():
    items = [jsonio.dumps(PROJECT), jsonio.dumps({**PROJECT, "pk": 2})]
    assert jsonio.array(items).value() == [PROJECT, {**PROJECT, "pk": 2}]
    assert jsonio.array([]).value() == []


@pytest.mark.parametrize("text, message", [("[1,", "Expecting value"), ("NaN", "Out of range float"),
                                           ("[" * 101 + "]" * 101, "Maximum nesting depth")])
def test_loads_refuses_what_python_servers_refuse(text, message):
    with pytest.raises(ValueError, match=message):
        jsonio.loads(text.encode())
