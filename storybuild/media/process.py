"""Running a child process that cannot outlive its deadline or the build.

A hung encoder must not hang the build, and a stopped build must not leave encoders running. The
child starts in its own process group (session), so one signal reaches everything it started;
the group is killed on timeout, when the stop flag is set, and on any exception in the waiting
thread (KeyboardInterrupt in the main thread). doit runs tasks in worker threads, where no
KeyboardInterrupt arrives, so the wait polls ``stop_requested`` every ``_POLL`` seconds.
Output goes to temporary files rather than pipes: a child that prints a lot while we only poll
could otherwise block on a full pipe and look hung.

A waiting process that dies without running any code (``kill -9``, or a ``-P process`` worker
ended by SIGTERM) cannot kill anything; on Linux the child is armed to receive SIGKILL when its
parent dies (``PR_SET_PDEATHSIG``), so even then no ffmpeg is left running for ever.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from ..stopping import Stopped, stop_requested

__all__ = ["run_supervised"]

# A stop is noticed within this many seconds; cheap, since a wait with a timeout sleeps in the kernel.
_POLL = 0.2


_PR_SET_PDEATHSIG = 1


@lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, bound before any fork (the child must not load libraries), or None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


def _dies_with(parent: int) -> Callable[[], None] | None:
    """A pre-exec hook that makes the child die with ``parent``; runs in the forked child."""
    prctl = _prctl()
    if prctl is None:
        return None

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the hook was armed
            os._exit(1)

    return arm


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
            start_new_session=hasattr(os, "killpg"), preexec_fn=_dies_with(os.getpid()),
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
