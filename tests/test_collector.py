"""The collector policy of the command line: survivors of a full collection are frozen (later full
passes skip them), and cyclic garbage made afterwards is still collected."""

from __future__ import annotations

import asyncio
import gc
import weakref

from mockserver.collector import freeze_after_full_collections


class Node:
    def __init__(self) -> None:
        self.partner: Node | None = None


async def test_survivors_of_a_full_collection_are_frozen_and_new_cycles_still_collected():
    gc.unfreeze()  # other tests' seeds and resets freeze too
    uninstall = freeze_after_full_collections(asyncio.get_running_loop())
    try:
        records = [Node() for _ in range(1000)]  # long-lived data, like a seed
        gc.collect()
        await asyncio.sleep(0)  # the freeze runs on the loop, right after the collection
        assert gc.get_freeze_count() >= len(records)
        assert all(record is not records[0] for record in gc.get_objects(2))

        a, b = Node(), Node()
        a.partner, b.partner = b, a  # a cycle made after the freeze
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None
    finally:
        uninstall()
        gc.unfreeze()
    assert all(cb.__qualname__ != "freeze_after_full_collections.<locals>.after_collection" for cb in gc.callbacks)


async def test_once_uninstalled_the_policy_freezes_nothing_more():
    uninstall = freeze_after_full_collections(asyncio.get_running_loop())
    uninstall()
    gc.unfreeze()
    gc.collect()
    await asyncio.sleep(0)
    baseline = gc.get_freeze_count()  # 0; CPython 3.12 keeps a few hundred objects of its own there
    records = [Node() for _ in range(100)]
    gc.collect()
    await asyncio.sleep(0)
    assert gc.get_freeze_count() == baseline and records


def test_stored_records_are_left_out_of_the_collectors_passes(tmp_path):
    """Each record the collector tracked was walked by every young pass after its creation and by
    every full pass: at 100k+ records, 2-10 ms young and 40-60 ms full pauses under creates."""
    from mockserver import MockConfig
    from mockserver.service import MockService

    def records(service: MockService) -> list[object]:
        return [record for runtime in service.runtimes for _kind, _key, record in runtime.state.records()]

    service = MockService(MockConfig(access_log=False, state_file=tmp_path / "state.db"))  # the demo data
    ufdl, testiny = (next(r for r in service.runtimes if r.name == name).state for name in ("ufdl", "testiny"))
    ufdl.create_project("made later", 1, 1)
    testiny.create([{"name": "Made later"}], 0, bulk=False)
    made = records(service)
    assert {type(record).__name__ for record in made} >= {"User", "Team", "Membership", "Project"}
    assert [record for record in made if gc.is_tracked(record)] == []
    service.plane.store.save_all("ufdl", ufdl)
    service.plane.store.save_all("testiny", testiny)
    service.close()
    loaded = MockService(MockConfig(access_log=False, state_file=tmp_path / "state.db"))
    try:
        assert len(records(loaded)) == len(made)
        assert [record for record in records(loaded) if gc.is_tracked(record)] == []
    finally:
        loaded.close()
