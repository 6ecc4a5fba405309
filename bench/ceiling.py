"""The ceiling: a bare aiohttp server with the benchmark's routes and nothing else.

It answers the same routes with the same bodies and headers as the mock, from plain dicts in
memory, with the JSON library the mock uses (orjson when importable, else the stdlib) and the
event loop the mock uses (`--loop`, chosen by bench/run.py). No spec, no schema validation, no
journal, no middleware: what aiohttp itself costs for this wire contract on this machine, so the
yardstick for the mock's targets.

    python bench/ceiling.py --port 8001 [--loop asyncio|uvloop] [--api ufdl --api testiny]

Data comes from `POST /__bench__/seed {"api": "ufdl"|"testiny", "size": N}` (bench/datasets.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets  # noqa: E402

try:
    import orjson

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value)

    loads = orjson.loads
    JSON_LIBRARY = f"orjson {orjson.__version__}"
except ImportError:  # pragma: no cover - depends on the environment
    def dumps(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def loads(data: bytes) -> Any:
        return json.loads(data)

    JSON_LIBRARY = "json (stdlib)"

JSON = "application/json"
# The headers the mock adds to every answer (CORS middleware; DRF's Allow and Vary for UFDL).
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Allow, WWW-Authenticate, X-Request-Id"}
UFDL_ITEM = {**CORS, "Allow": "GET, PUT, PATCH, DELETE, HEAD, OPTIONS", "Vary": "Accept, Origin"}
UFDL_POST = {**CORS, "Allow": "POST, OPTIONS", "Vary": "Accept, Origin"}
UFDL_401 = {**CORS, "Vary": "Accept, Origin", "WWW-Authenticate": 'Bearer realm="api"'}
TESTINY_KEY = "testiny-mock-demo-key"

STATE = web.AppKey("state", dict)


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=dumps(body), status=status, content_type=JSON, headers=headers)


def testiny_reply(body: Any, status: int = 200) -> web.Response:
    return reply(body, status, {**CORS, "X-Request-Id": secrets.token_hex(8)})


def now_ms() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def now_us() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- UFDL --------------------------------------------------------------------------------------

class Ufdl:
    def __init__(self, size: int = 0) -> None:
        self.tokens: set[str] = set()
        self.teams = {1: "bench", 2: "hot"}
        self.projects: dict[int, dict[str, Any]] = {}
        self.names: dict[tuple[int, str], int] = {}
        for project in datasets.ufdl_projects(size):
            self.projects[project["pk"]] = project
            self.names[(project["team"], project["name"])] = project["pk"]
        self.next_pk = size + 1


def ufdl_user(request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    return header.startswith("Bearer ") and header[7:] in request.app[STATE]["ufdl"].tokens


def ufdl_denied() -> web.Response:
    return reply({"detail": "Authentication credentials were not provided."}, 401, UFDL_401)


def ufdl_project(request: web.Request) -> dict[str, Any] | None:
    try:
        return request.app[STATE]["ufdl"].projects.get(int(request.match_info["pk"]))
    except ValueError:
        return None


def clean_name(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 200:
        return None
    return value.strip()


async def ufdl_obtain(request: web.Request) -> web.Response:
    body = loads(await request.read())
    if body.get("username") != "admin" or body.get("password") != "admin":
        return reply({"detail": "No active account found with the given credentials"}, 401, UFDL_401)
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    request.app[STATE]["ufdl"].tokens.add(access)
    return reply({"refresh": refresh, "access": access}, headers=UFDL_POST)


async def ufdl_retrieve(request: web.Request) -> web.Response:
    if not ufdl_user(request):
        return ufdl_denied()
    project = ufdl_project(request)
    if project is None:
        return reply({"detail": "No Project matches the given query."}, 404, UFDL_ITEM)
    return reply(project, headers=UFDL_ITEM)


async def ufdl_patch(request: web.Request) -> web.Response:
    if not ufdl_user(request):
        return ufdl_denied()
    body = loads(await request.read())
    project = ufdl_project(request)
    if project is None:
        return reply({"detail": "No Project matches the given query."}, 404, UFDL_ITEM)
    state: Ufdl = request.app[STATE]["ufdl"]
    if "name" in body:
        name = clean_name(body["name"])
        if name is None:
            return reply({"name": ["This field may not be blank."]}, 400, UFDL_ITEM)
        holder = state.names.get((project["team"], name))
        if holder is not None and holder != project["pk"]:
            return reply({"detail": "UNIQUE constraint failed"}, 400, UFDL_ITEM)
        state.names.pop((project["team"], project["name"]), None)
        state.names[(project["team"], name)] = project["pk"]
        project["name"] = name
    return reply(project, headers=UFDL_ITEM)


async def ufdl_create(request: web.Request) -> web.Response:
    if not ufdl_user(request):
        return ufdl_denied()
    body = loads(await request.read())
    state: Ufdl = request.app[STATE]["ufdl"]
    name, team = clean_name(body.get("name")), body.get("team")
    if name is None or team not in state.teams:
        return reply({"name": ["This field is required."]}, 400, UFDL_POST)
    if (team, name) in state.names:
        return reply({"detail": "UNIQUE constraint failed"}, 400, UFDL_POST)
    pk = state.next_pk
    state.next_pk += 1
    project = {"pk": pk, "name": name, "team": team, "creator": datasets.ADMIN_PK, "creation_time": now_us(),
               "deletion_time": None}
    state.projects[pk] = project
    state.names[(team, name)] = pk
    return reply(project, 201, UFDL_POST)


async def ufdl_list(request: web.Request) -> web.Response:
    if not ufdl_user(request):
        return ufdl_denied()
    data = await request.read()
    spec = loads(data) if data else {}
    projects = request.app[STATE]["ufdl"].projects.values()
    expressions = (spec.get("expressions") or []) if isinstance(spec, dict) else []
    tests = [(e["field"], e["value"]) for e in expressions if e.get("type") == "exact"]
    if not tests:
        selected = [p for p in projects if p["deletion_time"] is None]
    elif len(tests) == 1:
        (name, value), = tests
        selected = [p for p in projects if p[name] == value and p["deletion_time"] is None]
    else:
        selected = [p for p in projects if p["deletion_time"] is None and all(p[f] == v for f, v in tests)]
    return reply(selected, headers=UFDL_POST)


# -- Testiny -----------------------------------------------------------------------------------

class Testiny:
    def __init__(self, size: int = 0) -> None:
        self.projects: dict[int, dict[str, Any]] = {}
        for i in range(size):
            project = datasets.testiny_project(i, size, uuid.uuid4().hex)
            self.projects[project["id"]] = project
        self.next_id = size + 1


def testiny_denied(request: web.Request) -> web.Response | None:
    if request.headers.get("X-Api-Key", "").strip() != TESTINY_KEY:
        return testiny_reply({"code": "API_ACCESS_DENIED", "status": 403, "message": "Access denied",
                              "reqid": "0"}, 403)
    return None


def testiny_missing(project_id: Any) -> web.Response:
    return testiny_reply({"code": "API_DATA_NOT_FOUND", "status": 404,
                          "message": f"project {project_id} not found", "reqid": "0"}, 404)


def testiny_json(project: dict[str, Any]) -> dict[str, Any]:
    """Key order of the mock: modified_* after created_*, then _etag and the rest."""
    head = {k: project[k] for k in ("id", "is_deleted", "created_at", "created_by")}
    for key in ("modified_at", "modified_by", "deleted_at", "deleted_by"):
        if project.get(key) is not None:
            head[key] = project[key]
    for key in ("_etag", "owner_user_id", "name", "project_key", "description"):
        head[key] = project[key]
    return head


async def testiny_read(request: web.Request) -> web.Response:
    if (denied := testiny_denied(request)) is not None:
        return denied
    project_id = int(request.match_info["id"])
    project = request.app[STATE]["testiny"].projects.get(project_id)
    return testiny_missing(project_id) if project is None else testiny_reply(project)


async def testiny_update(request: web.Request) -> web.Response:
    if (denied := testiny_denied(request)) is not None:
        return denied
    body = loads(await request.read())
    project_id = int(request.match_info["id"])
    projects = request.app[STATE]["testiny"].projects
    project = projects.get(project_id)
    if project is None:
        return testiny_missing(project_id)
    if request.query.get("force") not in ("1", "true") and body.get("_etag") != project["_etag"]:
        return testiny_reply({"code": "API_INPUT_DATA_CONFLICT", "status": 400,
                              "message": f"_etag: does not match the current value of project {project_id}",
                              "reqid": "0"}, 400)
    for key in ("name", "project_key", "description"):
        if key in body:
            project[key] = body[key]
    project["modified_at"], project["modified_by"] = now_ms(), 1
    project["_etag"] = uuid.uuid4().hex
    projects[project_id] = project = testiny_json(project)
    return testiny_reply(project)


async def testiny_create(request: web.Request) -> web.Response:
    if (denied := testiny_denied(request)) is not None:
        return denied
    body = loads(await request.read())
    state: Testiny = request.app[STATE]["testiny"]
    name = body.get("name")
    if not isinstance(name, str) or not 3 <= len(name) <= 40:
        return testiny_reply({"code": "API_INVALID_INPUT_DATA", "status": 400, "message": "name", "reqid": "0"}, 400)
    project = {"id": state.next_id, "is_deleted": False, "created_at": now_ms(), "created_by": 1,
               "_etag": uuid.uuid4().hex, "owner_user_id": 0, "name": name,
               "project_key": body.get("project_key"), "description": body.get("description", "")}
    state.projects[state.next_id] = project
    state.next_id += 1
    return testiny_reply(project)


async def testiny_find(request: web.Request) -> web.Response:
    if (denied := testiny_denied(request)) is not None:
        return denied
    params = loads(await request.read())
    conditions = list((params.get("filter") or {}).items())
    projects = request.app[STATE]["testiny"].projects.values()
    if not conditions:
        matches = [p for p in projects if not p["is_deleted"]]
    elif len(conditions) == 1:
        (name, value), = conditions
        matches = [p for p in projects if p.get(name) == value and not p["is_deleted"]]
    else:
        matches = [p for p in projects if not p["is_deleted"] and all(p.get(k) == v for k, v in conditions)]
    pagination = params.get("pagination") or {}
    limit = min(pagination.get("limit", 2000), 2000)
    offset = pagination.get("offset", 0)
    page = matches[offset:offset + limit]
    return testiny_reply({"data": page, "meta": {"count": len(page), "offset": offset, "limit": limit}})


# -- control -----------------------------------------------------------------------------------

async def seed(request: web.Request) -> web.Response:
    body = loads(await request.read())
    state = request.app[STATE]
    if body["api"] == "ufdl":
        tokens = state["ufdl"].tokens
        state["ufdl"] = Ufdl(body["size"])
        state["ufdl"].tokens = tokens
    else:
        state["testiny"] = Testiny(body["size"])
    return reply({"seeded": [body["api"]]})


async def health(request: web.Request) -> web.Response:
    return reply({"status": "ok", "json": JSON_LIBRARY, "loop": type(asyncio.get_running_loop()).__module__})


def create_app(apis: list[str]) -> web.Application:
    app = web.Application(client_max_size=256 * 1024 * 1024)
    app[STATE] = {"ufdl": Ufdl(), "testiny": Testiny()}
    routes = [web.post("/__bench__/seed", seed), web.get("/__bench__/health", health)]
    if "ufdl" in apis:
        routes += [
            web.post("/v1/auth/obtain", ufdl_obtain),
            web.post("/v1/projects/list", ufdl_list),
            web.post("/v1/projects/create", ufdl_create),
            web.get(r"/v1/projects/{pk:\d+}", ufdl_retrieve),
            web.patch(r"/v1/projects/{pk:\d+}", ufdl_patch),
        ]
    if "testiny" in apis:
        routes += [
            web.post("/api/v1/project/find", testiny_find),
            web.post("/api/v1/project", testiny_create),
            web.get(r"/api/v1/project/{id:\d+}", testiny_read),
            web.put(r"/api/v1/project/{id:\d+}", testiny_update),
        ]
    app.add_routes(routes)
    return app


async def serve(app: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    loop = type(asyncio.get_running_loop()).__module__
    print(f"ceiling listening on http://{host}:{port} ({JSON_LIBRARY}, loop {loop})", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio",
                        help="event loop (bench/run.py passes the one the mock uses)")
    parser.add_argument("--api", action="append", choices=["ufdl", "testiny"])
    args = parser.parse_args()
    app = create_app(args.api or ["ufdl", "testiny"])
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve(app, args.host, args.port))
    else:
        asyncio.run(serve(app, args.host, args.port))


if __name__ == "__main__":
    main()
