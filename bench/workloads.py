"""The workloads: which request each one sends, with which data set, and how its answers are counted."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import datasets as ds
from plumbing import SIZES

# -- workloads ---------------------------------------------------------------------------------

@dataclass
class Workload:
    name: str
    api: str
    size: int  # the data set it runs on
    connections: int
    mode: str  # wrk.lua BENCH_MODE
    method: str = "GET"
    path: str = "/"
    body: Any = None
    item_path: str = ""
    write_method: str = ""
    write_body: str = ""  # template with {nonce}, {n}, {etag}
    etag: bool = False  # Testiny writes carry the current _etag
    single: bool = False  # a single-project call (the p99 target)
    status: int = 200
    items: int | None = None  # expected number of projects in the answer (stateful servers)
    title: str = ""

    def env(self, nonce: str) -> dict[str, str]:
        body = "" if self.body is None else json.dumps(self.body, separators=(",", ":"))
        return {
            "BENCH_MODE": self.mode, "BENCH_METHOD": self.method, "BENCH_PATH": self.path, "BENCH_BODY": body,
            "BENCH_ITEM_PATH": self.item_path, "BENCH_WRITE_METHOD": self.write_method,
            "BENCH_WRITE_BODY": self.write_body.replace("{nonce}", nonce), "BENCH_IDS": str(min(self.size, 1000)),
        }

    def first_request(self, etags: dict[int, str]) -> tuple[str, str, Any]:
        """The request a preflight check sends (the first one wrk would send, id 1)."""
        if self.mode == "static":
            return self.method, self.path, self.body
        if self.mode == "read" or self.mode == "mix":
            return "GET", self.item_path + "1", None
        # a fresh name per check: a repeated measurement (--repeat) must not clash with the last one
        nonce = "pre" + secrets.token_hex(3)
        text = self.write_body.replace("{nonce}", nonce).replace("{n}", "0").replace("{etag}", etags.get(1, "none"))
        if self.mode == "create":
            return self.method, self.path, json.loads(text)
        return self.write_method, self.item_path + "1", json.loads(text)


def size_label(size: int) -> str:
    return f"{size // 1000}k"


def plan(api: str) -> list[Workload]:
    """Every workload of an API, in run order (grouped by data set; writes that add rows last)."""
    small = SIZES[0]
    if api == "ufdl":
        item = "/v1/projects/"
        workloads = [
            Workload("get", api, small, 32, "read", item_path=item, single=True, title="GET one project"),
            Workload("mix", api, small, 32, "mix", item_path=item, write_method="PATCH",
                     write_body='{"name":"mx-{nonce}-{n}"}', single=True, title="80 % GET / 20 % PATCH"),
        ]
        for size in SIZES:
            conns = 32 if size == small else 1
            workloads += [
                Workload(f"list-{size_label(size)}", api, size, conns, "static", "POST", "/v1/projects/list", {},
                         items=size, title=f"list {size:,} projects"),
                Workload(f"list-{size_label(size)}-filter", api, size, conns, "static", "POST", "/v1/projects/list",
                         ds.UFDL_FILTER, items=ds.HOT_MATCHES, title=f"filtered list of {size:,} (100 match)"),
            ]
            if size == small:
                workloads.append(Workload("create", api, small, 32, "create", "POST", "/v1/projects/create",
                                          write_body='{"name":"cr-{nonce}-{n}","team":1}', single=True, status=201,
                                          title="create (unique names)"))
        return workloads
    item = "/api/v1/project/"
    update = '{"name":"up {nonce} {n}","_etag":"{etag}"}'
    workloads = [
        Workload("read", api, small, 32, "read", item_path=item, single=True, title="GET one project"),
        Workload("update", api, small, 32, "write", item_path=item, write_method="PUT", write_body=update,
                 etag=True, single=True, title="PUT with the current _etag"),
        Workload("mix", api, small, 32, "mix", item_path=item, write_method="PUT", write_body=update, etag=True,
                 single=True, title="80 % GET / 20 % PUT"),
    ]
    for size in SIZES:
        conns = 32 if size == small else 1
        page = min(size, ds.TESTINY_PAGE)
        workloads += [
            Workload(f"find-{size_label(size)}", api, size, conns, "static", "POST", "/api/v1/project/find",
                     {"pagination": {"limit": ds.TESTINY_PAGE}}, items=page,
                     title=f"find, no filter, page of {page:,} of {size:,}"),
            Workload(f"find-{size_label(size)}-filter", api, size, conns, "static", "POST", "/api/v1/project/find",
                     {"filter": ds.TESTINY_FILTER, "pagination": {"limit": 100}}, items=ds.HOT_MATCHES,
                     title=f"find with a filter over {size:,} (100 match)"),
        ]
        if size == small:
            workloads.append(Workload("create", api, small, 32, "create", "POST", "/api/v1/project",
                                      write_body='{"name":"cr {nonce} {n}"}', single=True, title="create"))
    return workloads


def count_items(api: str, payload: bytes) -> int | None:
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if api == "ufdl":
        return len(data) if isinstance(data, list) else None
    return len(data["data"]) if isinstance(data, dict) and isinstance(data.get("data"), list) else None
