"""The process of one job: doit on the project's dodo.py, reporting progress as JSON lines on a pipe.

doit keeps global state (its loader, the project loaded once per process, signal handlers), so the
server never runs it in a thread: each job is ``python -m storybuild.serve.build``. The project's
own reporter keeps writing the human log; a subclass of it also writes one JSON event per task to
the file descriptor the server passes, which is sturdier than parsing the log's lines.

    python -m storybuild.serve.build --events-fd 5 final_mp4:lighthouse
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
from typing import Any

from doit.cmd_base import ModuleTaskLoader
from doit.doit_cmd import DoitMain

from ..progress import reachable

__all__ = ["job_reporter", "main"]


def job_reporter(base: type, events: Any) -> type:
    """A subclass of the reporter ``base`` that also writes each task's outcome to ``events``."""

    def emit(record: dict[str, Any]) -> None:
        events.write(json.dumps(record) + "\n")
        events.flush()

    def task_record(task: Any, outcome: str, **extra: Any) -> dict[str, Any]:
        return {"event": "task", "task": task.name, "outcome": outcome, "targets": list(task.targets), **extra}

    class JobReporter(base):  # type: ignore[misc, valid-type]
        def initialize(self, tasks: dict[str, Any], selected_tasks: list[str]) -> None:
            super().initialize(tasks, selected_tasks)
            emit({"event": "start", "tasks": reachable(tasks, selected_tasks)})

        def execute_task(self, task: Any) -> None:
            super().execute_task(task)
            if task.actions:
                emit({"event": "running", "task": task.name})

        def add_success(self, task: Any) -> None:
            super().add_success(task)
            if task.actions:
                emit(task_record(task, (task.values or {}).get("outcome", "ran")))

        def add_failure(self, task: Any, fail: Any) -> None:
            super().add_failure(task, fail)
            message = fail.get_msg().strip() if hasattr(fail, "get_msg") else str(fail)
            blocked = type(fail).__name__ == "UnmetDependency"
            if task.actions or not blocked:
                emit(task_record(task, "blocked" if blocked else "failed", message=message))

        def skip_uptodate(self, task: Any) -> None:
            super().skip_uptodate(task)
            if task.actions:
                emit(task_record(task, "uptodate"))

        def complete_run(self) -> None:
            super().complete_run()
            emit({"event": "end"})

    return JobReporter


def main(argv: list[str] | None = None) -> int:
    """Run doit on ./dodo.py for ``tasks``, with progress events on ``--events-fd``."""
    parser = argparse.ArgumentParser(prog="python -m storybuild.serve.build")
    parser.add_argument("--events-fd", type=int, required=True)
    parser.add_argument("tasks", nargs="+")
    args = parser.parse_args(argv)
    events = os.fdopen(args.events_fd, "w", buffering=1, encoding="utf-8")
    sys.path.insert(0, os.getcwd())
    namespace = runpy.run_path("dodo.py", run_name="dodo")
    config = dict(namespace.get("DOIT_CONFIG", {}))
    base = config.get("reporter")
    if not isinstance(base, type):
        from ..progress import StoryReporter

        base = StoryReporter
    config["reporter"] = job_reporter(base, events)
    namespace["DOIT_CONFIG"] = config
    return DoitMain(ModuleTaskLoader(namespace)).run(args.tasks)


if __name__ == "__main__":
    sys.exit(main())
