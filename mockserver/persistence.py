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

Checkpoints (copying the WAL back into the database, with its fsyncs) run on a thread of their
own. A passive checkpoint never waits for the writer, but under writes without a pause it never
catches up either, and the WAL would grow without end (it did: 19 MB/s under a stream of
creates); so once the WAL holds `RESTART_FRAMES` pages, the checkpointer takes the write lock for
a moment and makes the next commit start the WAL over (`journal_size_limit` then cuts the file
back). The event loop never waits for that lock: a commit that finds it taken is retried a
moment later, while the loop serves other requests.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import jsonio

log = logging.getLogger("mockserver")

APPLICATION_ID = 0x4D4F434B  # "MOCK"
SCHEMA_VERSION = 2  # 1 was the whole state as one JSON document (mockserver 0.1)
SQLITE_MAGIC = b"SQLite format 3\x00"
RESTART_FRAMES = 16384  # WAL pages (64 MiB at 4 KiB) beyond which the checkpointer restarts the WAL
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # what a restarted WAL file is cut back to (PRAGMA journal_size_limit)
LOCK_WAIT_MS = 5000  # how long a control call's save waits for the write lock (commits never wait)
SCHEMA = """
CREATE TABLE records (api TEXT NOT NULL, kind TEXT NOT NULL, key NOT NULL, data BLOB NOT NULL,
                      PRIMARY KEY (api, kind, key)) WITHOUT ROWID;
CREATE TABLE meta (api TEXT PRIMARY KEY, data BLOB NOT NULL);
"""


class StateFileError(ValueError):
    """The state file cannot be used (another kind of file, another schema version, unreadable)."""


class SaveFailed(RuntimeError):
    """A change could not be written (disk full, file removed...): it is kept and retried."""


class StoreBusy(SaveFailed):
    """The write lock is held by another connection (the checkpointer restarting the WAL, for a
    few ms, or another program): nothing was written or drained; try again shortly."""


