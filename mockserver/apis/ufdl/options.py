"""UFDL settings: the superuser's credentials and JWT lifetimes, and their CLI arguments."""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class UfdlOptions:
    admin_username: str = "admin"
    admin_password: str = "admin"
    access_lifetime: float = 300.0  # seconds; the real server's default is 5 minutes
    refresh_lifetime: float = 8 * 3600.0  # 8 hours
    jwt_secret: str | None = None  # None: each world makes a random key (a state file keeps it)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("UFDL")
    group.add_argument("--ufdl-admin", default="admin:admin", metavar="USER:PASSWORD",
                       help="the superuser the server starts with (default: admin:admin)")
    group.add_argument("--ufdl-access-lifetime", type=float, default=300.0, metavar="SECONDS",
                       help="lifetime of access tokens (default: 300, as the real server)")
    group.add_argument("--ufdl-refresh-lifetime", type=float, default=8 * 3600.0, metavar="SECONDS",
                       help="lifetime of refresh tokens (default: 28800 = 8 hours)")
    group.add_argument("--ufdl-jwt-secret", default=None, metavar="SECRET",
                       help="HS256 signing key (default: a random one, kept in the --state-file if any)")


def options_from_args(args: argparse.Namespace) -> UfdlOptions:
    username, _, password = args.ufdl_admin.partition(":")
    if not username or not password:
        raise SystemExit("--ufdl-admin must look like USER:PASSWORD")
    extra = {"jwt_secret": args.ufdl_jwt_secret} if args.ufdl_jwt_secret else {}
    return UfdlOptions(username, password, args.ufdl_access_lifetime, args.ufdl_refresh_lifetime, **extra)
