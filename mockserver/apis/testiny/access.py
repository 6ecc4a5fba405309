"""API-key authentication: the `X-Api-Key` header (name matched case-insensitively) picks the account."""

from __future__ import annotations

from .errors import MISSING_KEY, UNKNOWN_KEY, AccessDenied
from .models import Account
from .state import Context

API_KEY_HEADER = "X-Api-Key"  # aiohttp's headers are case-insensitive, so `x-api-key` matches too


def authenticate(ctx: Context) -> None:
    """Engine hook: set ctx.user to the key's account, or answer 403 API_ACCESS_DENIED."""
    if not ctx.operation.secured:
        return
    key = ctx.request.headers.get(API_KEY_HEADER, "").strip()
    if not key:
        raise AccessDenied(MISSING_KEY)
    account = ctx.state.account_for_key(key)
    if account is None:
        raise AccessDenied(UNKNOWN_KEY)
    ctx.user = account


def caller(ctx: Context) -> Account:
    """The authenticated account (every Testiny operation is secured)."""
    return ctx.user
