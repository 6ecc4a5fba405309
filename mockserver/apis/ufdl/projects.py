"""Handlers of the eight Projects actions. Each follows the real server's order of checks."""

from __future__ import annotations

from typing import Any

from ... import jsonio
from ...api import Reply
from . import filters
from . import serializers as s
from .access import require_admin, require_object_level, require_user
from .errors import PermissionDenied
from .models import Project
from .state import Context


def _project_fields(ctx: Context) -> dict[str, Any]:
    teams = ctx.state.teams
    limit = s.name_limit(ctx)
    return {
        "name": lambda v: s.char_field(v, max_length=limit),
        "team": lambda v: s.pk_field(v, teams.__contains__),
    }


def _lookup(ctx: Context) -> Project:
    ctx.parsed_body()  # DRF parses the body (400/415) before the object lookup
    return ctx.state.get_project(ctx.path_params["pk"])


def projects_list(ctx: Context) -> Reply:
    user = require_user(ctx)
    spec = filters.read_spec(ctx)
    state = ctx.state
    candidates = filters.team_candidates(spec, state)
    if candidates is None:
        candidates = state.visible_projects(user)
    elif not user.is_admin:
        teams = state.teams_of(user)
        candidates = [p for p in candidates if p.team in teams]
    return Reply(200, jsonio.records_array(filters.apply(candidates, spec, state)))


def projects_create(ctx: Context) -> Reply:
    user = require_user(ctx)
    data = s.as_data(ctx.parsed_body())
    clean = s.validate(data, _project_fields(ctx), partial=False)
    if not ctx.state.has_level(user, clean["team"], "W"):
        raise PermissionDenied()
    project = ctx.state.create_project(clean["name"], clean["team"], user.pk)
    return Reply(201, project.encoded())


def projects_retrieve(ctx: Context) -> Reply:
    project = _lookup(ctx)
    require_object_level(ctx, project.team, "R")
    return Reply(200, project.encoded())


def _update(ctx: Context, partial: bool) -> Reply:
    project = _lookup(ctx)
    require_object_level(ctx, project.team, "W")
    clean = s.validate(s.as_data(ctx.parsed_body()), _project_fields(ctx), partial=partial)
    ctx.state.update_project(project, clean.get("name", project.name), clean.get("team", project.team))
    return Reply(200, project.encoded())


def projects_update(ctx: Context) -> Reply:
    return _update(ctx, partial=False)


def projects_partial_update(ctx: Context) -> Reply:
    return _update(ctx, partial=True)


def projects_destroy(ctx: Context) -> Reply:
    project = _lookup(ctx)
    require_object_level(ctx, project.team, "W")
    ctx.state.soft_delete(project)
    return Reply(204)


def projects_hard_delete(ctx: Context) -> Reply:
    require_admin(ctx)
    project = _lookup(ctx)
    return Reply(200, ctx.state.hard_delete(project).encoded())


def projects_reinstate(ctx: Context) -> Reply:
    require_admin(ctx)
    project = _lookup(ctx)
    return Reply(200, ctx.state.reinstate(project).encoded())


HANDLERS = {
    "projects_list": projects_list,
    "projects_create": projects_create,
    "projects_retrieve": projects_retrieve,
    "projects_update": projects_update,
    "projects_partial_update": projects_partial_update,
    "projects_destroy": projects_destroy,
    "projects_hard_delete": projects_hard_delete,
    "projects_reinstate": projects_reinstate,
}
