"""The progress display and end-of-run summary, as a doit reporter.

One line per task that ran (count done/total, stage, item, what happened, time), failures with
their message in full, and a summary: built (generated / reused from the cache), up to date,
failed. On a terminal a status line also shows what is running now, with what a task reports
of itself (``update``: a remote job's node and step); elsewhere such reports come as plain lines,
at most one per task every few seconds. Registered as the doit reporter ``storybuild``;
``doit_config()`` selects it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, TextIO

from doit.exceptions import UnmetDependency

from . import STARTED

__all__ = ["StoryReporter", "update", "warn"]

# A task's own reports, when not on a terminal: at most one line per task this often.
PLAIN_EVERY = 5.0
# On a terminal, redraw the live line at most this often for reports alone.
LIVE_EVERY = 0.1

# The reporter of the build running in this process, from initialize() to complete_run().
_active: StoryReporter | None = None


def update(task: str, status: str) -> None:
    """Show ``status`` for the running ``task`` (``"comfyui 127.0.0.1:8188 KSampler 12/30"``); "" clears it.

    Cheap and never raises: a backend calls it from its worker thread as often as it likes.
    """
    reporter = _active
    if reporter is not None:
        try:
            reporter.task_status(task, status)
        except Exception:  # noqa: BLE001 - a display problem must never fail a task
            pass


def warn(message: str) -> None:
    """Tell the user something went wrong but the build copes (a corrupt cache entry dropped)."""
    reporter = _active
    if reporter is not None:
        reporter.warning(message)
    else:
        sys.stderr.write(f"storybuild: warning: {message}\n")
        sys.stderr.flush()


def _is_group(task: Any) -> bool:
    return not task.actions


class StoryReporter:
    """A doit reporter that speaks in stages and artifacts."""

    desc = "storybuild: progress per stage and item, and a build summary"

    def __init__(self, outstream: TextIO, options: dict[str, Any]) -> None:
        self.out = outstream
        self.failures: list[tuple[str, str]] = []
        self.counts = {"generated": 0, "reused": 0, "ran": 0, "uptodate": 0, "failed": 0, "blocked": 0}
        self.total = 0
        self.done = 0
        self.started = STARTED
        self.running: dict[str, float] = {}
        self.statuses: dict[str, str] = {}
        self.shown: dict[str, float] = {}
        self.drawn = 0.0
        self.lock = threading.Lock()
        self.live = bool(getattr(outstream, "isatty", lambda: False)())
        self.ok: set[str] = set()  # tasks that ended built or up to date: what settles a story
        # STORYBUILD_EXPLAIN=1: say why each task runs, as `storybuild explain` would, before it runs.
        self.explain = os.environ.get("STORYBUILD_EXPLAIN", "") not in ("", "0")
        self.built: set[str] = set()  # of those, the ones that ran

    # tasks call these, from their threads --------------------------------------------------
    def task_status(self, task: str, status: str) -> None:
        """Keep ``task``'s latest report; show it on the live line, or now and then as a line."""
        now = time.monotonic()
        with self.lock:
            if not status:
                self.statuses.pop(task, None)
                self.shown.pop(task, None)
                return
            first = task not in self.statuses
            self.statuses[task] = status
            if self.live:
                if first or now - self.drawn >= LIVE_EVERY:
                    self._status()
            elif now - self.shown.get(task, 0.0) >= PLAIN_EVERY:
                self.shown[task] = now
                began = self.running.get(task, now)
                self.out.write(f"{self._count()} {_describe(task)}  {status} {now - began:.0f}s\n")
                self.out.flush()

    def warning(self, message: str) -> None:
        """Print a warning on its own line."""
        with self.lock:
            self._line(f"warning: {message}")

    # doit calls these ---------------------------------------------------------------------
    def initialize(self, tasks: dict[str, Any], selected_tasks: list[str]) -> None:
        """Count the tasks with actions that this run will consider; take the tasks' own reports."""
        global _active
        self.total = _count_reachable(tasks, selected_tasks)
        _active = self

    def get_status(self, task: Any) -> None:
        """Nothing to show while doit checks a task."""

    def execute_task(self, task: Any) -> None:
        """Note that ``task`` started."""
        if not _is_group(task):
            why = _why(task.name) if self.explain else []
            with self.lock:
                self.running[task.name] = time.monotonic()
                if why:
                    self._line(f"{_describe(task.name)}  runs because:" + "".join(f"\n    - {r}" for r in why))
                self._status()

    def add_success(self, task: Any) -> None:
        """Print what ``task`` produced."""
        if _is_group(task):
            return
        values = task.values or {}
        outcome = values.get("outcome", "ran")
        with self.lock:
            self.ok.add(task.name)
            self.built.add(task.name)
            began = self.running.pop(task.name, time.monotonic())
            self.statuses.pop(task.name, None)
            self.counts[outcome if outcome in self.counts else "ran"] += 1
            self.done += 1
            label = {"generated": "generated", "reused": "from cache"}.get(outcome, "done")
            seconds = values.get("seconds", time.monotonic() - began)
            self._line(f"{self._count()} {_describe(task.name):<40} {label:<10} {seconds:6.1f}s")

    def add_failure(self, task: Any, fail: Any) -> None:
        """Print a failure in full, once; tasks blocked by it are only counted."""
        message = fail.get_msg().strip() if hasattr(fail, "get_msg") else str(fail)
        with self.lock:
            self.running.pop(task.name, None)
            self.statuses.pop(task.name, None)
            if isinstance(fail, UnmetDependency):
                if not _is_group(task):
                    self.counts["blocked"] += 1
                return
            self.counts["failed"] += 1
            self.built.add(task.name)  # it ran (and kept its last good target): not settled
            self.done += 1
            self.failures.append((task.name, message))
            self._line(f"{self._count()} {_describe(task.name)}  FAILED\n    {_indent(message)}")

    def skip_uptodate(self, task: Any) -> None:
        """Count ``task`` as up to date."""
        if not _is_group(task):
            with self.lock:
                self.ok.add(task.name)
                self.counts["uptodate"] += 1
                self.done += 1

    def skip_ignore(self, task: Any) -> None:
        """Count an ignored task as up to date (it does not settle its story: doit did not check it)."""
        if not _is_group(task):
            with self.lock:
                self.counts["uptodate"] += 1
                self.done += 1

    def cleanup_error(self, exception: Any) -> None:
        """Report an error from a clean action."""
        self._line(f"cleanup error: {exception.get_msg()}")

    def runtime_error(self, msg: str) -> None:
        """Report an error of doit itself."""
        self._line(f"error: {msg}")

    def teardown_task(self, task: Any) -> None:
        """Nothing to show on teardown."""

    def complete_run(self) -> None:
        """Print the summary."""
        global _active
        # doit swaps sys.stdout/stderr for each Python action to capture its output, which is not
        # thread-safe: under -P thread a race can leave them pointing at a finished action's
        # capture, and Python exits 120 when it cannot flush them. Put the real ones back.
        if sys.stdout is not sys.__stdout__ and type(sys.stdout).__module__.startswith("doit"):
            sys.stdout = sys.__stdout__
        if sys.stderr is not sys.__stderr__ and type(sys.stderr).__module__.startswith("doit"):
            sys.stderr = sys.__stderr__
        if _active is self:
            _active = None
        with self.lock:
            if self.live:
                self.out.write("\r\033[K")
            seconds = time.monotonic() - self.started
            c = self.counts
            built = c["generated"] + c["reused"] + c["ran"]
            settled = _settled_count()
            also = f", {settled} settled {'story' if settled == 1 else 'stories'} not checked" if settled else ""
            if built == 0 and c["failed"] == 0:
                self.out.write(f"storybuild: nothing to do, {c['uptodate']} tasks up to date{also} ({seconds:.1f}s)\n")
            else:
                self.out.write(
                    f"storybuild: {built} built ({c['generated']} generated, {c['reused']} reused from cache"
                    + (f", {c['ran']} other" if c["ran"] else "")
                    + f"), {c['uptodate']} up to date{also}, {c['failed']} failed"
                    + (f", {c['blocked']} not run (a dependency failed)" if c["blocked"] else "")
                    + f" in {seconds:.1f}s\n"
                )
            unfinished = self.total - self.done - c["blocked"]
            _settle(self.ok, self.built, stopped=unfinished > 0 and not self.failures)
            if unfinished > 0 and not self.failures:
                self.out.write(
                    f"storybuild: stopped before the end, {unfinished} tasks not run;"
                    " run the same command again to resume (finished work is kept)\n"
                )
                sys.excepthook = _quiet_interrupt
            for name, message in self.failures:
                self.out.write(f"  failed: {_describe(name)}: {message.splitlines()[0] if message else ''}\n")
            self.out.flush()

    # display -------------------------------------------------------------------------------
    def _count(self) -> str:
        width = len(str(self.total or 1))
        return f"[{self.done:>{width}}/{self.total}]"

    def _line(self, text: str) -> None:
        if self.live:
            self.out.write("\r\033[K")
        self.out.write(text + "\n")
        self._status()

    def _status(self) -> None:
        if not self.live or not self.running:
            self.out.flush()
            return
        now = time.monotonic()
        self.drawn = now
        items = ", ".join(
            f"{_describe(name)}  {self.statuses[name]} {now - t:.0f}s" if name in self.statuses
            else f"{_describe(name)} {now - t:.0f}s"
            for name, t in list(self.running.items())[:3]
        )
        self.out.write(f"\r\033[K{self._count()} working: {items}"[:160])
        self.out.flush()


