"""doit's state DB as sqlite3 in WAL mode, committing each task's state as soon as it succeeds.

doit's own backends write the whole DB once, when a run ends: a SIGKILL or SIGTERM mid-build
forgets every task of that run, and the json and dbm.dumb files can be left unreadable. Here each
task's row is committed when doit finishes saving it, so a kill loses at most the tasks in flight,
and sqlite3's journal keeps the file valid whatever moment the process dies.

The table has the layout of doit's ``sqlite3`` backend, so either backend can read the file.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from collections.abc import Iterable
from typing import Any

from doit.dependency import DatabaseException

__all__ = ["SETTLED_SCHEMA", "WalSqliteDB", "forget_stamps"]

# ``Dependency.save_success`` writes this key last for every task it saves (doit 0.36, 0.37),
# so setting it means the task's state is complete and can be committed.
_LAST_KEY_OF_A_SAVE = "deps:"
_IGNORE_KEY = "ignore:"
_ROWS_ONE_BY_ONE = 512

# Long enough to outwait another doit process finishing a commit (`doit list` during a build).
_BUSY_TIMEOUT_MS = 10_000

_SCHEMA = "CREATE TABLE IF NOT EXISTS doit (task_id TEXT NOT NULL PRIMARY KEY, task_data json)"
# graph.settled's stamps live in the same file, so deleting it or `doit forget` drops them too.
SETTLED_SCHEMA = "CREATE TABLE IF NOT EXISTS settled (story TEXT NOT NULL PRIMARY KEY, stamp TEXT NOT NULL)"


class WalSqliteDB:
    """A doit DB backend: one sqlite3 row of JSON per task, each committed as the task succeeds."""

    desc = "sqlite3 in WAL mode; commits each task as it succeeds, so a kill loses only tasks in flight"

    def __init__(self, name: str, codec: Any, *, module_name: str | None = None) -> None:
        """Open (creating it and its folder if missing) the DB file ``name``."""
        self.name = name
        self.codec = codec
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        # doit calls the backend from its main thread only (also with -P thread: results are
        # saved there), but a reporter or an uptodate callable might not; the lock makes that safe.
        # Reentrant, so a KeyboardInterrupt that leaks a hold cannot deadlock the final dump().
        self._lock = threading.RLock()
        # Rows as stored (JSON text), decoded on first use. The first lookups read one row each: a
        # run that leaves settled stories out asks for few. Past _ROWS_ONE_BY_ONE, every row is read
        # in one query: one SELECT per task, as doit's sqlite3 backend does, took 80 ms more CPU
        # over 10,000 tasks.
        self._conn = _open(name)
        self._stored: dict[str, str | None] = {}
        self._all_read = False
        self._decoded: dict[str, dict[str, Any]] = {}
        self._pending: set[str] = set()

    def get(self, task_id: str, dependency: str) -> Any:
        """The value saved for ``task_id`` under ``dependency``, or None."""
        with self._lock:
            if self._pending:
                self._flush_others(task_id)
            data = self._decoded.get(task_id)
            if data is None:
                if self._row(task_id) is None:
                    return None
                data = self._task(task_id)
            return data.get(dependency)

    def set(self, task_id: str, dependency: str, value: Any) -> None:
        """Save ``value`` under ``dependency``; commit once doit has saved the whole task."""
        with self._lock:
            if self._pending:
                self._flush_others(task_id)
            self._task(task_id)[dependency] = value
            self._pending.add(task_id)
            if dependency == _LAST_KEY_OF_A_SAVE:
                self._flush()
            elif dependency == _IGNORE_KEY:  # `doit ignore`: the story is no longer settled
                with self._conn:
                    forget_stamps(self._conn, [task_id])

    def in_(self, task_id: str) -> bool:
        """Whether anything is saved for ``task_id``."""
        with self._lock:
            return bool(self._decoded.get(task_id)) or self._row(task_id) is not None

    def remove(self, task_id: str) -> None:
        """Forget ``task_id`` at once, so a kill cannot bring back the state of a failed task."""
        with self._lock:
            self._stored.pop(task_id, None)
            self._decoded.pop(task_id, None)
            self._pending.discard(task_id)
            with self._conn:
                self._conn.execute("DELETE FROM doit WHERE task_id = ?", (task_id,))
                forget_stamps(self._conn, [task_id])

    def remove_all(self) -> None:
        """Forget every task (``doit forget --all``)."""
        with self._lock:
            self._stored = {}
            self._all_read = True
            self._decoded = {}
            self._pending = set()
            with self._conn:
                self._conn.execute("DELETE FROM doit")
                forget_stamps(self._conn, None)

    def dump(self) -> None:
        """Commit whatever is pending and close the file; doit calls this once, at the end."""
        with self._lock:
            self._flush()
            self._conn.close()

    def _task(self, task_id: str) -> dict[str, Any]:
        """The decoded, mutable state of ``task_id`` (empty if never saved)."""
        data = self._decoded.get(task_id)
        if data is None:
            text = self._row(task_id)
            data = self.codec.decode(text) if text else {}
            self._decoded[task_id] = data
        return data

    def _row(self, task_id: str) -> str | None:
        """The stored JSON text of ``task_id``, or None."""
        if task_id in self._stored or self._all_read:
            return self._stored.get(task_id)
        if len(self._stored) < _ROWS_ONE_BY_ONE:
            found = self._conn.execute("SELECT task_data FROM doit WHERE task_id = ?", (task_id,)).fetchone()
            self._stored[task_id] = found[0] if found else None
            return self._stored[task_id]
        rows = dict(self._conn.execute("SELECT task_id, task_data FROM doit"))
        self._stored = {**rows, **{k: v for k, v in self._stored.items() if k not in rows and v is not None}}
        self._all_read = True
        return self._stored.get(task_id)

    def _flush_others(self, task_id: str) -> None:
        """Commit pending tasks other than ``task_id``: doit has moved on, so they are complete."""
        # A safety net: save_success ends with "deps:", which commits already; this covers
        # `doit ignore` and any future doit that saves keys in another order.
        if task_id not in self._pending:
            self._flush()

    def _flush(self) -> None:
        """Write the pending tasks' state in one transaction."""
        if not self._pending:
            return
        rows = [(task_id, self.codec.encode(self._decoded[task_id])) for task_id in self._pending]
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO doit VALUES (?, ?)", rows)
        # Cleared only after the commit: a KeyboardInterrupt mid-write leaves them to dump().
        self._pending.clear()


