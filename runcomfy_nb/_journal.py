"""The journal: every submitted job in SQLite, so no paid-for request_id is ever lost.

A row is written *before* the submit is sent (status "submitting") and completed with the request_id before
`submit` returns; later states, outputs and saved files are added as they happen. The token is never stored.
Location: $RUNCOMFY_NB_HOME/journal.sqlite3, else the user's data directory.
"""

from __future__ import annotations

import builtins
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs

from .errors import RunComfyError

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
            db.execute("INSERT INTO jobs (local_id, model_id, base_url, simulator, inputs, status, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, 'submitting', ?, ?)",
                       (local_id, model_id, base_url, int(simulator),
                        json.dumps(_digest_big_media(inputs), ensure_ascii=False), now, now))

    def update(self, local_id: str, **values: Any) -> None:
        """Change columns of one job's row (JSON columns are encoded here)."""
        unknown = set(values) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown journal columns: {sorted(unknown)}")
        values["updated_at"] = time.time()
        for key in _JSON_COLUMNS:
            if key in values:
                values[key] = json.dumps(values[key], ensure_ascii=False)
        assignments = ", ".join(f"{k} = ?" for k in values)
        with self._db() as db:
            db.execute(f"UPDATE jobs SET {assignments} WHERE local_id = ?", (*values.values(), local_id))

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

    def run_times(self, model_id: str, base_url: str, last: int = 7) -> builtins.list[float]:  # not self.list
        """Recent in_progress → completed durations of a model, for the polling schedule."""
        with self._db() as db:
            rows = db.execute("SELECT finished_at - started_at FROM jobs WHERE model_id = ? AND base_url = ? AND "
                              "status = 'completed' AND started_at IS NOT NULL AND finished_at IS NOT NULL "
                              "ORDER BY finished_at DESC LIMIT ?", (model_id, base_url, last)).fetchall()
        return [r[0] for r in rows if r[0] is not None and r[0] >= 0]


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
