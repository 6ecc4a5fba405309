"""jsonio: JSON in and out of the hot path, and the encodings kept in caches."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize(("doc", "message"), [
    ('{"name": "x",}', "Expecting property name enclosed in double quotes: line 1 column 14 (char 13)"),
    ("[1,]", "Expecting value: line 1 column 4 (char 3)"),
    ('{"a": 1,  \n }', "Expecting property name enclosed in double quotes: line 2 column 2 (char 12)"),
    ("[1,\t]", "Expecting value: line 1 column 5 (char 4)"),
])
def test_a_trailing_comma_is_worded_alike_on_every_python(doc, message, monkeypatch):
    """DRF quotes the parser's message; Python 3.13 words a trailing comma its own way, at the
    comma ("Illegal trailing comma before end of object: ... (char 12)")."""
    with pytest.raises(ValueError) as caught:
        jsonio.loads(doc.encode())
    assert str(caught.value) == message

    kind = "object" if doc.startswith("{") else "array"

    def parser_of_python_3_13(text: str, **_: object) -> None:
        raise json.JSONDecodeError(f"Illegal trailing comma before end of {kind}", text, doc.rindex(","))

    monkeypatch.setattr(jsonio.json, "loads", parser_of_python_3_13)
    with pytest.raises(ValueError) as caught:
        jsonio.loads(doc.encode())
    assert str(caught.value) == message
