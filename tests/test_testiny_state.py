"""Testiny state and find without HTTP: the store's all-or-nothing writes, JSON caching, seeds,
timestamps, the LIKE translation, `q` decoding, paging windows, options and the banner."""

from __future__ import annotations

import base64
import itertools
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from testiny_helpers import FakeClock

from mockserver.apis.testiny import banner, create_state
from mockserver.apis.testiny.errors import DataNotFound, InputDataConflict, InvalidInput, InvalidInputData
from mockserver.apis.testiny.filters import compile_filter, like_pattern
from mockserver.apis.testiny.find import decode_q, run_find
from mockserver.apis.testiny.models import format_time
from mockserver.apis.testiny.options import DEMO_API_KEY, TestinyOptions
from mockserver.apis.testiny.state import TestinyState
from mockserver.cli import build_parser, config_from_args


def make_store(**options) -> tuple[TestinyState, FakeClock]:
    clock = FakeClock()
    counter = itertools.count(1)
    store = TestinyState(TestinyOptions(**options), clock=clock, new_etag=lambda: f"etag-{next(counter)}")
    return store, clock


def test_created_projects_get_increasing_ids_one_timestamp_and_fresh_etags():
    store, _ = make_store()
    made = store.create([{"name": "One"}, {"name": "Two", "project_key": "TW", "description": "d"}], 7, bulk=True)
    assert [p.to_json() for p in made] == [
        {"id": 1, "is_deleted": False, "created_at": "2024-05-01T10:00:00.000Z", "created_by": 7, "_etag": "etag-1",
         "owner_user_id": 0, "name": "One", "project_key": None, "description": ""},
        {"id": 2, "is_deleted": False, "created_at": "2024-05-01T10:00:00.000Z", "created_by": 7, "_etag": "etag-2",
         "owner_user_id": 0, "name": "Two", "project_key": "TW", "description": "d"},
    ]


def test_the_json_is_cached_until_the_next_write():
    store, clock = make_store()
    [project] = store.create([{"name": "Cached"}], 1, bulk=False)
    first = project.to_json()
    assert project.to_json() is first
    clock.advance(seconds=1)
    store.update([(project.id, {"description": "new"})], 2, force=True, bulk=False)
    second = project.to_json()
    assert second is not first
    assert first["description"] == "" and "modified_at" not in first
    assert (second["description"], second["modified_at"], second["modified_by"]) == ("new", "2024-05-01T10:00:01.000Z", 2)


def test_a_failed_bulk_write_changes_nothing_and_uses_no_id_or_etag():
    store, _ = make_store()
    store.create([{"name": "Keeper", "project_key": "KP"}], 1, bulk=False)
    before = {pid: dict(p.to_json()) for pid, p in store.projects.items()}
    with pytest.raises(InputDataConflict, match=r"^item 1: project_key: 'KP' is already used by project 1$"):
        store.create([{"name": "New"}, {"name": "Clash", "project_key": "KP"}], 1, bulk=True)
    with pytest.raises(DataNotFound, match=r"^item 1: project 5 not found$"):
        store.update([(1, {"name": "Changed"}), (5, {})], 1, force=True, bulk=True)
    with pytest.raises(DataNotFound, match=r"^project 9 not found$"):
        store.delete([1, 9], 1)
    assert {pid: p.to_json() for pid, p in store.projects.items()} == before
    assert store.create([{"name": "Next"}], 1, bulk=False)[0].to_json()["_etag"] == "etag-2"
    assert list(store.projects) == [1, 2]


def test_update_checks_etags_unless_forced():
    store, _ = make_store()
    [project] = store.create([{"name": "Tagged"}], 1, bulk=False)
    with pytest.raises(InputDataConflict, match="_etag: missing"):
        store.update([(1, {"name": "x y z"})], 1, force=False, bulk=False)
    with pytest.raises(InputDataConflict, match="_etag: does not match"):
        store.update([(1, {"_etag": "etag-0"})], 1, force=False, bulk=False)
    store.update([(1, {"_etag": "etag-1", "name": "Fresh"})], 1, force=False, bulk=False)
    assert (project.name, project.etag) == ("Fresh", "etag-2")


