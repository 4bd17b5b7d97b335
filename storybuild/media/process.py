"""Running a child process that cannot outlive its deadline or the build.

A hung encoder must not hang the build, and a stopped build must not leave encoders running. The
child starts in its own process group (session), so one signal reaches everything it started;
the group is killed on timeout, when the stop flag is set, and on any exception in the waiting
thread (KeyboardInterrupt in the main thread). doit runs tasks in worker threads, where no
KeyboardInterrupt arrives, so the wait polls ``stop_requested`` every ``_POLL`` seconds.
Output goes to temporary files rather than pipes: a child that prints a lot while we only poll
could otherwise block on a full pipe and look hung.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from ..stopping import Stopped, stop_requested

__all__ = ["run_supervised"]

# A stop is noticed within this many seconds; cheap, since a wait with a timeout sleeps in the kernel.
_POLL = 0.2


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the child and everything in its group, then reap the child.

    Only while the child is unreaped: its pid (the group id) cannot have been reused yet, so
    the signal cannot reach some other process group.
    """
    if process.returncode is not None:
        return
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - no process groups (Windows)
            process.kill()
    except ProcessLookupError:
        pass
    process.wait()


def run_supervised(
    command: Sequence[str], *, timeout: float, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``command`` to completion and return its exit code, stdout and stderr.

    Raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds and ``Stopped`` when the build
    is asked to stop, in both cases after killing the child's whole process group; OSError if
    it cannot be started.
    """
    if stop_requested.is_set():
        raise Stopped(f"not starting {Path(command[0]).name}: the build is stopping")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            list(command), stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd,
            start_new_session=hasattr(os, "killpg"),
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                try:
                    process.wait(timeout=max(0.0, min(_POLL, left)))
                    break
                except subprocess.TimeoutExpired:
                    if stop_requested.is_set():
                        _kill_group(process)
                        raise Stopped(f"stopped {Path(command[0]).name}: the build is stopping") from None
                    if left <= 0:
                        _kill_group(process)
                        err.seek(0)
                        raise subprocess.TimeoutExpired(list(command), timeout, stderr=err.read()) from None
        except BaseException:
            _kill_group(process)
            raise
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(list(command), process.returncode, out.read(), err.read())