class StateDatabase:
    """The state file of one mock: opened (or created) at start, closed at shutdown."""

    def __init__(self, path: Path, *, checkpoint_interval: float = 1.0, restart_frames: int = RESTART_FRAMES,
                 wal_size_limit: int = WAL_SIZE_LIMIT) -> None:
        self.path = Path(path)
        _check_kind(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._open(checkpoint_interval, restart_frames, wal_size_limit)
        except sqlite3.DatabaseError as exc:
            raise StateFileError(f"{self.path}: cannot open the state file: {exc}") from None

    def _open(self, checkpoint_interval: float, restart_frames: int, wal_size_limit: int) -> None:
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
        db.execute(f"PRAGMA journal_size_limit = {int(wal_size_limit)}")
        db.execute("PRAGMA busy_timeout = 0")  # the event loop never sleeps on a lock (see _begin)
        self._checkpointer = Checkpointer(self.path, checkpoint_interval, restart_frames)

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

    def save_changes(self, states: list[tuple[str, Any]], *, wait: bool = True) -> None:
        """Write the records each state's `changes` lists, and its meta, in one transaction.
        With `wait=False` a write lock held elsewhere raises StoreBusy at once (nothing drained)."""
        if not any(state.changes for _api, state in states):
            return
        self._begin(wait)
        drained = [(api, state, state.changes.drain()) for api, state in states]
        try:
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
            self._write(upserts, deletes, metas)
        except BaseException as exc:  # nothing was written: the changes wait for the next commit
            self._roll_back()
            for _api, state, dirty in drained:
                state.changes.give_back(dirty)
            if isinstance(exc, sqlite3.Error):
                raise SaveFailed(f"could not write the state file {self.path}: {exc}") from exc
            raise

    def save_all(self, api: str, state: Any) -> None:
        """Replace everything stored for `api` with `state` (after a reset, a seed or a restore)."""
        self._begin(wait=True)
        state.changes.drain()
        rows = ((api, kind, key, _row_bytes(state, kind, record)) for kind, key, record in state.records())
        try:
            self._write(rows, (), [(api, jsonio.dumps(state.meta()))], replace=api)
        except sqlite3.Error as exc:
            raise SaveFailed(f"could not write the state file {self.path}: {exc}") from exc

    def _begin(self, wait: bool) -> None:
        """Open the write transaction; without `wait`, refuse at once if another connection holds
        the write lock (StoreBusy) rather than sleep in SQLite's busy handler."""
        db = self._db
        if wait:
            db.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY:
                raise StoreBusy(f"the state file {self.path} is locked by another connection") from exc
            raise SaveFailed(f"could not write the state file {self.path}: {exc}") from exc
        finally:
            if wait:
                db.execute("PRAGMA busy_timeout = 0")

    def _write(self, upserts: Iterable[tuple], deletes: Iterable[tuple], metas: Iterable[tuple], *,
               replace: str | None = None) -> None:
        """Write into the open transaction (see _begin) and commit it; roll back on failure."""
        db = self._db
        try:
            if replace is not None:
                db.execute("DELETE FROM records WHERE api = ?", (replace,))
            if deletes:
                db.executemany("DELETE FROM records WHERE api = ? AND kind = ? AND key = ?", deletes)
            db.executemany("INSERT OR REPLACE INTO records (api, kind, key, data) VALUES (?, ?, ?, ?)", upserts)
            db.executemany("INSERT OR REPLACE INTO meta (api, data) VALUES (?, ?)", metas)
            db.execute("COMMIT")
        except BaseException:
            self._roll_back()
            raise

    def _roll_back(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def close(self) -> None:
        self._checkpointer.stop()
        self._db.close()  # the last connection to close checkpoints the WAL and removes it


class Checkpointer(threading.Thread):
    """Copies committed changes from the WAL into the database every `interval` seconds, on its own
    connection and thread (SQLite releases the GIL while it does I/O); restarts the WAL once it
    holds `restart_frames` pages (see the module docstring)."""

    restart_attempts = 400  # x 0.5 ms: how long a restart tries for the write lock before the next interval

    def __init__(self, path: Path, interval: float = 1.0, restart_frames: int = RESTART_FRAMES) -> None:
        super().__init__(name="mockserver-checkpoint", daemon=True)
        # no busy handler: SQLite's backs off to 100 ms sleeps and so loses the lock to a busy writer
        self._db = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        self._interval = interval
        self._restart_frames = restart_frames
        self._stopped = threading.Event()
        self.start()

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                _busy, frames, _copied = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames >= self._restart_frames:
                    self._restart()
            except sqlite3.Error as exc:  # e.g. the disk is full: the WAL keeps the changes meanwhile
                log.warning("state file checkpoint failed: %s", exc)
        self._db.close()

    def _restart(self) -> None:
        """Copy the rest of the WAL holding the write lock, so that the next commit starts the WAL
        over. The passive pass before copied nearly everything: the lock is held only while the
        last commits' pages are copied and the files synced."""
        for _ in range(self.restart_attempts):
            busy, _frames, _copied = self._db.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            if not busy or self._stopped.is_set():
                return
            time.sleep(0.0005)  # a commit holds the lock: it is free again within a millisecond

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=10)


class GroupCommit:
    """Commits the changes of every request handled in one event-loop turn together: each request
    that changed something awaits `committed()`, which resolves once a commit holding its changes
    is on disk (or raises SaveFailed). A commit that finds the write lock taken is tried again
    every `retry_seconds` (requests arriving meanwhile join it) for up to `give_up_after` seconds."""

    retry_seconds = 0.002
    give_up_after = LOCK_WAIT_MS / 1000

    def __init__(self, store: StateDatabase, runtimes: list[Any]) -> None:
        self.store = store
        self.runtimes = runtimes
        self._waiters: list[asyncio.Future[None]] = []  # one each, so a waiter cancelled (client gone) is only its own
        self._busy_since: float | None = None

    async def committed(self) -> None:
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        if len(self._waiters) == 1:
            loop.call_soon(self._commit)
        await waiter

    def _commit(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self.store.save_changes([(r.name, r.state) for r in self.runtimes if r.persisted and r.state.changes],
                                    wait=False)
        except StoreBusy as exc:
            now = loop.time()
            self._busy_since = self._busy_since or now
            if now - self._busy_since < self.give_up_after:
                loop.call_later(self.retry_seconds, self._commit)
                return
            self._settle(exc)
        except SaveFailed as exc:
            self._settle(exc)
        except Exception as exc:  # a defect of ours: answer the waiters (503) rather than leave them hanging
            log.exception("state file commit failed")
            failure = SaveFailed(f"could not write the state file {self.store.path}: {exc!r}")
            failure.__cause__ = exc
            self._settle(failure)
        else:
            self._settle(None)

    def _settle(self, failure: SaveFailed | None) -> None:
        waiters, self._waiters, self._busy_since = self._waiters, [], None
        for waiter in waiters:
            if waiter.done():  # cancelled: its client went away
                continue
            if failure is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(failure)


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