def test_keys_swap_in_one_update_but_a_third_project_keeps_its_key():
    store, _ = make_store()
    store.create([{"name": "A a", "project_key": "AA"}, {"name": "B b", "project_key": "BB"},
                  {"name": "C c", "project_key": "CC"}], 1, bulk=True)
    store.update([(1, {"project_key": "BB"}), (2, {"project_key": "AA"})], 1, force=True, bulk=True)
    assert [p.project_key for p in store.projects.values()] == ["BB", "AA", "CC"]
    with pytest.raises(InputDataConflict, match=r"^item 0: project_key: 'CC' is already used by project 3$"):
        store.update([(1, {"project_key": "CC"})], 1, force=True, bulk=True)
    with pytest.raises(InputDataConflict, match=r"^item 0: project_key: 'BB' is already used by project 1$"):
        store.update([(2, {"project_key": "BB"}), (1, {"name": "keeps BB"})], 1, force=True, bulk=True)


def test_delete_releases_the_key_and_undelete_claims_it_again():
    store, clock = make_store()
    store.create([{"name": "Old one", "project_key": "OK"}], 1, bulk=False)
    clock.advance(minutes=1)
    [gone] = store.delete([1], 3)
    assert (gone.deleted_at, gone.deleted_by, gone.modified_at) == ("2024-05-01T10:01:00.000Z", 3, None)
    store.create([{"name": "New one", "project_key": "OK"}], 1, bulk=False)
    with pytest.raises(InputDataConflict, match=r"^project_key: 'OK' is already used by project 2$"):
        store.undelete([1], 1, bulk=False)
    store.delete([2], 1)
    [back] = store.undelete([1], 4, bulk=False)
    assert (back.is_deleted, back.modified_by, back.deleted_at) == (False, 4, None)
    with pytest.raises(InputDataConflict):
        store.create([{"name": "Third", "project_key": "OK"}], 1, bulk=False)


def test_timestamps_are_utc_milliseconds_in_24_characters():
    assert format_time(datetime(2024, 5, 1, 10, 0, 0, 999_999, tzinfo=UTC)) == "2024-05-01T10:00:00.999Z"
    assert format_time(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0999-01-02T03:04:05.000Z"


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    ("a%", "abc", True), ("a%", "Abc", False), ("%b%", "abc", True), ("a_c", "abc", True), ("a_c", "abbc", False),
    ("100\\%", "100%", True), ("100\\%", "1000", False), ("a\\_c", "abc", False), ("a\\_c", "a_c", True),
    ("a.c", "abc", False), ("(x)", "(x)", True), ("tail\\", "tail\\", True), ("%", "multi\nline", True),
])
def test_like_patterns_follow_sql_like(pattern, text, matches):
    assert (like_pattern(pattern).fullmatch(text) is not None) is matches


def test_decode_q_reads_json_and_every_base64_flavour():
    text = '{"filter":{"name":"a>b?"}}'
    for encoded in (text, base64.b64encode(text.encode()).decode(), base64.urlsafe_b64encode(text.encode()).decode(),
                    base64.b64encode(text.encode()).decode().rstrip("="),
                    base64.b64encode(text.encode()).decode().replace("+", " ")):
        assert decode_q(encoded) == {"filter": {"name": "a>b?"}}
    for bad in ("[1]", "%%", base64.b64encode(b"1").decode(), "{x"):
        with pytest.raises(InvalidInput):
            decode_q(bad)


def test_compiled_filters_check_columns_before_any_row_is_seen():
    with pytest.raises(InvalidInputData, match=r"^filter\.and\[0\]\.nope: unknown column"):
        compile_filter({"and": [{"nope": 1}]})
    assert compile_filter({"or": [{"id": 1}, {"name": {"op": "like", "value": "x%"}}]})({"id": 2, "name": "xy"})