def _settle(ok: set[str], built: set[str], stopped: bool) -> None:
    """Stamp the stories this run made tasks for (graph.settled), unless it was stopped."""
    from .graph.project import loaded_projects
    from .stopping import stop_requested

    for project in loaded_projects():
        try:
            project.settled().write(ok, built, stopped=stopped or stop_requested.is_set())
        except Exception as exc:  # noqa: BLE001 - a stamp only saves time: never fail a build for one
            sys.stderr.write(f"warning: could not record which stories are settled: {exc}\n")


def _why(task: str) -> list[str]:
    """``storybuild explain``'s reasons for ``task``, for STORYBUILD_EXPLAIN=1 (never fails the build)."""
    from .explain import why_running
    from .graph.project import loaded_projects

    try:
        return [line for project in loaded_projects() for line in why_running(project, task)]
    except Exception as exc:  # noqa: BLE001 - an explanation only
        return [f"(no reason: {type(exc).__name__}: {exc})"]


def _settled_count() -> int:
    """How many settled stories this run left out (graph.settled)."""
    from .graph.project import loaded_projects

    try:
        return sum(project.settled().left_out for project in loaded_projects())
    except Exception:  # noqa: BLE001 - only a count in the summary
        return 0


def _quiet_interrupt(kind: type[BaseException], value: BaseException, trace: Any) -> None:
    """After the summary said the build stopped, a Ctrl-C or SIGTERM needs no traceback."""
    if issubclass(kind, KeyboardInterrupt):
        return
    sys.__excepthook__(kind, value, trace)


def _describe(task_name: str) -> str:
    stage, _, item = task_name.partition(":")
    return f"{stage:<9} {item}" if item else stage


def _indent(message: str) -> str:
    return message.replace("\n", "\n    ")


def reachable(tasks: dict[str, Any], selected: list[str]) -> list[str]:
    """The names of the tasks with actions that ``selected`` reaches through task and file dependencies."""
    producer = {target: task.name for task in tasks.values() for target in task.targets}
    seen: set[str] = set()
    stack = [name for name in selected if name in tasks]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        task = tasks[name]
        stack.extend(dep for dep in (*task.task_dep, *task.setup_tasks) if dep in tasks)
        stack.extend(producer[dep] for dep in task.file_dep if dep in producer)
    return sorted(name for name in seen if tasks[name].actions)


def _count_reachable(tasks: dict[str, Any], selected: list[str]) -> int:
    """How many tasks with actions the selected ones reach."""
    return len(reachable(tasks, selected))
