"""The benchmark data, shared by the harness (mock seeds, WireMock bodies) and the ceiling server.

A data set of N projects (N a multiple of 100) holds exactly 100 "hot" projects, spread evenly, so
that every filtered workload matches 100 answers whatever N is:

* UFDL: teams `bench` (pk 1) and `hot` (pk 2); project i (pk i+1) is named `project-{i:06d}`
  and belongs to `hot` when i % (N/100) == N/100 - 1, else to `bench`. The filter is
  `{"expressions":[{"type":"exact","field":"team","value":2}]}`.
* Testiny: project i (id i+1) is named `project {i:06d}`, has no key, and its description is
  `hot` for the same i, else "". The filter is `{"description": "hot"}`.

The JSON of one project is built here exactly as the mock prints it (same keys, same order, same
timestamp formats), so the ceiling server and the WireMock stubs send bodies of the same bytes.
"""

from __future__ import annotations

from typing import Any

UFDL_CREATED = "2026-01-01T00:00:00.000000Z"  # the mock's format: microseconds, Z
TESTINY_CREATED = "2026-01-01T00:00:00.000Z"  # the mock's format: milliseconds, Z
UFDL_TEAMS = ("bench", "hot")  # pks 1 and 2 on a fresh mock (teams have their own pk counter)
HOT_TEAM_PK = 2
ADMIN_PK = 1
HOT_MATCHES = 100
TESTINY_PAGE = 1000  # the unfiltered find asks for a page of this many (the mock caps pages at 2000)

UFDL_FILTER = {"expressions": [{"type": "exact", "field": "team", "value": HOT_TEAM_PK}]}
TESTINY_FILTER = {"description": "hot"}


def is_hot(i: int, size: int) -> bool:
    step = max(size // HOT_MATCHES, 1)
    return i % step == step - 1


# -- UFDL --------------------------------------------------------------------------------------

def ufdl_team_of(i: int, size: int) -> str:
    return UFDL_TEAMS[1] if is_hot(i, size) else UFDL_TEAMS[0]


def ufdl_project(i: int, size: int) -> dict[str, Any]:
    """Project i as the mock answers it (pk i+1, creator admin)."""
    return {"pk": i + 1, "name": f"project-{i:06d}", "team": 2 if is_hot(i, size) else 1, "creator": ADMIN_PK,
            "creation_time": UFDL_CREATED, "deletion_time": None}


def ufdl_seed(size: int) -> dict[str, Any]:
    """The control API seed (`POST /__mock__/seed`) of a UFDL data set."""
    return {"ufdl": {
        "teams": [{"name": name} for name in UFDL_TEAMS],
        "projects": [{"name": f"project-{i:06d}", "team": ufdl_team_of(i, size), "creation_time": UFDL_CREATED}
                     for i in range(size)],
    }}


def ufdl_projects(size: int) -> list[dict[str, Any]]:
    return [ufdl_project(i, size) for i in range(size)]


# -- Testiny -----------------------------------------------------------------------------------

def testiny_project(i: int, size: int, etag: str = "0" * 32) -> dict[str, Any]:
    """Project i as the mock answers it before any update (id i+1, created by the system user 0)."""
    return {"id": i + 1, "is_deleted": False, "created_at": TESTINY_CREATED, "created_by": 0, "_etag": etag,
            "owner_user_id": 0, "name": f"project {i:06d}", "project_key": None,
            "description": "hot" if is_hot(i, size) else ""}


def testiny_seed(size: int) -> dict[str, Any]:
    return {"testiny": {"projects": [
        {"name": f"project {i:06d}", "project_key": None, "description": "hot" if is_hot(i, size) else ""}
        for i in range(size)
    ]}}


def testiny_find_result(projects: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    page = projects[:limit]
    return {"data": page, "meta": {"count": len(page), "offset": 0, "limit": limit}}
