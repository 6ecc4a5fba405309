"""A third API, defined outside mockserver/: notes behind a key, in an envelope of their own.

Registered through the `mockserver.apis` entry point (tests/test_third_api.py makes a
distribution for it), it uses only the engine's public contract (`mockserver.api`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mockserver.api import ApiDefinition, Reply, RequestContext, Tables
from mockserver.changes import ChangeLog
from mockserver.errors import EngineError, MethodNotAllowed

HERE = Path(__file__).resolve().parent
KEY = "note-key"


class NoteError(Exception):
    def __init__(self, status: int, kind: str, text: str) -> None:
        super().__init__(text)
        self.status, self.kind, self.text = status, kind, text


class NotesState:
    """Notes by id; ids are never handed out twice, also across a restart."""

    def __init__(self) -> None:
        self.notes: dict[int, dict[str, Any]] = {}
        self.next_id = 1
        self.changes = ChangeLog()

    def add(self, title: str) -> dict[str, Any]:
        note = {"id": self.next_id, "title": title}
        self.next_id += 1
        self.notes[note["id"]] = note
        self.changes.touched("note", note["id"], note)
        return note

    def remove(self, note_id: int) -> None:
        if self.notes.pop(note_id, None) is None:
            raise NoteError(404, "missing", f"no note {note_id}")
        self.changes.removed("note", note_id)

    # -- the engine's ApiState protocol ---------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        return {"notes": list(self.notes.values()), "next_id": self.next_id}

    def records(self) -> Iterable[tuple[str, Any, Any]]:
        return (("note", key, note) for key, note in self.notes.items())

    def row(self, kind: str, record: Any) -> dict[str, Any]:
        return dict(record)

    def meta(self) -> dict[str, Any]:
        return {"next_id": self.next_id}

    def merge_seed(self, seed: Mapping[str, Any]) -> None:
        for entry in seed.get("notes") or []:
            self.add(entry["title"])

    def purge(self, prefix: str) -> dict[str, int]:
        doomed = [key for key, note in self.notes.items() if note["title"].startswith(prefix)]
        for key in doomed:
            self.remove(key)
        return {"notes": len(doomed)}

    def new_world(self) -> None:
        pass  # nothing is minted per world


def create_state(options: Any, seed: Mapping[str, Any] | None) -> NotesState:
    state = NotesState()
    state.merge_seed(seed or {})
    return state


def restore(options: Any, tables: Tables, meta: dict[str, Any]) -> NotesState:
    state = NotesState()
    for row in sorted(tables.get("note", []), key=lambda r: r["id"]):
        state.notes[row["id"]] = dict(row)
    state.next_id = meta.get("next_id", 1)
    return state


def authenticate(ctx: RequestContext) -> None:
    if ctx.request.headers.get("X-Note-Key") != KEY:
        raise NoteError(401, "unauthenticated", "send X-Note-Key")


def render_error(error: Exception, request_id: str) -> Reply:
    if isinstance(error, NoteError):
        return Reply(error.status, {"error": {"kind": error.kind, "text": error.text}})
    if isinstance(error, EngineError):  # the engine's errors carry their status
        headers = {"Allow": ", ".join(error.allowed)} if isinstance(error, MethodNotAllowed) else None
        return Reply(error.status, {"error": {"kind": type(error).__name__, "text": str(error)[:200]}}, headers)
    raise error


def list_notes(ctx: RequestContext) -> Reply:
    return Reply(200, list(ctx.state.notes.values()))


def create_note(ctx: RequestContext) -> Reply:
    return Reply(201, ctx.state.add(ctx.validated_body()["title"]))


def get_note(ctx: RequestContext) -> Reply:
    note = ctx.state.notes.get(ctx.path_params["id"])
    if note is None:
        raise NoteError(404, "missing", f"no note {ctx.path_params['id']}")
    return Reply(200, note)


def delete_note(ctx: RequestContext) -> Reply:
    ctx.state.remove(ctx.path_params["id"])
    return Reply(204)


API = ApiDefinition(
    name="notes",
    spec_file=str(HERE / "notes.yaml"),
    seed_schema=str(HERE / "seed.yaml"),
    handlers={"list_notes": list_notes, "create_note": create_note, "get_note": get_note, "delete_note": delete_note},
    create_state=create_state,
    restore=restore,
    render_error=render_error,
    authenticate=authenticate,
)
