"""Handlers of the single-project calls and of both find forms; the store does the work."""

from __future__ import annotations

from ...api import Reply
from .access import caller
from .errors import InvalidInputData, describe_violation
from .find import PARAMS_SCHEMA, decode_q, encoded_find
from .state import Context

FORCING = ("1", "true")


def forced(ctx: Context) -> bool:
    """`force=1`/`force=true` skip the `_etag` check; `0`, `false` and absence do not."""
    return ctx.query.get("force") in FORCING


def _one(project) -> Reply:
    return Reply(200, project.encoded())


def project_create(ctx: Context) -> Reply:
    created = ctx.state.create([ctx.validated_body()], caller(ctx).user_id, bulk=False)
    return _one(created[0])


def project_read(ctx: Context) -> Reply:
    return _one(ctx.state.get(ctx.path_params["id"]))


def project_update(ctx: Context) -> Reply:
    fields = ctx.validated_body()
    project_id = ctx.path_params["id"]
    ctx.state.get(project_id)  # an unknown id is a 404 before anything about the body
    if fields.get("id", project_id) != project_id:
        raise InvalidInputData(f"id: {fields['id']} in the body differs from {project_id} in the path")
    updated = ctx.state.update([(project_id, fields)], caller(ctx).user_id, force=forced(ctx), bulk=False)
    return _one(updated[0])


def project_delete(ctx: Context) -> Reply:
    return _one(ctx.state.delete([ctx.path_params["id"]], caller(ctx).user_id)[0])


def project_undelete(ctx: Context) -> Reply:
    return _one(ctx.state.undelete([ctx.path_params["id"]], caller(ctx).user_id, bulk=False)[0])


def project_find_query(ctx: Context) -> Reply:
    params = decode_q(ctx.query["q"])
    violations = ctx.runtime.spec.validator(PARAMS_SCHEMA).violations(params)
    if violations:
        raise InvalidInputData(describe_violation(violations[0], params))
    return Reply(200, encoded_find(ctx.state.projects, params, ctx.state.index))


def project_find(ctx: Context) -> Reply:
    return Reply(200, encoded_find(ctx.state.projects, ctx.validated_body(), ctx.state.index))


HANDLERS = {handler.__name__: handler for handler in (
    project_create, project_read, project_update, project_delete, project_undelete, project_find_query,
    project_find,
)}
