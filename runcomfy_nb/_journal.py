"""The journal: every submitted job in SQLite, so no paid-for request_id is ever lost.

A row is written *before* the submit is sent (status "submitting") and completed with the request_id before
`submit` returns; later states, outputs and saved files are added as they happen. The token is never stored.
Location: $RUNCOMFY_NB_HOME/journal.sqlite3, else the user's data directory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs

from .errors import RunComfyError

log = logging.getLogger("runcomfy_nb")

FLUSH_EVERY = 0.1  # seconds: routine changes of all jobs wait at most this long, then go in one commit
INLINE_LIMIT = 64 * 1024  # larger data: URIs are recorded by digest, not inline (see docs/decisions.md)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    local_id TEXT PRIMARY KEY,
    request_id TEXT UNIQUE,
    model_id TEXT NOT NULL,
    base_url TEXT NOT NULL,
    simulator INTEGER NOT NULL DEFAULT 0,
    inputs TEXT NOT NULL,
    status TEXT NOT NULL,
    queue_position INTEGER,
    outputs TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    saved TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    submitted_at REAL,
    started_at REAL,
    finished_at REAL,
    updated_at REAL NOT NULL,
    raw_result TEXT
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at);
CREATE INDEX IF NOT EXISTS jobs_model ON jobs(model_id, base_url);
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at REAL NOT NULL);
"""
_COLUMNS = ("local_id", "request_id", "model_id", "base_url", "simulator", "inputs", "status", "queue_position",
            "outputs", "error", "saved", "created_at", "submitted_at", "started_at", "finished_at", "updated_at",
            "raw_result")
_JSON_COLUMNS = ("inputs", "outputs", "saved")


class JournalError(RunComfyError):
    """The journal cannot record a job (a full disk, a read-only folder)."""


def default_path() -> Path:
    """Where the journal lives: $RUNCOMFY_NB_HOME/journal.sqlite3, else the user's data directory."""
    home = os.environ.get("RUNCOMFY_NB_HOME")
    folder = Path(home) if home else Path(platformdirs.user_data_dir("runcomfy_nb", appauthor=False))
    return folder / "journal.sqlite3"


def _digest_big_media(inputs: dict[str, Any]) -> dict[str, Any]:
    import hashlib

    out = {}
    for key, value in inputs.items():
        if isinstance(value, str) and value.startswith("data:") and len(value) > INLINE_LIMIT:
            digest = hashlib.sha256(value.encode()).hexdigest()[:16]
            out[key] = f"{value.split(',', 1)[0]},…<{len(value)} chars, sha256 {digest}>"
        else:
            out[key] = value
    return out


