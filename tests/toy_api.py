"""A toy API definition over tests/data/toy.yaml, to test the engine without any real API."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from mockserver.api import ApiDefinition, Reply, RequestContext
from mockserver.errors import EngineError, InternalError

SPEC = str(Path(__file__).resolve().parent / "data" / "toy.yaml")


class Missing(Exception):
    pass


def create_item(ctx: RequestContext) -> Reply:
    items = ctx.state
    item = {"id": len(items) + 1, "name": ctx.validated_body()["name"]}
    items[item["id"]] = item
    return Reply(201, item)


def get_item(ctx: RequestContext) -> Reply:
    item = ctx.state.get(ctx.path_params["id"])
    if item is None:
        raise Missing()
    if item["name"] == "boom":
        raise RuntimeError("a bug in a handler")
    if item["name"] == "drift":
        return Reply(200, {"id": item["id"]})  # breaks the spec: name missing
    return Reply(200, item)


def delete_item(ctx: RequestContext) -> Reply:
    if ctx.state.pop(ctx.path_params["id"], None) is None:
        raise Missing()
    return Reply(204)


def render_error(error: Exception, request_id: str) -> Reply:
    if isinstance(error, Missing):
        return Reply(404, {"error": "missing"})
    if isinstance(error, InternalError):
        return Reply(500, {"error": "internal"})
    if isinstance(error, EngineError):
        where: Any = [v.location + ":" + v.message for v in getattr(error, "violations", [])]
        allowed = getattr(error, "allowed", None)  # MethodNotAllowed: the methods the path has
        return Reply(error.status, {"error": type(error).__name__, "where": where},
                     {"Allow": ", ".join(allowed)} if allowed else None)
    raise error

TOY = ApiDefinition(
    name="toy",
    spec_file=SPEC,
    handlers={"create_item": create_item, "get_item": get_item, "delete_item": delete_item},
    create_state=lambda options, seed: dict(seed or {}),
    render_error=render_error,
)

__all__ = ["TOY", "replace"]
