"""The queue: runs jobs as doit processes, by priority, at most ``max_concurrent`` at once.

Each job is ``python -m storybuild.serve.build`` in its own session (process group), so a cancel
stops the whole build with SIGTERM, which doit handles like Ctrl-C: its state is saved and its
ComfyUI jobs interrupted by the build's own stop handling. Threads here only wait on processes
and pipes; no doit code runs in the server.

After a crash of the server, jobs it left running are queued again first; a build process that
outlived the server (its own session survives a kill -9) is stopped before that, so two builds
never share a story. The rerun redoes only what had not finished: that is the graph's doing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..store.atomic import process_start
from .jobs import END_STATES, Delivery, Job, JobStore

__all__ = ["Runner"]

SAVE_EVERY = 0.25  # seconds between progress writes of one job: enough for a live bar, cheap for the DB
EventMaker = Callable[[str], Callable[[Job], list[Delivery]]]


class Runner:
    """Starts, follows and stops the builds of queued jobs."""

    def __init__(self, store: JobStore, root: Path, build_dir: str, log_dir: Path, max_concurrent: int,
                 events: EventMaker, sent: Callable[[], None] = lambda: None, cancel_grace: float = 20.0) -> None:
        self.store, self.root, self.build_dir = store, Path(root), build_dir.rstrip("/")
        self.log_dir, self.max_concurrent, self.events = Path(log_dir), max_concurrent, events
        self.cancel_grace, self.sent = cancel_grace, sent
        self._active: dict[str, tuple[Job, subprocess.Popen]] = {}
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Requeue what a previous server left running, then start scheduling."""
        for job in self.store.interrupted():
            _stop_orphan(job)
        self._thread = threading.Thread(target=self._schedule, name="storybuild-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop scheduling; running builds are stopped and their jobs queued again for the next start."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        for _, process in list(self._active.values()):
            _signal_group(process.pid, signal.SIGTERM)
        if self._thread:
            self._thread.join(timeout=5)

    def submit(self, job: Job) -> Job:
        """Queue ``job`` and wake the scheduler."""
        self.store.create(job)
        self.wake()
        return job

    def wake(self) -> None:
        """Look at the queue now."""
        with self._wake:
            self._wake.notify_all()

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued job at once, or stop a running one's build (it ends ``cancelled``)."""
        job = self.store.get(job_id)
        if job is None or job.status in END_STATES:
            return job
        with self._wake:
            active = self._active.get(job_id)
            if active is None:
                job.status, job.message, job.finished_at = "cancelled", "cancelled before it started", time.time()
                self._save_event(job, "job.cancelled")
                return job
            running, process = active
            running.cancel_requested = 1
            running.message = "cancelling"
            self.store.save(running)
        _signal_group(process.pid, signal.SIGTERM)
        threading.Timer(self.cancel_grace, _signal_group, (process.pid, signal.SIGKILL, process)).start()
        return running

    def _save_event(self, job: Job, event: str) -> None:
        """Save ``job`` with its webhook event, then tell the sender (after the commit, so it sees it)."""
        self.store.save(job, self.events(event))
        self.sent()

    # scheduling -----------------------------------------------------------------------------
    def _schedule(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                while len(self._active) < self.max_concurrent:
                    busy = {job.story for job, _ in self._active.values()}
                    job = self.store.claim(busy)
                    if job is None:
                        break
                    self._launch(job)
                self._wake.wait(timeout=1.0)

    def _launch(self, job: Job) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        read_end, write_end = os.pipe()
        with open(self.log_dir / f"{job.id}.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "storybuild.serve.build", "--events-fd", str(write_end), *job.targets],
                cwd=self.root, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(write_end,), start_new_session=True, env=job_environment(job),
            )
        os.close(write_end)
        job.pid, job.pid_start = process.pid, process_start(process.pid)
        self._save_event(job, "job.started")
        self._active[job.id] = (job, process)
        threading.Thread(target=self._follow, args=(job, process, read_end), name=f"job-{job.id[:8]}",
                         daemon=True).start()

    def _follow(self, job: Job, process: subprocess.Popen, read_end: int) -> None:
        progress = _Progress(job, self.build_dir)
        saved = 0.0
        try:
            with os.fdopen(read_end, "r", encoding="utf-8") as events:
                for line in events:
                    try:
                        record = json.loads(line)
                        progress.apply(record)
                    except (ValueError, KeyError, TypeError, AttributeError):
                        continue  # a line that is not one of our events must not end the following
                    now = time.monotonic()
                    if now - saved >= SAVE_EVERY or record.get("event") == "end":
                        saved = now
                        self._save_progress(job)
            returncode = process.wait()
        finally:
            with self._wake:
                self._active.pop(job.id, None)
        if self._stopping:
            return  # the server is going down: the job stays "running" and is requeued on the next start
        try:
            self._finish(job, returncode, progress)
        except Exception as exc:  # noqa: BLE001 - a job must end, whatever went wrong in recording how
            job.status, job.error = "failed", {"stage": None, "story": job.story, "item": None,
                                               "message": f"storybuild serve: {type(exc).__name__}: {exc}"}
            job.message = job.error["message"]
            self._save_event(job, "job.failed")
        self.wake()

    def _save_progress(self, job: Job) -> None:
        current = self.store.get(job.id)
        job.cancel_requested = current.cancel_requested if current else job.cancel_requested
        self.store.save(job)

    def _finish(self, job: Job, returncode: int, progress: _Progress) -> None:
        current = self.store.get(job.id)
        job.cancel_requested = current.cancel_requested if current else job.cancel_requested
        job.finished_at, job.pid, job.pid_start = time.time(), None, None
        if job.cancel_requested:
            job.status, job.message, event = "cancelled", "cancelled; finished work is kept", "job.cancelled"
        elif returncode == 0 and not progress.failures:
            job.status, job.progress, job.message, event = "completed", 1.0, "done", "job.succeeded"
        else:
            job.status, event = "failed", "job.failed"
            first = progress.failures[0] if progress.failures else {
                "stage": None, "story": job.story, "item": None,
                "message": f"the build exited with status {returncode}; see its log"}
            job.error = {**first, "failures": list(progress.failures)}
            job.message = job.error["message"].splitlines()[0] if job.error["message"] else "failed"
        self._save_event(job, event)


class _Progress:
    """Folds a build's events into its job: progress per stage, artifacts made, failures."""

    def __init__(self, job: Job, build_dir: str) -> None:
        self.job, self.build_dir = job, build_dir
        self.tasks: set[str] = set()
        self.done: set[str] = set()
        self.failures: list[dict[str, Any]] = []
        job.result = {"artifacts": [], "counts": {}}
        job.error = None

    def apply(self, record: dict[str, Any]) -> None:
        job, kind = self.job, record.get("event")
        if kind == "start":
            self.tasks = set(record["tasks"])
            job.message = f"building {len(self.tasks)} tasks"
        elif kind == "running":
            job.message = f"running {record['task']}"
        elif kind == "task":
            task, outcome = record["task"], record["outcome"]
            self.tasks.add(task)
            self.done.add(task)
            counts = job.result["counts"]
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome == "failed":
                self.failures.append(_failure(task, record.get("message", "")))
            elif outcome not in ("blocked", "uptodate"):
                job.result["artifacts"].extend(self._artifacts(task, outcome, record.get("targets", [])))
        self._fold()

    def _fold(self) -> None:
        stages: dict[str, dict[str, int]] = {}
        for task in self.tasks:
            stage = stages.setdefault(task.partition(":")[0], {"done": 0, "total": 0})
            stage["total"] += 1
            stage["done"] += task in self.done
        self.job.stages = dict(sorted(stages.items()))
        self.job.progress = round(len(self.done & self.tasks) / len(self.tasks), 4) if self.tasks else 0.0

    def _artifacts(self, task: str, outcome: str, targets: list[str]) -> list[dict[str, Any]]:
        stage, _, item = task.partition(":")
        found = []
        for target in targets:
            story, _, rest = target.removeprefix(self.build_dir + "/").partition("/")
            if target.startswith(self.build_dir + "/") and rest:
                found.append({"stage": stage, "item": item, "outcome": outcome, "path": rest,
                              "url": f"/api/artifacts/{story}/{rest}"})
        return found


def _failure(task: str, message: str) -> dict[str, Any]:
    stage, _, item = task.partition(":")
    return {"stage": stage, "story": item.partition("/")[0] or None, "item": item or None, "message": message}


def job_environment(job: Job) -> dict[str, str]:
    """The build process's environment: the server's, plus the job's quality preset (config reads it)."""
    return {**os.environ, "STORYBUILD_QUALITY": job.quality_preset}


def _signal_group(pid: int, signum: int, process: subprocess.Popen | None = None) -> None:
    """Signal the build's process group, unless it is gone (or, with ``process``, already reaped)."""
    if process is not None and process.poll() is not None:
        return
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_orphan(job: Job, grace: float = 20.0) -> None:
    """Stop the build a killed server left behind: SIGTERM saves its state, SIGKILL if it lingers."""
    if not job.pid or not job.pid_start or process_start(job.pid) != job.pid_start:
        return  # gone, or the pid now names another process
    _signal_group(job.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and process_start(job.pid) == job.pid_start and not _zombie(job.pid):
        time.sleep(0.05)
    if process_start(job.pid) == job.pid_start and not _zombie(job.pid):
        _signal_group(job.pid, signal.SIGKILL)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True
