"""What a running task tells the backend serving it, beside the request: the job's context.

Embedded backends need none of it. Remote ones do: a ComfyUI backend records its prompt_id under
the artifact's cache key before submitting (so a restarted build re-attaches instead of paying for
the GPU twice), reports progress to the build display, and names the stage and item in errors.
``artifact.run`` sets the context for the duration of one task; doit runs each task in one
thread, and a ``ContextVar`` keeps parallel tasks apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["JobContext", "current_job", "job_context"]


def _ignore(message: str) -> None:
    return None


@dataclass(frozen=True)
class JobContext:
    """One task's identity and channels, as a backend sees them.

    ``key`` is the artifact's cache key: stable across restarts, so it can name durable job
    records. ``state_dir`` is where such records live. ``progress`` takes a short status such as
    ``"comfyui@gpu1 KSampler 12/30 41s"`` for the live display; it must be cheap and never raise.
    """

    stage: str
    item: str
    key: str
    state_dir: Path
    progress: Callable[[str], None] = field(default=_ignore)
    # The artifact cache, for a backend that keeps parts of its work (kenburns' chunks); or None.
    cache: Any = None


_current: ContextVar[JobContext | None] = ContextVar("storybuild_job", default=None)


def current_job() -> JobContext | None:
    """The context of the task running in this thread, or None outside a build task."""
    return _current.get()


@contextmanager
def job_context(context: JobContext) -> Iterator[JobContext]:
    """Make ``context`` current for the body of the ``with``."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
