"""The equality index of finds: a find answered from the index gives exactly what a scan gives,
also after every kind of write, and the cached JSON of a project follows its writes."""

from __future__ import annotations

import itertools
import random

from testiny_helpers import FakeClock

from mockserver import jsonio
from mockserver.apis.testiny.find import encoded_find, run_find
from mockserver.apis.testiny.options import TestinyOptions
from mockserver.apis.testiny.state import TestinyState
from mockserver.persistence import stored_form

FILTERS = [
    {"name": "same"}, {"description": "hot"}, {"description": ""}, {"id": 7}, {"id": 7.0}, {"is_deleted": True},
    {"is_deleted": False, "name": "same"}, {"project_key": None}, {"project_key": "K1"}, {"modified_by": 2},
    {"name": "nobody"}, {"id": True}, {"description": "hot", "or": [{"name": "same"}, {"id": 3}]},
]


def make_store(size: int) -> TestinyState:
    counter = itertools.count(1)
    store = TestinyState(TestinyOptions(), clock=FakeClock(), new_etag=lambda: f"etag-{next(counter)}")
    store.create([{"name": "same" if i % 5 == 0 else f"p{i:03d}", "description": "hot" if i % 7 == 0 else ""}
                  for i in range(size)], 1, bulk=True)
    return store


def assert_index_agrees(store: TestinyState) -> None:
    for flt in FILTERS:
        for deleted in (False, True):
            params = {"filter": flt, "includeDeleted": deleted, "pagination": {"limit": 2000}}
            scanned = run_find(store.projects, params)
            indexed = run_find(store.projects, params, store.index)
            assert indexed == scanned, flt
            assert jsonio.loads(encoded_find(store.projects, params, store.index).data) == scanned


def test_finds_from_the_index_match_a_scan_through_random_writes():
    store = make_store(60)
    assert_index_agrees(store)  # builds the indexes
    rng = random.Random(7)
    for step in range(300):
        pid = rng.randint(1, len(store.projects))
        action = rng.choice(["rename", "describe", "key", "delete", "undelete", "create"])
        if action == "rename":
            store.update([(pid, {"name": rng.choice(["same", "other", f"n{step}"])})], 2, force=True, bulk=False)
        elif action == "describe":
            store.update([(pid, {"description": rng.choice(["hot", ""])})], 2, force=True, bulk=False)
        elif action == "key":
            key = None if rng.random() < 0.5 else f"K{step}"
            if store.projects[pid].is_deleted:
                continue
            store.update([(pid, {"project_key": key})], 2, force=True, bulk=False)
        elif action == "delete":
            store.delete([pid], 2)
        elif action == "undelete":
            store.undelete([pid], 2, bulk=False)
        else:
            store.create([{"name": rng.choice(["same", f"c{step}"])}], 3, bulk=False)
        if step % 10 == 0:
            assert_index_agrees(store)
    assert_index_agrees(store)


def test_a_purge_takes_projects_out_of_the_index():
    store = make_store(20)
    assert run_find(store.projects, {"filter": {"name": "same"}}, store.index)["meta"]["count"] == 4
    store.purge("same")
    assert run_find(store.projects, {"filter": {"name": "same"}}, store.index)["data"] == []
    assert_index_agrees(store)


def test_a_large_bucket_falls_back_to_a_scan_in_id_order():
    store = make_store(40)
    store.update([(1, {"description": "x"})], 2, force=True, bulk=False)  # id 1 leaves the big "" bucket
    store.update([(1, {"description": ""})], 2, force=True, bulk=False)  # and comes back, filed last
    assert store.index.lookup("description", "") is None
    ids = [p["id"] for p in run_find(store.projects, {"filter": {"description": ""}}, store.index)["data"]]
    assert ids == sorted(ids) and ids[0] == 1


def test_the_sent_json_follows_every_write_and_is_never_stored():
    store = make_store(3)
    project = store.projects[2]
    before = project.encoded().data
    store.update([(2, {"name": "renamed"})], 2, force=True, bulk=False)
    after = jsonio.loads(project.encoded().data)
    assert after["name"] == "renamed" and after["_etag"] != jsonio.loads(before)["_etag"]
    store.delete([2], 2)
    assert jsonio.loads(project.encoded().data)["is_deleted"] is True
    tables, meta = stored_form(store)
    assert all("json_bytes" not in entry and "_json" not in entry for entry in tables["project"])
    assert jsonio.loads(TestinyState.restore(TestinyOptions(), tables, meta).projects[2].encoded().data) == \
        jsonio.loads(project.encoded().data)
