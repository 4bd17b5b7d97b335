"""A pool of ComfyUI servers: every GPU busy, none idle between jobs, none waited on when it dies.

Each server gets at most ``slots`` jobs of this build at once (default 2: one running, one queued
behind it, so the GPU starts the next job the moment one ends, without waiting for our next
submission). A job takes a slot on the live server with the shortest queue of ours (then the one
that has done the least), so ``doit -n 8`` over two servers keeps four jobs waiting
for a slot rather than piling them on one queue. A server that stops answering is set aside: its
jobs fail over to the others, each at most once, and it is asked again after ``probe_after``
seconds, rejoining when it answers. There is no scheduler process: the pool lives in the build.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import BackendUnavailable, TransientError
from ..stopping import Stopped, stop_requested
from .comfyui import ComfyUIClient

__all__ = ["ComfyUIPool"]


@dataclass
class _Server:
    url: str
    client: ComfyUIClient
    jobs: int = 0
    done: int = 0
    down_until: float = 0.0
    last_error: str = ""
    order: int = field(default=0)

    def live(self, now: float) -> bool:
        return self.down_until <= now


class ComfyUIPool:
    """Jobs over several ComfyUI servers; ``run`` blocks until a slot is free."""

    def __init__(
        self,
        urls: list[str],
        *,
        slots: int = 2,
        probe_after: float = 30.0,
        client: Callable[[str], ComfyUIClient] = ComfyUIClient,
    ) -> None:
        if not urls:
            raise BackendUnavailable("no ComfyUI server configured: set servers.comfyui_url")
        self.slots, self.probe_after = slots, probe_after
        self.servers = [_Server(url.rstrip("/"), client(url.rstrip("/")), order=i) for i, url in enumerate(urls)]
        self._changed = threading.Condition()

    def server(self, url: str) -> _Server | None:
        """The pool's entry for ``url``, if it is one of its servers."""
        return next((s for s in self.servers if s.url == url.rstrip("/")), None)

    def run(
        self,
        prompt: dict | Callable[[ComfyUIClient], dict],
        prompt_id: str,
        *,
        timeout: float,
        on_progress: Callable[[str], None] | None = None,
        record: Callable[[str], None] | None = None,
        resume_on: str | None = None,
    ) -> tuple[str, dict]:
        """Run ``prompt`` on some server; the server's URL and the history outputs.

        ``prompt`` may be a function of the chosen server's client (it uploads the job's inputs
        there and fills the workflow with the names the server gave them). ``record(url)`` is
        called before anything is submitted to ``url``, so a crash can find the job again;
        ``resume_on`` is a URL an earlier run of this job recorded, tried first so a restarted
        build re-attaches instead of submitting again.
        """
        failed_over = False
        preferred = self.server(resume_on) if resume_on else None
        while True:
            server = self._acquire(preferred)
            resuming, preferred = server is preferred, None
            try:
                filled = prompt(server.client) if callable(prompt) else prompt
                if record is not None and not resuming:
                    record(server.url)
                outputs = server.client.run(filled, prompt_id, timeout=timeout, on_progress=on_progress)
            except (TransientError, BackendUnavailable) as exc:
                self._set_aside(server, exc)
                if failed_over or len(self.servers) == 1:
                    raise
                failed_over = True
                continue
            finally:
                self._release(server)
            server.done += 1
            return server.url, outputs

    def load(self) -> str:
        """Each server's jobs, for the progress display: ``gpu1:8188 2/2, gpu2:8188 down``."""
        now = time.monotonic()
        parts = []
        for server in self.servers:
            name = server.url.split("://", 1)[-1]
            parts.append(f"{name} {server.jobs}/{self.slots}" if server.live(now) else f"{name} down")
        return ", ".join(parts)

    # -- slots ----------------------------------------------------------------------------------
    def _acquire(self, preferred: _Server | None) -> _Server:
        """A slot: on ``preferred`` if it is live, else on the live server with the least work."""
        while True:
            with self._changed:
                chosen = self._pick(preferred)
                preferred = None
                if chosen is not None:
                    chosen.jobs += 1
            if chosen is None:
                continue
            if not chosen.last_error or self._answers(chosen):
                return chosen
            self._release(chosen)

    def _pick(self, preferred: _Server | None) -> _Server | None:
        """Called with the lock held; waits a little when every live server is full."""
        if stop_requested.is_set():
            raise Stopped("stopped while waiting for a ComfyUI slot")
        now = time.monotonic()
        if preferred is not None and preferred.live(now):
            return preferred  # an earlier run's job is already there: attach without waiting
        live = [s for s in self.servers if s.live(now)]
        if not live:
            reasons = "; ".join(f"{s.url}: {s.last_error}" for s in self.servers)
            raise BackendUnavailable(f"every ComfyUI server is down ({reasons})")
        free = [s for s in live if s.jobs < self.slots]
        if free:
            return min(free, key=lambda s: (s.jobs, s.done, s.order))
        self._changed.wait(timeout=0.2)
        return None

    def _answers(self, server: _Server) -> bool:
        """Whether a server set aside earlier answers again; it rejoins if so."""
        try:
            server.client.system_stats()
        except (TransientError, BackendUnavailable) as exc:
            self._set_aside(server, exc)
            return False
        server.last_error = ""
        return True

    def _release(self, server: _Server) -> None:
        with self._changed:
            server.jobs -= 1
            self._changed.notify_all()

    def _set_aside(self, server: _Server, exc: Exception) -> None:
        with self._changed:
            server.down_until = time.monotonic() + self.probe_after
            server.last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self._changed.notify_all()

    def close(self) -> None:
        """Close every client."""
        for server in self.servers:
            server.client.close()

