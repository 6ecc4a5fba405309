"""Testiny records: a project with its JSON form (cached until the next write), and an account.

Timestamps are kept as the 24-character UTC strings the API sends (`2024-05-01T10:00:00.000Z`);
they sort in time order as plain strings, which the find language relies on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ...collector import Untracked
from ...jsonio import CachedJson

# Every column a find may name, in the order Testiny's docs list the Project fields.
COLUMNS = ("id", "is_deleted", "created_at", "created_by", "modified_at", "modified_by", "deleted_at",
           "deleted_by", "owner_user_id", "name", "project_key", "description")
TIME_COLUMNS = ("created_at", "modified_at", "deleted_at")


def format_time(moment: datetime) -> str:
    """UTC with millisecond precision, exactly 24 characters ending in `Z`."""
    naive = (moment if moment.tzinfo is UTC else moment.astimezone(UTC)).replace(tzinfo=None)
    return naive.isoformat(timespec="milliseconds") + "Z"


@dataclass(frozen=True)
class Account:
    """The user behind one API key."""

    user_id: int
    email: str


@dataclass(slots=True, eq=False)
class Project(Untracked, CachedJson):
    id: int
    name: str
    project_key: str | None
    description: str
    created_at: str
    created_by: int
    etag: str
    modified_at: str | None = None
    modified_by: int | None = None
    deleted_at: str | None = None
    deleted_by: int | None = None
    owner_user_id: int = 0
    _json: dict[str, Any] | None = field(default=None, repr=False)
    # the JSON as sent, None when stale (a cache: never stored in a state file)
    json_bytes: bytes | None = field(default=None, repr=False, metadata={"cache": True})

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def written(self, etag: str) -> None:
        """Record a write: a new `_etag`, and the cached JSON is stale."""
        self.etag = etag
        self._json = self.json_bytes = None

    def to_json(self) -> dict[str, Any]:
        """The API's JSON (unset `modified_*`/`deleted_*` omitted). Shared and cached: do not mutate."""
        if self._json is None:
            data: dict[str, Any] = {"id": self.id, "is_deleted": self.is_deleted,
                                    "created_at": self.created_at, "created_by": self.created_by}
            if self.modified_at is not None:
                data["modified_at"], data["modified_by"] = self.modified_at, self.modified_by
            if self.deleted_at is not None:
                data["deleted_at"], data["deleted_by"] = self.deleted_at, self.deleted_by
            data.update(_etag=self.etag, owner_user_id=self.owner_user_id, name=self.name,
                        project_key=self.project_key, description=self.description)
            self._json = data
        return self._json
