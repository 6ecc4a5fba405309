"""Handlers of the bulk calls: all-or-nothing, items named by index in every error message."""

from __future__ import annotations

from typing import Any

from ... import jsonio
from ...api import NO_BODY, Reply
from .access import caller
from .projects import forced
from .state import Context


def _list(projects: list) -> Reply:
    return Reply(200, jsonio.records_array(projects))


def project_bulk_create(ctx: Context) -> Reply:
    return _list(ctx.state.create(ctx.validated_body(), caller(ctx).user_id, bulk=True))


def project_bulk_update(ctx: Context) -> Reply:
    changes = [(int(item["id"]), item) for item in ctx.validated_body()]
    return _list(ctx.state.update(changes, caller(ctx).user_id, force=forced(ctx), bulk=True))


def delete_ids(query_ids: str | None, body: Any) -> list[int]:
    """Ids from `?ids=1,2,3` first, then from a body of ids or `{id}` objects (both forms may mix).

    Ids are integers, which JSON Schema lets a client write as `5.0`; they are normalised here.
    """
    ids = [int(part) for part in query_ids.split(",")] if query_ids else []
    if body is not NO_BODY:
        ids.extend(int(item["id"] if isinstance(item, dict) else item) for item in body)
    return ids


def project_bulk_delete(ctx: Context) -> Reply:
    ids = delete_ids(ctx.query.get("ids"), ctx.validated_body())
    return _list(ctx.state.delete(ids, caller(ctx).user_id))


def project_bulk_undelete(ctx: Context) -> Reply:
    ids = [int(item["id"]) for item in ctx.validated_body()]
    return _list(ctx.state.undelete(ids, caller(ctx).user_id, bulk=True))


HANDLERS = {handler.__name__: handler for handler in (
    project_bulk_create, project_bulk_update, project_bulk_delete, project_bulk_undelete,
)}
