"""Handlers of the auth, users and teams calls a Projects client needs (simplejwt + DRF rules)."""

from __future__ import annotations

from typing import Any

from ...api import NO_BODY, Reply
from ...errors import MethodNotAllowed
from . import errors as e
from . import filters
from . import serializers as s
from .access import require_admin, require_object_level, require_user
from .errors import BY_NAME_ALLOW, Detail, FieldErrors, NotAuthenticated, PermissionDenied, schema_failure
from .state import Context
from .tokens import TokenError

NO_ACCOUNT = "No active account found with the given credentials"


def _token_error(message: str) -> NotAuthenticated:
    return NotAuthenticated(message, code="token_not_valid")


def _text(max_length: int | None):
    """A DRF CharField (trimmed, not blank); simplejwt's fields, its PasswordField too, have no max_length."""
    return lambda v: s.char_field(v, max_length=max_length)


# -- auth ---------------------------------------------------------------------------------------

def auth_obtain(ctx: Context) -> Reply:
    data = s.validate(s.as_data(ctx.parsed_body()),
                      {"username": _text(None), "password": _text(None)}, partial=False)
    user = ctx.state.check_password(data["username"], data["password"])
    if user is None:
        raise NotAuthenticated(NO_ACCOUNT)  # DRF's own AuthenticationFailed: no `code` in the body
    return Reply(200, ctx.state.tokens.pair(user.pk))


def _read_token(ctx: Context, field: str) -> Any:
    data = s.validate(s.as_data(ctx.parsed_body()), {field: _text(None)}, partial=False)
    try:
        return ctx.state.tokens.read(data[field])
    except TokenError as exc:
        raise _token_error(str(exc)) from None


def auth_refresh(ctx: Context) -> Reply:
    claims = _read_token(ctx, "refresh")
    if claims.kind != "refresh":
        raise _token_error("Token has wrong type")
    user = ctx.state.users.get(claims.user_pk)
    if user is None or not user.is_active:  # simplejwt checks the user behind a refresh token
        raise NotAuthenticated(e.NO_ACCOUNT_FOR_TOKEN)
    return Reply(200, {"access": ctx.state.tokens.issue("access", claims.user_pk)})


def auth_verify(ctx: Context) -> Reply:
    _read_token(ctx, "token")
    return Reply(200, {})


# -- users --------------------------------------------------------------------------------------

USER_TEXT_FIELDS = {"first_name": 150, "last_name": 150}  # optional, may be blank


def _username(ctx: Context, owner: Any = None):
    """Django's username field: trimmed, 150 characters of letters, digits and @.+-_, unique
    (case-sensitive; the user being changed may keep its own)."""
    def rule(value: Any) -> str:
        name = s.char_field(value, max_length=150)
        if not s.USERNAME.fullmatch(name):
            raise ValueError([e.BAD_USERNAME])
        holder = ctx.state.user_named(name)
        if holder is not None and holder is not owner:
            raise ValueError([e.USERNAME_TAKEN])
        return name
    return rule


def _user_fields(ctx: Context, owner: Any = None) -> dict[str, Any]:
    """The writable fields of the user serializer, in its order (errors are reported in it)."""
    fields = {"username": _username(ctx, owner), "password": _text(128)}
    for name, size in USER_TEXT_FIELDS.items():
        fields[name] = lambda v, n=size: s.char_field(v, max_length=n, allow_blank=True)
    fields["email"] = s.email_field
    fields["is_staff"] = s.boolean_field
    fields["is_active"] = s.boolean_field
    return fields


OPTIONAL_USER_FIELDS = {"first_name", "last_name", "email", "is_staff", "is_active"}


def users_create(ctx: Context) -> Reply:
    require_admin(ctx)
    data = s.as_data(ctx.parsed_body())
    clean = s.validate(data, _user_fields(ctx), partial=False, optional=OPTIONAL_USER_FIELDS)
    user = ctx.state.create_user(clean.pop("username"), clean.pop("password"), **clean)
    return Reply(201, user.to_json())


def users_list(ctx: Context) -> Reply:
    require_admin(ctx)
    spec = filters.read_spec(ctx)
    return Reply(200, [u.to_json() for u in filters.apply(ctx.state.users.values(), spec, ctx.state, "user")])


def _name_in_path(ctx: Context, name: str) -> str:
    """A name at the end of a path: the real routes that take one (get-by-name, permissions) have
    no optional trailing slash, so a slash there is part of the name (`Bad name 'bob/'`)."""
    return name + "/" if ctx.request.path.endswith("/") else name


def _user_by_pk(ctx: Context, method: str) -> Any:
    """The user of a pk route, after the view-level admin check; a username there has only GET."""
    key = ctx.path_params["pk"]
    if not isinstance(key, int):
        raise MethodNotAllowed(method, BY_NAME_ALLOW)
    require_admin(ctx)
    user = ctx.state.users.get(key)
    if user is None:
        raise Detail("No User matches the given query.", 404)
    return user


def users_retrieve(ctx: Context) -> Reply:
    key = ctx.path_params["pk"]
    if isinstance(key, int):
        return Reply(200, _user_by_pk(ctx, "GET").to_json())
    key = _name_in_path(ctx, key)
    caller = ctx.user  # get-by-name: a user may look up only itself; admins anyone (`[]` for nobody)
    if caller is None:
        raise NotAuthenticated()
    if not caller.is_admin and caller.username != key:
        raise PermissionDenied()
    ctx.state.touch_login(caller)
    found = ctx.state.user_named(key)
    return Reply(200, [found.to_json()] if found is not None else [])


