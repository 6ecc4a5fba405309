"""`--state-file`: the state of every API in an SQLite database, saved change by change.

The layout (schema version `SCHEMA_VERSION`, in `PRAGMA user_version`; the file is marked as ours
by `PRAGMA application_id`):

    records(api, kind, key, data)   one row per record: data is the record's JSON (ApiState.row)
    meta(api, data)                 per API: its counters and keys as JSON (ApiState.meta)

After every request that changed an API's state, exactly the records it changed are written and
committed — before the answer is sent — so a save costs O(change), never O(state). The requests
handled in one turn of the event loop share one commit (`GroupCommit`): under load that is one
transaction for many writes. The database
runs in WAL mode with `synchronous=NORMAL`: a committed change survives the process being killed
at any moment (SIGKILL included); only a power failure may roll back the last commits.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import jsonio

log = logging.getLogger("mockserver")

APPLICATION_ID = 0x4D4F434B  # "MOCK"
SCHEMA_VERSION = 2  # 1 was the whole state as one JSON document (mockserver 0.1)
SQLITE_MAGIC = b"SQLite format 3\x00"
SCHEMA = """
CREATE TABLE records (api TEXT NOT NULL, kind TEXT NOT NULL, key NOT NULL, data BLOB NOT NULL,
                      PRIMARY KEY (api, kind, key)) WITHOUT ROWID;
