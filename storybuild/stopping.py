"""The build's stop flag: set on Ctrl-C or SIGTERM, read by work that runs outside doit's thread.

doit runs tasks in worker threads (``par_type: thread``), and Python delivers signals to the main
thread only. A KeyboardInterrupt there does not stop an ffmpeg child or a ComfyUI job waited on
in a worker. So long waits poll ``stop_requested`` (an Event, cheap to check) and, when it is set,
kill their process group or interrupt their remote job, then raise ``Stopped``.
"""

from __future__ import annotations

import threading

__all__ = ["Stopped", "request_stop", "stop_requested"]

#: Set once the build has been asked to stop; never cleared within a process.
stop_requested = threading.Event()


class Stopped(KeyboardInterrupt):
    """Raised by a wait that gave up because the build is stopping."""


def request_stop() -> None:
    """Ask every long wait in this process to give up."""
    stop_requested.set()
