"""A third API added without one edit under mockserver/: the notes API (tests/notes_api), its own
spec, state, key, error envelope and seed schema, installed as a plugin (an entry point). A real
mock process serves it, seeds, resets, purges and persists it, and its control API shows it."""

from __future__ import annotations

import pytest
import requests
from server_process import ServerProcess
from third_api import notes_plugin

KEY = {"X-Note-Key": "note-key"}
NOTES = "/notes/v1/notes"


@pytest.fixture
def plugin_env(tmp_path):
    with notes_plugin(tmp_path) as env:
        yield env


def test_the_third_api_is_served_in_its_own_envelope(plugin_env, tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("notes:\n  notes:\n    - {title: first}\n    - {title: second}\n", encoding="utf-8")
    with ServerProcess("--api", "notes", "--seed", str(seed), env=plugin_env) as server:
        assert f"notes    {server.url}/notes/v1/\n" in server.banner  # where it is, though it has no banner of its own
        assert "notes" in server.get("/__mock__/health").json()["apis"]
        refused = server.get(NOTES)
        assert refused.status_code == 401
        assert refused.json() == {"error": {"kind": "unauthenticated", "text": "send X-Note-Key"}}
        assert [n["title"] for n in server.get(NOTES, headers=KEY).json()] == ["first", "second"]

        created = server.post(NOTES, headers=KEY, json={"title": "third"})
        assert created.status_code == 201 and created.json() == {"id": 3, "title": "third"}
        invalid = server.post(NOTES, headers=KEY, json={"title": ""})
        assert invalid.status_code == 400 and invalid.json()["error"]["kind"] == "RequestInvalid"
        assert server.get(NOTES + "/99", headers=KEY).json() == {"error": {"kind": "missing", "text": "no note 99"}}
        assert server.get(NOTES + "/abc", headers=KEY).status_code == 404  # the spec's integer id
        wrong = requests.patch(server.url + NOTES + "/1", headers=KEY, timeout=10)
        assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, DELETE, HEAD, OPTIONS"
        assert requests.delete(server.url + NOTES + "/1", headers=KEY, timeout=10).status_code == 204

        described = requests.options(server.url + NOTES, timeout=10)
        assert described.status_code == 204 and described.headers["Allow"] == "GET, POST, HEAD, OPTIONS"
        preflight = requests.options(server.url + NOTES, timeout=10, headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
        assert "X-Note-Key" in preflight.headers["Access-Control-Allow-Headers"]  # read from its spec

        in_session = server.post(NOTES, headers={**KEY, "X-Mock-Session": "s1"}, json={"title": "only in s1"})
        assert in_session.json()["id"] == 3  # a world of its own, from the start-up seed
        assert "only in s1" not in [n["title"] for n in server.get(NOTES, headers=KEY).json()]
        preferred = server.get(NOTES, headers={**KEY, "Prefer": "code=401"})
        assert preferred.status_code == 401 and preferred.json()["error"]["kind"] == "MockAnswer"
        server.post("/__mock__/faults", json={"path": "/notes/v1/*", "status": 503, "count": 1})
        faulty = server.get(NOTES, headers=KEY)
        assert faulty.status_code == 503 and faulty.json()["error"]["kind"] == "InjectedFault"

        journal = server.get("/__mock__/journal", params={"api": "notes"}).json()["entries"]
        assert {e["operation"] for e in journal} >= {"list_notes", "create_note", "delete_note"}


def test_the_third_api_is_seeded_reset_purged_and_persisted(plugin_env, tmp_path):
    state_file = str(tmp_path / "state.db")
    with ServerProcess("--api", "notes", "--state-file", state_file, env=plugin_env) as server:
        assert server.get("/__mock__/state").json() == {"notes": {"notes": [], "next_id": 1}}
        bad = server.post("/__mock__/seed", json={"notes": {"notes": [{"title": "x" * 31}]}})
        assert bad.status_code == 400
        assert bad.json()["errors"][0].startswith("body notes.notes.0.title: ")  # its seed schema, its spec's rule
        unknown = server.post("/__mock__/seed", json={"nope": {}})
        assert unknown.status_code == 400 and "'nope'" in unknown.json()["errors"][0]

        seeded = server.post("/__mock__/seed", json={"notes": {"notes": [{"title": "keep"}, {"title": "tmp-1"}]}})
        assert seeded.json() == {"seeded": ["notes"]}
        server.post("/__mock__/seed", params={"mode": "merge"}, json={"notes": {"notes": [{"title": "tmp-2"}]}})
        server.post(NOTES, headers=KEY, json={"title": "written"})
        purged = server.post("/__mock__/purge", params={"prefix": "tmp-"})
        assert purged.json() == {"purged": {"notes": {"notes": 2}}}
        before = server.get("/__mock__/state").json()["notes"]
        assert [n["title"] for n in before["notes"]] == ["keep", "written"]

    with ServerProcess("--api", "notes", "--state-file", state_file, env=plugin_env) as server:  # a restart
        assert server.get("/__mock__/state").json()["notes"] == before
        assert server.post(NOTES, headers=KEY, json={"title": "after"}).json()["id"] == before["next_id"]
        assert server.post("/__mock__/reset").json() == {"reset": ["notes"]}
        assert server.get(NOTES, headers=KEY).json() == []
