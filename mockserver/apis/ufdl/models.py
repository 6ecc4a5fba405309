"""UFDL records (users, teams, memberships, projects) and their JSON, in the real key order.

Records hold only atomic values: they are `Untracked` by the cyclic collector (mockserver/collector.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import cache
from typing import Any

from ...collector import Untracked
from ...jsonio import CachedJson

LEVELS = "RXWA"  # weakest to strongest: read, execute, write, admin


def timestamp(moment: datetime | None) -> str | None:
    """UTC, ISO-8601 with microseconds: 2026-11-25T10:15:02.123456Z."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"  # drop "+00:00"


def parse_timestamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class User(Untracked):
    pk: int
    username: str
    password: str
    is_superuser: bool = False
    is_staff: bool = False
    is_active: bool = True
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    date_joined: datetime | None = None
    last_login: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.is_staff or self.is_superuser

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username, "pk": self.pk, "last_login": timestamp(self.last_login),
            "is_superuser": self.is_superuser, "first_name": self.first_name, "last_name": self.last_name,
            "email": self.email, "is_staff": self.is_staff, "is_active": self.is_active,
            "date_joined": timestamp(self.date_joined),
        }


@dataclass
class Membership(Untracked):
    user: int
    team: int
    permissions: str
    creator: int | None
    creation_time: datetime
    deletion_time: datetime | None = None
    seq: int = 0  # numbers memberships (they have no pk) in creation order, for the stored form

    @property
    def active(self) -> bool:
        return self.deletion_time is None

    def to_json(self) -> dict[str, Any]:
        return {
            "user": self.user, "team": self.team, "permissions": self.permissions, "creator": self.creator,
            "creation_time": timestamp(self.creation_time), "deletion_time": timestamp(self.deletion_time),
        }


@dataclass
class Team(Untracked):
    pk: int
    name: str
    creator: int | None
    creation_time: datetime
    deletion_time: datetime | None = None

    @property
    def active(self) -> bool:
        return self.deletion_time is None


@dataclass
class Project(Untracked, CachedJson):
    pk: int | None
    name: str
    team: int
    creator: int | None
    creation_time: datetime
    deletion_time: datetime | None = None
    # the JSON as sent; whoever changes a field sets it to None (UfdlState's methods do). A cache:
    # never stored in a state file
    json_bytes: bytes | None = field(default=None, init=False, repr=False, compare=False, metadata={"cache": True})

    @property
    def active(self) -> bool:
        return self.deletion_time is None

    def to_json(self) -> dict[str, Any]:
        return {
            "pk": self.pk, "name": self.name, "team": self.team, "creator": self.creator,
            "creation_time": timestamp(self.creation_time), "deletion_time": timestamp(self.deletion_time),
        }


def stored_row(record: User | Team | Membership | Project) -> dict[str, Any]:
    """A record's fields as JSON (times as timestamps), caches left out: its stored form."""
    row = {}
    for name in _stored_fields(type(record)):
        value = getattr(record, name)
        row[name] = timestamp(value) if isinstance(value, datetime) else value
    return row


def revive(kind: type, row: dict[str, Any]) -> Any:
    """The record a stored row was made from (see `stored_row`)."""
    values = dict(row)
    for name in _time_fields(kind):
        if values.get(name) is not None:
            values[name] = parse_timestamp(values[name])
    for name in _caches(kind):
        values.pop(name, None)
    return kind(**values)


TIME_FIELDS = frozenset({"date_joined", "last_login", "creation_time", "deletion_time"})


@cache
def _stored_fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind) if not f.metadata.get("cache"))


@cache
def _time_fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind) if f.name in TIME_FIELDS)


@cache
def _caches(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind) if f.metadata.get("cache") or not f.init)
