"""A ComfyUI client: submit a workflow, follow it, fetch what it made. Protocol only.

It knows nothing of stories or recipes. What it guarantees the backends on top of it: a job is
submitted once per prompt_id unless the server lost it (``run`` looks in /history and /queue
first, so a restarted build re-attaches); a dropped WebSocket falls back to polling /history; a
job running longer than its timeout (queue time does not count) or a build that is stopping
interrupts its work on the server; every error names the server URL. For a prompt_id just made,
``submit`` then ``wait`` skips run's two looks; submitting the next job before waiting on this
one keeps the server's queue fed (bench/comfyui_overhead.py: idle gap 0 ms instead of ~3-10 ms).
The prompt_id is chosen by the caller, so messages that arrive before the POST reply are already
routed (see ``comfyui_ws``). One client is safe to share between threads.
"""

from __future__ import annotations

import math
import queue
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx

from storybuild.clients.comfyui_http import TRIES, ServerHTTP
from storybuild.clients.comfyui_messages import (
    ExecutionFailed, Progress, WorkflowRejected, failure, output_files, rejection,
)
from storybuild.clients.comfyui_ws import DROPPED, EventStream
from storybuild.errors import BackendError, BackendUnavailable, TransientError
from storybuild.stopping import Stopped, stop_requested
from storybuild.store.atomic import atomic_output

__all__ = ["ComfyUIClient", "ExecutionFailed", "WorkflowRejected", "output_files"]

# How often a waiter checks /history while its socket is down (doubling up to the max), and how
# often while it is up (a safety net for a lost message).
_POLL_FIRST, _POLL_MAX, _CHECK_LIVE = 0.05, 1.0, 10.0
# How often a waiter wakes to look at the stop flag.
_STOP_POLL = 0.1
# A waiter gives up when the server has not answered for this long (a restart takes seconds).
_UNREACHABLE_GRACE = 30.0
# Messages that say a job has left the queue and is running.
_STARTED = frozenset({"execution_start", "execution_cached", "executing", "progress"})
_START_HINT = "start ComfyUI (python main.py --listen) or set servers.comfyui_url / COMFYUI_BASE_URL"


class _Lost(Exception):
    """The server knows nothing of the prompt: it was restarted (history and queue live in memory)."""


