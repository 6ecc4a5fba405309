"""Testiny helpers shared by every Testiny test module: the API key, record creation with the run
prefix, and the cleanup (soft delete: the API has no hard delete) of everything the suite created."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from . import safety
from .cleanup import REGISTRY
from .client import Client
from .settings import SETTINGS
from .target import TargetError, target

API = "testiny"
MOCK_DEMO_KEY = "testiny-mock-demo-key"  # the key this project's mock always accepts
MAX_ID = 2147483647

POLICY = safety.Policy(
    api=API,
    collections={"/project/": "projects"},
    body_fields={"id": ("projects", "target")},
    query_lists={"ids": "projects"},
    list_items="projects",  # bulk delete/undelete take a bare array of ids
    read_operations=frozenset({("POST", "/project/find")}),
    create_operations=frozenset({("POST", "/project"), ("POST", "/project/bulk")}),
)
safety.register(POLICY)


def base_url() -> str:
    return target().url(API)


def api_key() -> str:
    if SETTINGS.api_key:
        return SETTINGS.api_key
    if target().is_mock:
        return MOCK_DEMO_KEY
    raise TargetError("Testiny on a live server needs --api-key (or $TESTINY_API_KEY)")


def headers() -> dict[str, str]:
    return {"X-Api-Key": api_key()}


@dataclass
class World:
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0
    _missing: int | None = None

    _client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(base_url(), API, headers)
        return self._client

    def tag(self) -> str:
        with self.lock:
            self.counter += 1
            return f"{SETTINGS.prefix}{self.counter:03d}-"

    def name(self, label: str) -> str:
        return (self.tag() + label)[:40]

    def create(self, label: str = "p", *, exact_name: str | None = None, **fields: Any) -> dict[str, Any]:
        if SETTINGS.read_only:
            pytest.skip("--read-only: needs records of its own")
        body = {"name": exact_name if exact_name is not None else self.name(label), **fields}
        response = self.client.post("/project", json=body)
        created = self.client.expect(response, 200)
        record(created)
        return created

    def find(self, params: dict[str, Any], tag: str | None = None) -> tuple[requests.Response, dict[str, Any]]:
        """`POST /project/find`, limited to names starting with `tag` when given."""
        if tag is not None:
            extra = {"name": {"op": "like", "value": like_prefix(tag)}}
            params = {**params, "filter": {**params.get("filter", {}), "and": [extra, *_and(params)]}}
        response = self.client.post("/project/find", json=params)
        return response, self.client.expect(response, 200)

    def missing_id(self) -> int:
        """An id no project has (beyond the highest one visible), for requests that must land nowhere."""
        if self._missing is None:
            response = self.client.post("/project/find", json={"order": [{"column": "id", "order": "desc"}],
                                                                "pagination": {"limit": 1}, "includeDeleted": True})
            data = response.json().get("data", []) if response.status_code == 200 else []
            highest = data[0]["id"] if data and isinstance(data[0].get("id"), int) else 0
            self._missing = min(highest + 1_000_000, MAX_ID)
            safety.mark_absent_from(API, "projects", self._missing)
        return self._missing


def _and(params: dict[str, Any]) -> list[Any]:
    existing = params.get("filter", {}).get("and")
    if existing is None:
        return []
    return existing if isinstance(existing, list) else [existing]


def like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def record(project: Any) -> None:
    if isinstance(project, dict) and isinstance(project.get("id"), int):
        REGISTRY.add(API, "projects", project["id"], str(project.get("name", "")))


_world: World | None = None
_world_lock = threading.Lock()


def world() -> World:
    global _world
    with _world_lock:
        if _world is None:
            response = safety.GuardedSession(API).get(base_url() + "/account/me", headers=headers(), timeout=30)
            if response.status_code != 200:
                raise TargetError(f"Testiny: GET /account/me answered {response.status_code} {response.text[:200]}; "
                                  "check --api-key")
            _world = World()
            REGISTRY.on_cleanup(API, cleanup)
            REGISTRY.on_verify(API, verify)
        return _world


def _ids_by_prefix(client: Client, include_deleted: bool) -> set[int]:
    """Ids of every project named with this run's prefix (all pages)."""
    found: set[int] = set()
    offset = 0
    while True:
        response = client.post("/project/find", json={
            "filter": {"name": {"op": "like", "value": like_prefix(SETTINGS.prefix)}}, "idOnly": True,
            "includeDeleted": include_deleted, "pagination": {"offset": offset, "limit": PAGE}})
        if response.status_code != 200:
            return found
        data = response.json().get("data", [])
        found.update(item["id"] for item in data if isinstance(item, dict) and isinstance(item.get("id"), int))
        if len(data) < PAGE:
            return found
        offset += len(data)


PAGE = 2000  # the largest page the API serves


def cleanup() -> list[str]:
    """Soft-delete every project this run created (Testiny has no hard delete)."""
    if _world is None:
        return []
    client = _world.client
    for project_id in _ids_by_prefix(client, include_deleted=False):
        REGISTRY.add(API, "projects", project_id, "")  # named with this run's prefix: ours
    deleted, failed, ids = 0, [], sorted(REGISTRY.of(API, "projects"))
    for start in range(0, len(ids), 200):  # bulk delete of our own ids; one by one if a batch fails
        batch = ids[start:start + 200]
        answer = client.delete("/project/bulk", params={"ids": ",".join(map(str, batch))})
        if answer.status_code == 200:
            deleted += len(batch)
            continue
        for project_id in batch:
            answer = client.delete(f"/project/{project_id}")
            if answer.status_code in (200, 404):
                deleted += answer.status_code == 200
            else:
                failed.append(f"{project_id} ({answer.status_code})")
    lines = [f"testiny cleanup: soft-deleted {deleted} project(s) (the API has no hard delete)"]
    if failed:
        lines.append("testiny cleanup: COULD NOT DELETE projects " + ", ".join(failed))
    return lines


def verify() -> list[str]:
    """What of this run the server still holds: live and soft-deleted projects, by prefix and by id."""
    if _world is None:
        return []
    client = _world.client
    live = _ids_by_prefix(client, include_deleted=False)
    kept = _ids_by_prefix(client, include_deleted=True) - live
    ids = sorted(REGISTRY.of(API, "projects"))
    for start in range(0, len(ids), PAGE):  # recorded ids too: a project renamed by a server bug is still ours
        response = client.post("/project/find", json={"ids": ids[start:start + PAGE], "includeDeleted": True,
                                                       "pagination": {"limit": PAGE}})
        for item in response.json().get("data", []) if response.status_code == 200 else []:
            (kept if item.get("is_deleted") else live).add(item["id"])
    kept -= live
    if not live and not kept:
        return ["testiny: the server holds nothing of this run"]
    parts = []
    if live:
        parts.append(f"{len(live)} live project(s) ({', '.join(map(str, sorted(live)[:20]))})")
    if kept:
        parts.append(f"{len(kept)} soft-deleted project(s) (the API has no hard delete)")
    return ["testiny: left on the server: " + "; ".join(parts)]
