"""Handlers of the two calls a client makes before touching projects: who am I, and what may I do."""

from __future__ import annotations

from ...api import Reply
from .access import caller
from .find import PAGE_CAP
from .state import Context

TENANT = {"id": 1, "name": "Mock Organization"}
FULL_RIGHTS = {"read": True, "create": True, "update": True, "delete": True}


def account_me(ctx: Context) -> Reply:
    account = caller(ctx)
    write = ctx.runtime.spec.schema("BulkDeleteBody")["maxItems"]  # the spec's bound of every bulk body
    limits = {"items": {"read": PAGE_CAP, "write": write}, "requestBytes": ctx.request.client_max_size}
    return Reply(200, {"loggedIn": True, "userId": account.user_id, "email": account.email,
                       "tenant": dict(TENANT), "apiLimits": limits})


def permission_me(ctx: Context) -> Reply:
    project_id = ctx.query.get("project_id")
    if project_id is not None:
        ctx.state.get(project_id)  # 404 for an unknown project; deleted ones count
    return Reply(200, {"permissions": {"project": dict(FULL_RIGHTS)}})


HANDLERS = {handler.__name__: handler for handler in (account_me, permission_me)}
