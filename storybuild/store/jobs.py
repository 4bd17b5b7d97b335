"""Remote jobs in flight, by artifact key, so a build killed mid-job re-attaches instead of paying twice.

A backend records (key, server, prompt_id) and commits it *before* it submits; if the process dies
while the server works, the next build finds the record, asks the server about that prompt_id and
takes its result (or submits it once more if the server forgot it). SQLite in WAL mode: every
record is durable when ``record`` returns, readers never block the writer, and several build
processes (or threads) can share the file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from storybuild.errors import CacheError

__all__ = ["Job", "JobStore"]

_SCHEMA = """CREATE TABLE IF NOT EXISTS jobs (
    key TEXT NOT NULL PRIMARY KEY, server TEXT NOT NULL, prompt_id TEXT NOT NULL,
    state TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL)"""
# Outwaits another process's commit (one row: microseconds; a checkpoint: milliseconds).
_BUSY_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Job:
    """One recorded job: which server runs it under which prompt_id, and since when."""

    key: str
    server: str
    prompt_id: str
    state: str
    created: float
    updated: float


class JobStore:
    """The job records of one state folder; safe to share between threads and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def record(self, key: str, server: str, prompt_id: str) -> None:
        """Note that ``key`` is being made by ``prompt_id`` on ``server``; durable on return."""
        now = time.time()
        self._execute(
            "INSERT INTO jobs (key, server, prompt_id, state, created, updated) VALUES (?, ?, ?, 'submitted', ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET server = excluded.server, prompt_id = excluded.prompt_id,"
            " state = 'submitted', created = excluded.created, updated = excluded.updated",
            (key, server, prompt_id, now, now),
        )

    def lookup(self, key: str) -> tuple[str, str] | None:
        """(server, prompt_id) of ``key``'s unfinished job, or None."""
        rows = self._execute("SELECT server, prompt_id FROM jobs WHERE key = ? AND state = 'submitted'", (key,))
        return (rows[0][0], rows[0][1]) if rows else None

    def finish(self, key: str) -> None:
        """``key``'s job is done and its result is stored: nothing to re-attach to any more."""
        self._execute("UPDATE jobs SET state = 'done', updated = ? WHERE key = ?", (time.time(), key))

    def pending(self) -> list[Job]:
        """Every unfinished job, oldest first."""
        rows = self._execute("SELECT key, server, prompt_id, state, created, updated FROM jobs"
                             " WHERE state = 'submitted' ORDER BY created", ())
        return [Job(*row) for row in rows]

    def close(self) -> None:
        """Close this process's connection (it reopens on next use)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def _execute(self, sql: str, args: tuple) -> list[tuple]:
        with self._lock:
            try:
                conn = self._connection()
                return conn.execute(sql, args).fetchall()  # autocommit: each statement commits
            except sqlite3.Error as exc:
                raise CacheError(f"{self.path}: the job store cannot be used ({exc}); if it is damaged, "
                                 "delete it (running jobs will then be submitted again)", file=self.path) from exc

    def _connection(self) -> sqlite3.Connection:
        # A connection must not cross a fork: a child opens its own.
        if self._conn is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                                   isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a record must survive power loss too, or a resumed build pays for the job twice.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute(_SCHEMA)
            self._conn, self._pid = conn, os.getpid()
        return self._conn