def test_find_pages_follow_offset_limit_and_inflate():
    store, _ = make_store()
    store.create([{"name": f"P {n:03d}"} for n in range(10)], 1, bulk=True)
    result = run_find(store.projects, {"pagination": {"offset": 8, "limit": 5}, "idOnly": True})
    assert result == {"data": [{"id": 9}, {"id": 10}], "meta": {"count": 2, "offset": 8, "limit": 5}}
    result = run_find(store.projects, {"pagination": {"limit": 3, "pageAtId": 8, "inflate": 1}, "idOnly": True})
    assert [p["id"] for p in result["data"]] == [6, 7, 8, 9, 10] and result["meta"]["offset"] == 5


def test_bulk_creating_2500_projects_and_finding_them_is_quick():
    store, _ = make_store()
    started = time.perf_counter()
    for start in range(0, 2500, 1000):
        store.create([{"name": f"Project {n}"} for n in range(start, min(start + 1000, 2500))], 1, bulk=True)
    pages = [run_find(store.projects, {"pagination": {"offset": offset}}) for offset in (0, 2000)]
    assert time.perf_counter() - started < 1.0
    assert [page["meta"]["count"] for page in pages] == [2000, 500]


@pytest.mark.parametrize(("entry", "message"), [
    ({"project_key": "NO"}, "needs a name"), ({"name": "ab"}, "at least 3 characters after trimming"),
    ({"name": "\u200b\u200bab"}, "name: must be"),  # format characters are trimmed, as by the API
    ({"name": "x" * 41}, "at most 40"), ({"name": "Good", "project_key": "bad"}, "project_key"),
    ({"name": "Good", "description": 5}, "description"), ("just text", "needs a name"),
])
def test_bad_seed_entries_are_refused_naming_the_entry(entry, message):
    with pytest.raises(ValueError, match=rf"^testiny seed: projects\[0\]: .*{message}"):
        create_state(TestinyOptions(), {"projects": [entry]})


def test_seeds_keep_keys_unique_among_live_projects_only():
    with pytest.raises(ValueError, match=r"projects\[1\]: project_key: 'DP' is already used by project 1"):
        create_state(TestinyOptions(), {"projects": [{"name": "One", "project_key": "DP"},
                                                 {"name": "Two", "project_key": "DP"}]})
    store = create_state(None, {"projects": [{"name": "Live", "project_key": "DP"},
                                             {"name": "Gone", "project_key": "DP", "deleted": True}]})
    assert [(p.project_key, p.is_deleted, p.deleted_by) for p in store.projects.values()] == [
        ("DP", False, None), ("DP", True, 0)]
    assert store.dump()["next_id"] == 3 and len(store.dump()["projects"]) == 2


def test_the_demo_key_is_always_accepted_and_own_keys_are_added_in_order():
    args = build_parser().parse_args(["--api", "testiny", "--testiny-api-key", "k1", "--testiny-api-key", "k2",
                                      "--testiny-api-key", "k1"])
    options = config_from_args(args).api_options["testiny"]
    assert options.api_keys == (DEMO_API_KEY, "k1", "k2")
    store = create_state(options, {})
    assert [store.account_for_key(k).user_id for k in options.api_keys] == [1, 2, 3]
    assert store.account_for_key("k3") is None
    with pytest.raises(ValueError, match="non-empty"):
        config_from_args(build_parser().parse_args(["--testiny-api-key", " "]))


def test_the_banner_prints_the_base_url_the_keys_and_a_curl_line():
    runtime = SimpleNamespace(base_path="/api/v1", options=TestinyOptions((DEMO_API_KEY, "mine")))
    lines = banner(runtime, "http://localhost:8771")
    text = "\n".join(lines)
    assert "http://localhost:8771/api/v1/" in lines[0] and DEMO_API_KEY in lines[0]
    assert "X-Api-Key: mine" in text
    assert f"curl -s http://localhost:8771/api/v1/account/me -H 'X-Api-Key: {DEMO_API_KEY}'" in text
