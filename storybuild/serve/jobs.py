"""The durable job store: jobs and their webhook outbox, in SQLite (WAL) or PostgreSQL.

Every state change is one transaction that also writes the webhook deliveries it causes (a
transactional outbox), so a job that finished has its events queued whatever moment the server
dies, and a delivery is retried until it is accepted. The server is the only writer; a lock
serializes its threads on one connection, which keeps the SQL the same on both databases: only
the placeholder differs. SQLite is the default (``<state_dir>/serve.sqlite3``);
``STORYBUILD_DATABASE_URL=postgresql://...`` selects PostgreSQL, the bridge's choice.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["END_STATES", "PRIORITIES", "Delivery", "Job", "JobStore"]

PRIORITIES = {"low": 0, "normal": 1, "high": 2}
STATES = ("pending", "running", "completed", "failed", "cancelled")
END_STATES = frozenset({"completed", "failed", "cancelled"})
_RESUMED = 10  # added to an interrupted job's rank: above any priority, keeping their order among themselves

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, story TEXT NOT NULL, scene TEXT, targets TEXT NOT NULL,
        priority TEXT NOT NULL, rank INTEGER NOT NULL, quality_preset TEXT NOT NULL, webhook TEXT,
        status TEXT NOT NULL, progress DOUBLE PRECISION NOT NULL, stages TEXT NOT NULL, message TEXT NOT NULL,
        error TEXT, result TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL, started_at DOUBLE PRECISION, finished_at DOUBLE PRECISION,
        runs INTEGER NOT NULL, pid INTEGER, pid_start BIGINT, cancel_requested INTEGER NOT NULL, seq BIGINT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, rank, seq)",
    """CREATE TABLE IF NOT EXISTS deliveries (
        event_id TEXT PRIMARY KEY, job_id TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL,
        status TEXT NOT NULL, attempts INTEGER NOT NULL, next_at DOUBLE PRECISION NOT NULL,
        created_at DOUBLE PRECISION NOT NULL, last_error TEXT)""",
    "CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_at)",
)


@dataclass
class Job:
    """One build request and what has become of it."""

    id: str
    kind: str  # project | scene | reroll
    story: str
    targets: list[str]  # the doit tasks the build runs
    scene: str | None = None
    priority: str = "normal"
    quality_preset: str = "standard"
    webhook: str | None = None
    status: str = "pending"
    progress: float = 0.0
    stages: dict[str, dict[str, int]] = field(default_factory=dict)  # stage -> {"done": n, "total": n}
    message: str = "queued"
    error: dict[str, Any] | None = None
    result: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    runs: int = 0
    pid: int | None = None
    pid_start: int | None = None
    cancel_requested: int = 0

    @property
    def target_id(self) -> str:
        """What the job builds, as the bridge names it: the story, or story/scene."""
        return f"{self.story}/{self.scene}" if self.scene else self.story


@dataclass
class Delivery:
    """One webhook event waiting to reach one URL."""

    event_id: str
    job_id: str
    url: str
    body: str
    status: str
    attempts: int
    next_at: float
    created_at: float
    last_error: str | None = None


_JSON = {"targets", "stages", "error", "result"}
_COLUMNS = [f.name for f in fields(Job)]


def _to_row(job: Job) -> list[Any]:
    return [json.dumps(getattr(job, name)) if name in _JSON else getattr(job, name) for name in _COLUMNS]


def _from_row(row: tuple) -> Job:
    values = dict(zip(_COLUMNS, row))
    for name in _JSON:
        values[name] = json.loads(values[name]) if values[name] is not None else None
    return Job(**values)


class JobStore:
    """Jobs and webhook deliveries, durable across crashes of the server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.RLock()
        self._readers = threading.local()
        if url.startswith(("postgres://", "postgresql://")):
            try:
                import psycopg
            except ImportError as exc:
                raise ConfigError("STORYBUILD_DATABASE_URL is PostgreSQL: pip install 'storybuild[serve]'") from exc
            try:
                self._conn: Any = psycopg.connect(url, autocommit=True)
            except psycopg.Error as exc:
                raise ConfigError(f"STORYBUILD_DATABASE_URL: cannot connect: {exc}".strip()) from exc
            self._param, self._begin = "%s", None
        else:
            path = Path(url.removeprefix("sqlite:///"))
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._param, self._begin = "?", "BEGIN IMMEDIATE"
            self._path = path
        with self._transaction() as run:
            for statement in _SCHEMA:
                run(statement)

    @classmethod
    def for_state_dir(cls, state_dir: Path, database_url: str = "") -> JobStore:
        """PostgreSQL when a URL is given, else SQLite under the project's state dir."""
        return cls(database_url or str(Path(state_dir) / "serve.sqlite3"))

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[Callable[..., list[tuple]]]:
        def run(sql: str, *params: Any) -> list[tuple]:
            cursor = self._conn.execute(sql.replace("?", self._param), params)
            return list(cursor.fetchall()) if cursor.description else []

        with self._lock:
            if self._begin is None:
                with self._conn.transaction():
                    yield run
                return
            self._conn.execute(self._begin)
            try:
                yield run
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[Callable[..., list[tuple]]]:
        """Run queries that only read: on SQLite without the writers' lock, from a connection per thread.

        WAL lets readers go on while a write commits, so a status poll never waits for the fsync
        of a build's progress write (under 50 pollers it did, p50 0.36 s).
        """
        if self._begin is None:
            with self._transaction() as run:
                yield run
            return
        connection = getattr(self._readers, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, timeout=30)
            connection.execute("PRAGMA query_only=ON")
            self._readers.connection = connection

        def run(sql: str, *params: Any) -> list[tuple]:
            return list(connection.execute(sql, params).fetchall())

        yield run

    # jobs -----------------------------------------------------------------------------------
    def create(self, job: Job) -> Job:
        """Queue ``job`` (its id, times and order are set here)."""
        job.id = job.id or uuid.uuid4().hex
        job.created_at = job.updated_at = time.time()
        with self._transaction() as run:
            seq = run("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs")[0][0]
            names = ", ".join([*_COLUMNS, "rank", "seq"])
            marks = ", ".join("?" * (len(_COLUMNS) + 2))
            run(f"INSERT INTO jobs ({names}) VALUES ({marks})", *_to_row(job), PRIORITIES[job.priority], seq)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job ``job_id``, or None."""
        with self._reading() as run:
            rows = run(f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE id = ?", job_id)
        return _from_row(rows[0]) if rows else None

    def list(self, status: str | None = None, limit: int = 50, story: str | None = None) -> list[Job]:
        """Jobs, newest first, optionally of one status or story."""
        where, params = [], []
        if status:
            where.append("status = ?")
            params.append(status)
        if story:
            where.append("story = ?")
            params.append(story)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._reading() as run:
            rows = run(f"SELECT {', '.join(_COLUMNS)} FROM jobs {clause} ORDER BY seq DESC LIMIT ?", *params, limit)
        return [_from_row(row) for row in rows]

    def count(self, status: str) -> int:
        """How many jobs are in ``status``."""
        with self._reading() as run:
            return run("SELECT COUNT(*) FROM jobs WHERE status = ?", status)[0][0]

    def claim(self, busy_stories: set[str]) -> Job | None:
        """Mark the first pending job in queue order running and return it; skip stories being built.

        One build per story at a time: two doit processes on one story would race for its files.
        """
        with self._transaction() as run:
            rows = run(f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE status = 'pending' ORDER BY rank DESC, seq")
            job = next((j for j in map(_from_row, rows) if j.story not in busy_stories), None)
            if job is None:
                return None
            now = time.time()
            job.status, job.started_at, job.updated_at, job.runs = "running", now, now, job.runs + 1
            job.message = "starting"
            run("UPDATE jobs SET status = 'running', started_at = ?, updated_at = ?, runs = ?, message = ? WHERE id = ?",
                now, now, job.runs, job.message, job.id)
        return job

    def save(self, job: Job, event: Callable[[Job], list[Delivery]] | None = None) -> None:
        """Write ``job``'s mutable fields, and the deliveries ``event`` makes of it, in one transaction."""
        job.updated_at = time.time()
        with self._transaction() as run:
            names = [n for n in _COLUMNS if n not in ("id", "kind", "story", "scene", "created_at")]
            row = dict(zip(_COLUMNS, _to_row(job)))
            run(f"UPDATE jobs SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?", *(row[n] for n in names), job.id)
            for delivery in event(job) if event else []:
                run("INSERT INTO deliveries (event_id, job_id, url, body, status, attempts, next_at, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", delivery.event_id, delivery.job_id, delivery.url,
                    delivery.body, delivery.status, delivery.attempts, delivery.next_at, delivery.created_at)

    def interrupted(self) -> list[Job]:
        """Jobs a previous server left running: queued again ahead of every other job (they had begun)."""
        with self._transaction() as run:
            rows = run(f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE status = 'running'")
            jobs = [_from_row(row) for row in rows]
            for job in jobs:
                run("UPDATE jobs SET status = 'pending', message = 'interrupted by a server restart; queued again',"
                    " rank = rank + ?, updated_at = ? WHERE id = ?", _RESUMED, time.time(), job.id)
        return jobs

    # deliveries -----------------------------------------------------------------------------
    def due_deliveries(self, now: float, limit: int, skip: set[str]) -> list[Delivery]:
        """Pending deliveries whose time has come, oldest first, except those being sent (``skip``)."""
        names = [f.name for f in fields(Delivery)]
        with self._reading() as run:
            rows = run(f"SELECT {', '.join(names)} FROM deliveries WHERE status = 'pending' AND next_at <= ?"
                       " ORDER BY next_at LIMIT ?", now, limit + len(skip))
        found = [Delivery(**dict(zip(names, row))) for row in rows]
        return [d for d in found if d.event_id not in skip][:limit]

    def deliveries(self, job_id: str) -> list[Delivery]:
        """Every delivery of ``job_id``'s events."""
        names = [f.name for f in fields(Delivery)]
        with self._reading() as run:
            rows = run(f"SELECT {', '.join(names)} FROM deliveries WHERE job_id = ? ORDER BY created_at", job_id)
        return [Delivery(**dict(zip(names, row))) for row in rows]

    def next_delivery_at(self) -> float | None:
        """When the earliest pending delivery is due."""
        with self._reading() as run:
            return run("SELECT MIN(next_at) FROM deliveries WHERE status = 'pending'")[0][0]

    def record_attempt(self, delivery: Delivery, status: str, next_at: float, error: str | None) -> None:
        """After one attempt: delivered, pending again at ``next_at``, or given up (``dead``)."""
        with self._transaction() as run:
            run("UPDATE deliveries SET status = ?, attempts = attempts + 1, next_at = ?, last_error = ?"
                " WHERE event_id = ?", status, next_at, error, delivery.event_id)