def forget_stamps(conn: sqlite3.Connection, task_ids: Iterable[str] | None) -> None:
    """Drop the settled-story stamps (graph.settled) of the stories ``task_ids`` belong to; all for None.

    A stage's group task (no ``:``) belongs to every story. Called when doit forgets or ignores.
    """
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='settled'").fetchone():
            return
        ids = None if task_ids is None else list(task_ids)
        if ids is None or any(":" not in task_id for task_id in ids):
            conn.execute("DELETE FROM settled")
        else:
            stories = sorted({task_id.partition(":")[2].split("/")[0] for task_id in ids})
            conn.executemany("DELETE FROM settled WHERE story = ?", [(s,) for s in stories])
    except sqlite3.Error:
        pass  # an unreadable table holds no stamp that could be trusted anyway


def _open(name: str) -> sqlite3.Connection:
    """Open ``name`` in WAL mode, set for a cheap, safe commit per task."""
    try:
        conn = sqlite3.connect(name, check_same_thread=False, timeout=_BUSY_TIMEOUT_MS / 1000)
        # WAL: a commit appends to the log and readers never block the writer; with NORMAL sync a
        # commit does not fsync, yet a killed process loses nothing (only a power cut can lose the
        # last commits, and the file stays consistent either way).
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        conn.execute(_SCHEMA)
        conn.execute("SELECT count(*) FROM doit").fetchone()  # an unreadable file fails here, named
    except sqlite3.DatabaseError as exc:
        raise DatabaseException(
            f"doit's state DB {name!r} is unreadable ({exc}); delete it and the build will redo every task."
        ) from exc
    return conn