class ComfyUIClient:
    """One ComfyUI server, one clientId, one WebSocket shared by every job of this client."""

    def __init__(self, base_url: str, *, http: httpx.Client | None = None, timeout: float = 30.0,
                 client_id: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id or uuid.uuid4().hex
        parts = urlsplit(self.base_url)
        self.host = parts.netloc
        self._http = ServerHTTP(self.base_url, http or httpx.Client(timeout=timeout))
        self._owns_http = http is None
        scheme = "wss" if parts.scheme == "https" else "ws"
        self._events = EventStream(f"{scheme}://{parts.netloc}{parts.path}/ws?clientId={self.client_id}",
                                   open_timeout=min(timeout, 10.0))
        self._lock = threading.Lock()
        self._object_info: dict | None = None
        self._classes: dict[str, dict[str, str]] = {}
        self._active: set[str] = set()

    # -- server state -------------------------------------------------------------------------

    def system_stats(self) -> dict:
        """The server's versions and devices; the health check."""
        try:
            return self._http.json("GET", "/system_stats", tries=2)
        except TransientError as exc:
            raise BackendUnavailable(f"ComfyUI is not reachable at {self.base_url}: {_START_HINT}",
                                     service=self.base_url) from exc

    def object_info(self) -> dict:
        """Every node class the server has, with its inputs (model lists included); fetched once."""
        if self._object_info is None:
            self._object_info = self._http.json("GET", "/object_info")
        return self._object_info

    def queue_remaining(self) -> int:
        """How many prompts are running or waiting on the server."""
        return int(self._http.json("GET", "/prompt").get("exec_info", {}).get("queue_remaining", 0))

    def free(self, *, unload_models: bool = True) -> None:
        """Release GPU memory (before handing the GPU to another server)."""
        self._http.json("POST", "/free", json={"unload_models": unload_models, "free_memory": True})

    # -- files --------------------------------------------------------------------------------

    def upload(self, path: Path, *, subfolder: str = "storybuild", kind: str = "input") -> str:
        """Upload a file for LoadImage/LoadAudio; the name to use, as the server chose it."""
        path = Path(path)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise BackendError(f"{path}: cannot read the file to upload to ComfyUI at {self.base_url}: {exc}",
                               file=path, service=self.base_url) from exc
        answer = self._http.json("POST", "/upload/image", files={"image": (path.name, content)},
                            data={"subfolder": subfolder, "type": kind})
        name, folder = answer.get("name", path.name), answer.get("subfolder", "")
        return f"{folder}/{name}" if folder else name

    def download(self, file_ref: dict, dest: Path) -> None:
        """Fetch an output file to ``dest``, streamed into a temp file that is renamed when complete."""
        params = {"filename": file_ref["filename"], "subfolder": file_ref.get("subfolder", ""),
                  "type": file_ref.get("type", "output")}
        shown = "/".join(part for part in (params["subfolder"], params["filename"]) if part)
        what = f"GET /view for {params['type']} file {shown}"

        def fetch() -> None:
            with atomic_output(dest) as tmp, self._http.stream("/view", what, params) as answer:
                with open(tmp, "wb") as out:
                    for chunk in answer.iter_bytes(1 << 20):
                        out.write(chunk)

        try:
            self._http.retrying(what, fetch)
        except OSError as exc:
            raise BackendError(f"{dest}: cannot write ComfyUI output {params['filename']} from {self.base_url}: {exc}",
                               file=dest, service=self.base_url) from exc

    # -- jobs ---------------------------------------------------------------------------------

    def submit(self, prompt: dict, prompt_id: str) -> None:
        """Queue ``prompt`` under our clientId and ``prompt_id``; a 400 raises WorkflowRejected."""
        self._remember(prompt_id, prompt)
        self._events.connect()  # before the POST: ComfyUI sends a prompt's messages to its client's socket
        self._events.subscribe(prompt_id)
        with self._lock:
            self._active.add(prompt_id)
        try:
            self._post_prompt({"prompt": prompt, "client_id": self.client_id, "prompt_id": prompt_id})
        except BaseException:
            self._forget(prompt_id)
            raise

    def _post_prompt(self, body: dict) -> None:
        for attempt in range(TRIES):
            try:
                answer = self._http.request("POST", "/prompt", tries=1, json=body)
                break
            except TransientError:
                if attempt + 1 == TRIES:
                    raise
                self._http.pause(attempt)
                if self._known(body["prompt_id"]):  # it arrived before the connection broke: never queue it twice
                    return
        if answer.status_code == 400:
            raise rejection(self.base_url, self._http.body(answer))
        self._http.check(answer, "POST /prompt", answer.content)

    def find(self, prompt_id: str) -> Literal["done", "running", "pending", "unknown"]:
        """Where the server has ``prompt_id``: finished (in history), running, waiting, or nowhere."""
        try:
            return self._check(prompt_id)[0]
        except _Lost:
            return "unknown"

    def run(self, prompt: dict, prompt_id: str, *, timeout: float,
            on_progress: Callable[[str], None] | None = None) -> dict:
        """Outputs of ``prompt`` run as ``prompt_id``: re-attached if the server has it, else submitted."""
        self._remember(prompt_id, prompt)
        try:
            state, entry = self._check(prompt_id)
        except _Lost:
            state, entry = "unknown", None
        if entry is not None:
            return self._outputs(prompt_id, entry)
        if state == "unknown":
            self.submit(prompt, prompt_id)
        try:
            return self._wait(prompt_id, timeout, on_progress)
        except _Lost:
            self.submit(prompt, prompt_id)  # the server was restarted and forgot it: once more
        return self.wait(prompt_id, timeout=timeout, on_progress=on_progress)

    def wait(self, prompt_id: str, *, timeout: float, on_progress: Callable[[str], None] | None = None) -> dict:
        """The outputs of ``prompt_id`` once it has run; raises if it failed, timed out or was lost."""
        try:
            return self._wait(prompt_id, timeout, on_progress)
        except _Lost:
            raise TransientError(f"ComfyUI at {self.base_url} no longer knows job {prompt_id} "
                                 "(was it restarted?); submit it again", service=self.base_url) from None

    def interrupt(self, prompt_id: str) -> None:
        """Stop ``prompt_id`` if it is the one running now."""
        self._http.json("POST", "/interrupt", json={"prompt_id": prompt_id})

    def delete_pending(self, prompt_ids: list[str]) -> None:
        """Take waiting prompts off the queue (running ones are not affected)."""
        if prompt_ids:
            self._http.json("POST", "/queue", json={"delete": list(prompt_ids)})

    def close(self) -> None:
        """Close the WebSocket and, if this client made it, the HTTP connection pool."""
        self._events.close()
        if self._owns_http:
            self._http.http.close()

    # -- waiting ------------------------------------------------------------------------------

    def _wait(self, prompt_id: str, timeout: float, on_progress: Callable[[str], None] | None) -> dict:
        box = self._events.subscribe(prompt_id)
        with self._lock:
            # A job another client submitted (a killed build's) sends its messages to that client's
            # socket, never to ours: follow it by polling.
            own = prompt_id in self._active
            classes = self._classes.get(prompt_id, {})
        progress = Progress(self.host, classes, on_progress)
        # The timeout is for running: a job queued behind others' long jobs is not late.
        deadline = math.inf
        poll = _POLL_FIRST
        check_at = time.monotonic() + (_CHECK_LIVE if own and self._events.connect() else 0.0)
        unreachable_since: float | None = None
        try:
            while True:
                if stop_requested.is_set():
                    self._stop(prompt_id)
                now = time.monotonic()
                if now >= deadline:
                    self._time_out(prompt_id, timeout)
                if now >= check_at:
                    opened = self._events.opened
                    try:
                        state, entry = self._check(prompt_id)
                        unreachable_since = None
                    except TransientError:
                        unreachable_since = unreachable_since or now
                        if now - unreachable_since > _UNREACHABLE_GRACE:
                            raise
                        state, entry = "unreachable", None
                    if entry is not None:
                        return self._outputs(prompt_id, entry)
                    if state == "running" and deadline == math.inf:
                        deadline = now + timeout
                    elif state == "pending":
                        progress.queued()
                    if own and self._events.connect():
                        # A socket opened after this look missed what came before it: look once more.
                        fresh = self._events.opened != opened
                        check_at, poll = (now if fresh else now + _CHECK_LIVE), _POLL_FIRST
                    else:
                        check_at, poll = now + poll, min(poll * 2, _POLL_MAX)
                try:
                    kind, data = box.get(timeout=max(0.0, min(_STOP_POLL, deadline - now, check_at - now)))
                except queue.Empty:
                    continue
                if kind in _STARTED and deadline == math.inf:
                    deadline = time.monotonic() + timeout
                if kind == DROPPED[0]:
                    check_at = time.monotonic()
                elif kind == "executing" and data.get("node") is None:
                    check_at = time.monotonic()  # sent after the history entry is stored
                elif kind == "executing":
                    progress.executing(str(data["node"]))
                elif kind == "progress":
                    progress.step(data.get("node"), data.get("value"), data.get("max"))
                elif kind == "execution_error":
                    raise failure(self.base_url, prompt_id, data)
                elif kind == "execution_interrupted":
                    raise self._interrupted(prompt_id, data)
        finally:
            self._forget(prompt_id)

    def _forget(self, prompt_id: str) -> None:
        """Stop tracking ``prompt_id``: it finished, failed, or was never queued."""
        self._events.unsubscribe(prompt_id)
        with self._lock:
            self._active.discard(prompt_id)
            self._classes.pop(prompt_id, None)

    def _check(self, prompt_id: str) -> tuple[str, dict | None]:
        """("done", history entry), ("running" | "pending", None); _Lost if the server has no trace of it."""
        entry = self._history(prompt_id)
        if entry is not None:
            return "done", entry
        state = self._queue_state(prompt_id)
        if state is not None:
            return state, None
        entry = self._history(prompt_id)  # it may have finished between the two looks
        if entry is None:
            raise _Lost(prompt_id)
        return "done", entry

    def _outputs(self, prompt_id: str, entry: dict) -> dict:
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            for event, data in status.get("messages") or ():
                if event == "execution_error":
                    raise failure(self.base_url, prompt_id, data)
                if event == "execution_interrupted":
                    raise self._interrupted(prompt_id, data)
            raise BackendError(f"ComfyUI at {self.base_url}: job {prompt_id} failed", service=self.base_url)
        return entry.get("outputs") or {}

    def _interrupted(self, prompt_id: str, data: dict) -> BackendError:
        return BackendError(f"ComfyUI at {self.base_url}: job {prompt_id} was interrupted on the server "
                            f"at node {data.get('node_id')} ({data.get('node_type')})", service=self.base_url)

    def _time_out(self, prompt_id: str, timeout: float) -> None:
        self._cancel([prompt_id])
        raise BackendError(f"ComfyUI at {self.base_url}: job {prompt_id} timed out after {timeout:g} s and was "
                           "interrupted; raise servers.comfyui_timeouts for this stage or choose a lighter "
                           "quality", service=self.base_url)

    def _stop(self, prompt_id: str) -> None:
        with self._lock:
            mine = sorted(self._active)
        self._cancel([prompt_id, *(p for p in mine if p != prompt_id)])
        raise Stopped(f"stopped waiting for ComfyUI job {prompt_id} at {self.base_url}")

    def _cancel(self, prompt_ids: list[str]) -> None:
        """Interrupt the first prompt and take them all off the queue; best effort, the server may be gone."""
        try:
            self.interrupt(prompt_ids[0])
            self.delete_pending(prompt_ids)
        except BackendError:
            pass

    # -- HTTP ---------------------------------------------------------------------------------

    def _remember(self, prompt_id: str, prompt: dict) -> None:
        classes = {str(node): spec.get("class_type", "?") for node, spec in prompt.items() if isinstance(spec, dict)}
        with self._lock:
            self._classes[prompt_id] = classes

    def _history(self, prompt_id: str) -> dict | None:
        return self._http.json("GET", f"/history/{prompt_id}").get(prompt_id)

    def _queue_state(self, prompt_id: str) -> Literal["running", "pending"] | None:
        snapshot = self._http.json("GET", "/queue")
        for state, key in (("running", "queue_running"), ("pending", "queue_pending")):
            if any(len(item) > 1 and item[1] == prompt_id for item in snapshot.get(key) or ()):
                return state
        return None

    def _known(self, prompt_id: str) -> bool:
        try:
            return self.find(prompt_id) != "unknown"
        except TransientError:
            return False
