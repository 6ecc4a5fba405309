"""Who is calling, and may they: authentication from the Bearer header and the permission checks.

The checks follow DRF's order: the authenticator runs first (a bad token is a 401 at once), view
permissions before the body and the object lookup, object permissions after the lookup.
"""

from __future__ import annotations

from .errors import NotAuthenticated, PermissionDenied, invalid_token
from .models import User
from .state import Context
from .tokens import TokenError


def authenticate(ctx: Context) -> None:
    """Engine hook: set ctx.user from `Authorization: Bearer <access>` (None when absent)."""
    if not ctx.operation.secured:
        return
    header = ctx.request.headers.get("Authorization")
    if not header:
        return
    parts = header.split()
    if not parts or parts[0] != "Bearer":
        return  # another scheme: simplejwt ignores it, so the caller is anonymous
    if len(parts) != 2:
        raise NotAuthenticated("Authorization header must contain two space-delimited values",
                               code="bad_authorization_header")
    state = ctx.state
    try:
        claims = state.tokens.read(parts[1])
    except TokenError as exc:
        raise invalid_token(str(exc)) from None
    if claims.kind != "access":
        raise invalid_token("Token has wrong type")
    user = state.users.get(claims.user_pk)
    if user is None:
        raise NotAuthenticated("User not found", code="user_not_found")
    if not user.is_active:
        raise NotAuthenticated("User is inactive", code="user_inactive")
    ctx.user = user


def require_user(ctx: Context) -> User:
    """View-level IsAuthenticated: anonymous callers get 401."""
    if ctx.user is None:
        raise NotAuthenticated()
    ctx.state.touch_login(ctx.user)
    return ctx.user


def require_admin(ctx: Context) -> User:
    """View-level admin check: anonymous 401, others 403."""
    user = require_user(ctx)
    if not user.is_admin:
        raise PermissionDenied()
    return user


def require_object_level(ctx: Context, team: int, minimum: str) -> User:
    """Object-level check after the lookup: anonymous 401; below `minimum` in the team 403."""
    if ctx.user is None:
        raise NotAuthenticated()
    if not ctx.state.has_level(ctx.user, team, minimum):
        raise PermissionDenied()
    ctx.state.touch_login(ctx.user)
    return ctx.user