class Journal:
    """The SQLite record of every job this machine submitted (one row per job, keyed by local id)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        # Changes waiting for the next flush (one commit for all): local_id -> columns, name -> state value.
        self._pending: dict[str, dict[str, Any]] = {}
        self._pending_state: dict[str, str | Callable[[], str]] = {}
        self._pending_lock = threading.Lock()
        self._group: list[asyncio.Future[None]] = []  # commit_soon callers waiting for the next group commit
        self.commits = 0  # write transactions so far (tests and benchmarks count them)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # One connection, kept open and used under the lock from any thread: opening one per write cost ~2 ms,
        # paid on the background loop for every state change of every job (each commit is still durable).
        with self._lock:
            if self._conn is None or self._pid != os.getpid():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
                columns = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
                if "raw_result" not in columns:  # a journal written by an earlier version
                    conn.execute("ALTER TABLE jobs ADD COLUMN raw_result TEXT")
                self._conn, self._pid = conn, os.getpid()
            with self._conn:
                yield self._conn

    def close(self) -> None:
        """Close the connection (it reopens on next use)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def record_submitting(self, local_id: str, model_id: str, base_url: str, simulator: bool,
                          inputs: dict[str, Any]) -> None:
        """Put a job on record before its submit is sent (status "submitting"); JournalError when it cannot be
        (then nothing is sent)."""
        now = time.time()
        try:
            self._insert(local_id, model_id, base_url, simulator, inputs, now)
        except (sqlite3.Error, OSError) as error:
            raise JournalError(f"The journal ({self.path}) cannot record a new job: {error}. Nothing was sent "
                               "(a job that is not on record could be lost); free some space or set "
                               "RUNCOMFY_NB_HOME to a writable folder.") from None

    def _insert(self, local_id: str, model_id: str, base_url: str, simulator: bool, inputs: dict[str, Any],
                now: float) -> None:
        with self._db() as db:
            self.commits += 1
            db.execute("INSERT INTO jobs (local_id, model_id, base_url, simulator, inputs, status, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, 'submitting', ?, ?)",
                       (local_id, model_id, base_url, int(simulator),
                        json.dumps(_digest_big_media(inputs), ensure_ascii=False), now, now))

    def update(self, local_id: str, **values: Any) -> None:
        """Change columns of one job's row now (JSON columns are encoded here), in one commit with every change
        still waiting for `flush()`."""
        unknown = set(values) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown journal columns: {sorted(unknown)}")
        with self._pending_lock:
            self._pending.setdefault(local_id, {}).update(values)
        self.flush()

    def commit_soon(self, local_id: str, **values: Any) -> asyncio.Future[None]:
        """`update`, durable once the returned future is done (its exception: the write failed, and the change
        stays queued for the next flush). The writes of every job asked for in one turn of the running loop go
        in one commit at its next turn: 1000 submits answered together cost a few commits, not 1000."""
        unknown = set(values) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown journal columns: {sorted(unknown)}")
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        with self._pending_lock:
            self._pending.setdefault(local_id, {}).update(values)
            first, self._group = not self._group, [*self._group, done]
        if first:
            loop.call_soon(self._commit_group)
        return done

    def _commit_group(self) -> None:
        with self._pending_lock:
            group, self._group = self._group, []
        try:
            self.flush()
        except Exception as error:
            for done in group:
                if not done.done():
                    done.set_exception(error)
            return
        for done in group:
            if not done.done():
                done.set_result(None)

    def update_soon(self, local_id: str, **values: Any) -> None:
        """`update` in the next batched commit (`FLUSH_EVERY` s from the first queued change, on the running
        loop; at once off any loop). A later value of a column replaces an earlier one, so a queue position that
        changes every poll costs one write per tick for all jobs, not one per change."""
        unknown = set(values) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown journal columns: {sorted(unknown)}")
        with self._pending_lock:
            first = not self._pending and not self._pending_state
            self._pending.setdefault(local_id, {}).update(values)
        if first:
            self._flush_soon()

    def put_state_soon(self, name: str, value: str | Callable[[], str]) -> None:
        """`put_state` in the next batched commit; a callable is called then (serialised once per commit)."""
        with self._pending_lock:
            first = not self._pending and not self._pending_state
            self._pending_state[name] = value
        if first:
            self._flush_soon()

    def _flush_soon(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._flush_logged()
            return
        loop.call_later(FLUSH_EVERY, self._flush_logged)

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception as error:  # still queued: the next write of any job carries them
            log.warning("runcomfy_nb: journal write failed (kept for the next one): %s", error)

    def flush(self) -> None:
        """Write every queued change in one commit (nothing queued: no commit). If the write fails the changes
        stay queued (a later flush or `update` carries them) and the error is raised."""
        with self._pending_lock:
            empty = not self._pending and not self._pending_state
        if empty:
            with self._lock:  # another thread's flush may be committing changes it took from the queue: wait
                return
        with self._db() as db, self._pending_lock:  # the db lock first: an older batch never lands after a newer
            pending, self._pending = self._pending, {}
            states, self._pending_state = self._pending_state, {}
            try:
                now = time.time()
                for local_id, values in pending.items():
                    row = {**values, "updated_at": now}
                    for key in _JSON_COLUMNS:
                        if key in row:
                            row[key] = json.dumps(row[key], ensure_ascii=False)
                    assignments = ", ".join(f"{k} = ?" for k in row)
                    db.execute(f"UPDATE jobs SET {assignments} WHERE local_id = ?", (*row.values(), local_id))
                for name, value in states.items():
                    db.execute("INSERT INTO state (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO "
                               "UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                               (name, value() if callable(value) else value, now))
            except BaseException:
                for local_id, values in pending.items():  # newer changes queued meanwhile win
                    self._pending[local_id] = {**values, **self._pending.get(local_id, {})}
                for name, value in states.items():
                    self._pending_state.setdefault(name, value)
                raise
            self.commits += 1

    def get(self, request_id: str) -> dict[str, Any] | None:
        """The row of a job by request_id or local id, or None."""
        with self._db() as db:
            row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE request_id = ? OR local_id = ?",
                             (request_id, request_id)).fetchone()
        return _row(row) if row else None

    def list(self, limit: int | None = 50, model_id: str | None = None) -> list[dict[str, Any]]:
        """Rows newest first, optionally of one model, at most `limit` (None: all)."""
        query = f"SELECT {', '.join(_COLUMNS)} FROM jobs"
        args: list[Any] = []
        if model_id:
            query += " WHERE model_id = ?"
            args.append(model_id)
        query += " ORDER BY created_at DESC"
        if limit:
            query += " LIMIT ?"
            args.append(limit)
        with self._db() as db:
            return [_row(r) for r in db.execute(query, args).fetchall()]

    def get_state(self, name: str) -> str | None:
        """A small named value (e.g. "polling:<base_url>": the polling policy's learned run times as JSON)."""
        with self._db() as db:
            row = db.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def put_state(self, name: str, value: str) -> None:
        """Set a small named value now."""
        with self._db() as db:
            self.commits += 1
            db.execute("INSERT INTO state (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE "
                       "SET value = excluded.value, updated_at = excluded.updated_at", (name, value, time.time()))


def _row(row: tuple[Any, ...]) -> dict[str, Any]:
    """One row as a dict; a column that cannot be read (edited by hand, another version) becomes its empty value
    and is named in `unreadable`, so one bad row never stops rc.jobs()."""
    item = dict(zip(_COLUMNS, row, strict=True))
    for key in _JSON_COLUMNS:
        empty: Any = {} if key == "inputs" else []
        try:
            value = json.loads(item[key]) if item[key] else empty
        except (TypeError, ValueError, RecursionError):
            value = None
        if not isinstance(value, type(empty)):
            item.setdefault("unreadable", []).append(key)
            value = empty
        item[key] = value
    item["simulator"] = bool(item["simulator"])
    return item


_default: Journal | None = None
_default_lock = threading.Lock()


def default_journal() -> Journal:
    """The process-wide journal (re-created if RUNCOMFY_NB_HOME changed, which tests do)."""
    global _default
    with _default_lock:
        if _default is None or _default.path != default_path():
            if _default is not None:
                _default.close()  # it reopens itself if something still holds it
            _default = Journal()
        return _default