CREATE TABLE meta (api TEXT PRIMARY KEY, data BLOB NOT NULL);
"""


class StateFileError(ValueError):
    """The state file cannot be used (another kind of file, another schema version, unreadable)."""


class SaveFailed(RuntimeError):
    """A change could not be written (disk full, file removed...): it is kept and retried."""


class StateDatabase:
    """The state file of one mock: opened (or created) at start, closed at shutdown."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        _check_kind(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._open()
        except sqlite3.DatabaseError as exc:
            raise StateFileError(f"{self.path}: cannot open the state file: {exc}") from None

    def _open(self) -> None:
        db = self._db
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if application_id == 0 and version == 0 and not tables:  # a new (empty) database
            db.executescript(f"BEGIN; {SCHEMA} PRAGMA application_id = {APPLICATION_ID}; "
                             f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        elif application_id != APPLICATION_ID:
            raise StateFileError(f"{self.path}: an SQLite database, but not a mockserver state file")
        elif version != SCHEMA_VERSION:
            raise StateFileError(f"{self.path}: a mockserver state file of schema version {version}; this "
                                 f"mockserver reads version {SCHEMA_VERSION} only")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # durable across a killed process in WAL mode
        # checkpoints (copying the WAL back into the database) run on a thread of their own, so no
        # commit on the event loop pays for one (they showed as p99 spikes of several ms)
        db.execute("PRAGMA wal_autocheckpoint = 0")
        self._checkpointer = Checkpointer(self.path)

    # -- loading -------------------------------------------------------------------------------

    def apis(self) -> set[str]:
        """The APIs this file holds a state for."""
        return {row[0] for row in self._db.execute("SELECT api FROM meta")}

    def load(self, api: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
        """An API's stored records by kind, and its meta."""
        tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
        loads = jsonio.loads_stored
        for kind, data in self._db.execute("SELECT kind, data FROM records WHERE api = ? ORDER BY kind, key", (api,)):
            tables[kind].append(loads(data))
        row = self._db.execute("SELECT data FROM meta WHERE api = ?", (api,)).fetchone()
        return dict(tables), (jsonio.loads(row[0]) if row else {})

    # -- saving --------------------------------------------------------------------------------

    def save_changes(self, states: list[tuple[str, Any]]) -> None:
        """Write the records each state's `changes` lists, and its meta, in one transaction."""
        drained = [(api, state, state.changes.drain()) for api, state in states]
        upserts, deletes, metas = [], [], []
        for api, state, dirty in drained:
            if not dirty:
                continue
            for (kind, key), record in dirty.items():
                if record is None:
                    deletes.append((api, kind, key))
                else:
                    upserts.append((api, kind, key, _row_bytes(state, kind, record)))
            metas.append((api, jsonio.dumps(state.meta())))
        if not metas:
            return
        try:
            self._write(upserts, deletes, metas)
        except sqlite3.Error as exc:
            for _api, state, dirty in drained:
                state.changes.give_back(dirty)
            raise SaveFailed(f"could not write the state file {self.path}: {exc}") from exc

    def save_all(self, api: str, state: Any) -> None:
        """Replace everything stored for `api` with `state` (after a reset, a seed or a restore)."""
        state.changes.drain()
        rows = ((api, kind, key, _row_bytes(state, kind, record)) for kind, key, record in state.records())
        try:
            self._write(rows, (), [(api, jsonio.dumps(state.meta()))], replace=api)
        except sqlite3.Error as exc:
            raise SaveFailed(f"could not write the state file {self.path}: {exc}") from exc

    def _write(self, upserts: Iterable[tuple], deletes: Iterable[tuple], metas: Iterable[tuple], *,
               replace: str | None = None) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if replace is not None:
                db.execute("DELETE FROM records WHERE api = ?", (replace,))
            db.executemany("DELETE FROM records WHERE api = ? AND kind = ? AND key = ?", deletes)
            db.executemany("INSERT OR REPLACE INTO records (api, kind, key, data) VALUES (?, ?, ?, ?)", upserts)
            db.executemany("INSERT OR REPLACE INTO meta (api, data) VALUES (?, ?)", metas)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._checkpointer.stop()
        self._db.close()  # the last connection to close checkpoints the WAL and removes it


class Checkpointer(threading.Thread):
    """Copies committed changes from the WAL into the database every `interval` seconds, on its own
    connection and thread (SQLite releases the GIL while it does I/O)."""

    def __init__(self, path: Path, interval: float = 1.0) -> None:
        super().__init__(name="mockserver-checkpoint", daemon=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._interval = interval
        self._stopped = threading.Event()
        self.start()

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:  # e.g. the disk is full: the WAL keeps the changes meanwhile
                log.warning("state file checkpoint failed: %s", exc)
        self._db.close()

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=10)


class GroupCommit:
    """Commits the changes of every request handled in one event-loop turn together: each request
    that changed something awaits `committed()`, which resolves once a commit holding its changes
    is on disk (or raises SaveFailed)."""

    def __init__(self, store: StateDatabase, runtimes: list[Any]) -> None:
        self.store = store
        self.runtimes = runtimes
        self._pending: asyncio.Future[None] | None = None

    async def committed(self) -> None:
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = loop.create_future()
            loop.call_soon(self._commit)
        await asyncio.shield(self._pending)  # a waiter cancelled (client gone) must not cancel the others

    def _commit(self) -> None:
        done, self._pending = self._pending, None
        try:
            self.store.save_changes([(r.name, r.state) for r in self.runtimes if r.persisted and r.state.changes])
        except SaveFailed as exc:
            done.set_exception(exc)
            done.exception()  # retrieved here too: no "never retrieved" warning when nobody waits anymore
        else:
            done.set_result(None)


def _row_bytes(state: Any, kind: str, record: Any) -> bytes:
    """A record as it is stored: the JSON of its row."""
    return jsonio.dumps(state.row(kind, record))


def _check_kind(path: Path) -> None:
    """Refuse, with a clear message, a file that is not an SQLite database (e.g. a JSON state file
    of mockserver 0.1), before SQLite says 'file is not a database'."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StateFileError(f"{path}: cannot read the state file: {exc.strerror}") from None
    if not head or head == SQLITE_MAGIC:
        return
    if head.lstrip()[:1] == b"{":
        raise StateFileError(f"{path}: a JSON state file of mockserver 0.1 (schema version 1); this mockserver "
                             f"keeps its state in an SQLite database (schema version {SCHEMA_VERSION}): "
                             f"pass another --state-file path, or move this file away")
    raise StateFileError(f"{path}: not a mockserver state file (not an SQLite database)")


def stored_form(state: Any) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """What a save of `state` writes, in memory and through JSON: its rows by kind, and its meta
    (`ApiDefinition.restore` takes both back)."""
    tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for kind, _key, record in state.records():
        tables[kind].append(jsonio.loads(_row_bytes(state, kind, record)))
    return dict(tables), jsonio.loads(jsonio.dumps(state.meta()))
