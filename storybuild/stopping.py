"""The build's stop flag: set on Ctrl-C or SIGTERM, read by work that runs outside doit's thread.

doit runs tasks in worker threads (``par_type: thread``), and Python delivers signals to the main
thread only. A KeyboardInterrupt there does not stop an ffmpeg child or a ComfyUI job waited on
in a worker. So long waits poll ``stop_requested`` (an Event, cheap to check) and, when it is set,
kill their process group or interrupt their remote job, then raise ``Stopped``.

``install_signal_handlers`` is called once, by ``doit_config()``, the one place that starts a
build: nothing installs handlers on import or from a constructor.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

__all__ = ["Stopped", "install_signal_handlers", "request_stop", "stop_requested"]

#: Set once the build has been asked to stop; never cleared within a process.
stop_requested = threading.Event()


class Stopped(KeyboardInterrupt):
    """Raised by a wait that gave up because the build is stopping."""


def request_stop() -> None:
    """Ask every long wait in this process to give up."""
    stop_requested.set()


def install_signal_handlers() -> None:
    """Ctrl-C and SIGTERM set ``stop_requested`` and stop doit's main thread with KeyboardInterrupt.

    SIGTERM so stops doit as Ctrl-C does: it saves state and tears down instead of dying mid-write.
    A second SIGTERM kills at once, should the orderly stop itself hang (state is committed per
    task). Handlers someone else installed are theirs and left alone; only the main thread may set
    handlers, so elsewhere this does nothing.
    """
    global _fork_hook
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_signal)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_signal)
    if not _fork_hook:
        # `-P process` workers are forked from doit and stopped by it with SIGTERM: they must die
        # of it. With the handler inherited they can miss it (a signal taken by a thread of theirs
        # never reaches a main thread blocked on its job queue) and doit waits forever (1 in 11).
        os.register_at_fork(after_in_child=_default_sigterm_in_child)
        _fork_hook = True


_fork_hook = False


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Ask every wait to give up, and raise KeyboardInterrupt in the main thread once it is safe to."""
    stop_requested.set()
    if frame is not None and frame.f_code in _NOT_INTERRUPTIBLE:
        # Raised inside Condition.notify, the interrupt leaves a released waiter registered, and a
        # multiprocessing queue then hangs the exit for good (seen in 1 stop of 14 with `-n 1`).
        # Ask again in a moment, when the main thread has left it.
        main = threading.main_thread().ident
        threading.Timer(0.001, signal.pthread_kill, (main, signum)).start()
        return
    if signum == signal.SIGTERM:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt


def _default_sigterm_in_child() -> None:
    """In a process forked from doit, give SIGTERM back its default: death."""
    if signal.getsignal(signal.SIGTERM) is _on_signal:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


_NOT_INTERRUPTIBLE = frozenset({threading.Condition.notify.__code__, threading.Condition.notify_all.__code__})