def _change_user(ctx: Context, method: str, partial: bool) -> Reply:
    user = _user_by_pk(ctx, method)
    data = s.as_data(ctx.parsed_body())
    clean = s.validate(data, _user_fields(ctx, user), partial=partial, optional=OPTIONAL_USER_FIELDS)
    return Reply(200, ctx.state.update_user(user, clean).to_json())


def users_update(ctx: Context) -> Reply:
    return _change_user(ctx, "PUT", partial=False)


def users_partial_update(ctx: Context) -> Reply:
    return _change_user(ctx, "PATCH", partial=True)


def users_destroy(ctx: Context) -> Reply:
    ctx.state.deactivate_user(_user_by_pk(ctx, "DELETE"))
    return Reply(204)


# -- teams --------------------------------------------------------------------------------------

def teams_create(ctx: Context) -> Reply:
    user = require_admin(ctx)
    clean = s.validate(s.as_data(ctx.parsed_body()), {"name": _text(s.name_limit(ctx))}, partial=False)
    if ctx.state.team_named(clean["name"]) is not None:
        raise FieldErrors({"name": [e.TEAM_NAME_TAKEN]})
    return Reply(201, ctx.state.team_json(ctx.state.create_team(clean["name"], user.pk)))


def teams_list(ctx: Context) -> Reply:
    user = require_user(ctx)
    spec = filters.read_spec(ctx)
    teams = ctx.state.teams.values()
    if not user.is_admin:
        mine = ctx.state.teams_of(user)
        teams = [t for t in teams if t.pk in mine]
    return Reply(200, [ctx.state.team_json(t) for t in filters.apply(teams, spec, ctx.state, "team")])


def _team(ctx: Context):
    ctx.parsed_body()
    return ctx.state.get_team(ctx.path_params["pk"])


def teams_retrieve(ctx: Context) -> Reply:
    team = _team(ctx)
    require_object_level(ctx, team.pk, "R")
    return Reply(200, ctx.state.team_json(team))


def _rename_team(ctx: Context, partial: bool) -> Reply:
    team = _team(ctx)
    require_object_level(ctx, team.pk, "A")
    clean = s.validate(s.as_data(ctx.parsed_body()), {"name": _text(s.name_limit(ctx))}, partial=partial)
    if "name" in clean:
        ctx.state.rename_team(team, clean["name"])
    return Reply(200, ctx.state.team_json(team))


def teams_update(ctx: Context) -> Reply:
    return _rename_team(ctx, partial=False)


def teams_partial_update(ctx: Context) -> Reply:
    return _rename_team(ctx, partial=True)


def teams_destroy(ctx: Context) -> Reply:
    team = _team(ctx)
    require_object_level(ctx, team.pk, "A")
    ctx.state.destroy_team(team)
    return Reply(204)


def _admin_team(ctx: Context):
    """Reinstate and hard delete: admin only, checked before the lookup (then 404)."""
    require_admin(ctx)
    return _team(ctx)


def teams_reinstate(ctx: Context) -> Reply:
    team = ctx.state.reinstate_team(_admin_team(ctx))
    return Reply(200, ctx.state.team_json(team))


def teams_hard_delete(ctx: Context) -> Reply:
    return Reply(200, ctx.state.hard_delete_team(_admin_team(ctx)))


def _member_user(ctx: Context, username: str):
    """The user a membership call names, looked up before the team (400 "Bad name" otherwise)."""
    user = ctx.state.user_named(username)
    if user is None:
        raise Detail(f"Bad name '{username}': No user with this username exists")
    if not user.is_active:
        raise Detail(f"Bad name '{username}': This user is no longer active")
    return user


def teams_memberships(ctx: Context) -> Reply:
    body = ctx.parsed_body()
    spec = {} if body is NO_BODY else body
    violations = ctx.operation.body_validator.violations(spec)
    if violations:
        raise schema_failure(spec, violations[0].message)
    user = _member_user(ctx, spec["username"])
    team = ctx.state.get_team(ctx.path_params["pk"])
    actor = require_object_level(ctx, team.pk, "A")
    method, permissions = spec["method"], spec.get("permissions", "R")
    state = ctx.state
    if method == "add":
        membership = state.add_member(team, user, permissions, actor.pk)
    elif method == "update":
        membership = state.update_member(team, user, permissions)
    else:
        membership = state.remove_member(team, user)
    return Reply(200, membership.to_json())


def teams_permissions(ctx: Context) -> Reply:
    username = _name_in_path(ctx, ctx.path_params["username"])
    user = ctx.state.user_named(username)
    if user is None:
        raise Detail(f"Bad name '{username}': No user with this username exists")
    team = _team(ctx)
    require_object_level(ctx, team.pk, "A")
    level = ctx.state.level(user, team.pk)
    if level is None:
        raise Detail(f"Bad name '{username}': This user is not a current member of team {team.name}")
    return Reply(200, level)


HANDLERS = {
    "auth_obtain": auth_obtain,
    "auth_refresh": auth_refresh,
    "auth_verify": auth_verify,
    "users_create": users_create,
    "users_list": users_list,
    "users_retrieve": users_retrieve,
    "users_update": users_update,
    "users_partial_update": users_partial_update,
    "users_destroy": users_destroy,
    "teams_create": teams_create,
    "teams_list": teams_list,
    "teams_retrieve": teams_retrieve,
    "teams_update": teams_update,
    "teams_partial_update": teams_partial_update,
    "teams_destroy": teams_destroy,
    "teams_reinstate": teams_reinstate,
    "teams_hard_delete": teams_hard_delete,
    "teams_memberships": teams_memberships,
    "teams_permissions": teams_permissions,
}

__all__ = ["HANDLERS", "PermissionDenied"]
