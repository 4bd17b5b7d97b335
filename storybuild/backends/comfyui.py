"""What every ComfyUI backend shares: workflows, preflight, resume-safe jobs, takes and conforming.

A job's life: fill the workflow (quality preset applied), upload its inputs, record the chosen
prompt_id under the artifact's cache key in ``<state_dir>/jobs.sqlite3`` *before* submitting,
run it through the client (which re-attaches to a job the server already has), download the
result beside the target, conform it to the request, check it, and only then rename it over the
target. A take that fails its check is tried again with a seed derived from the recipe seed and
the take number, up to ``takes`` times. So a build killed with ``kill -9`` while ComfyUI works
finds its job again on restart, and no GPU minute is spent twice.
"""

from __future__ import annotations

import math
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import BackendError, BackendUnavailable, BadTake, StorybuildError, TransientError
from ..store.atomic import temp_path
from ..store.hashing import digest
from .base import Backend
from .context import current_job
from .workflow import FIELDS, Workflow, load_workflow

__all__ = ["ComfyUIBackend", "ComfyUIOptions", "QUALITY", "take_seed"]

#: quality -> (steps factor, size factor, frames factor). Draft makes a half-size picture in half
#: the steps (about an eighth of the GPU time) and conforms it up to the requested size.
QUALITY: dict[str, tuple[float, float, float]] = {
    "draft": (0.5, 0.5, 0.5),
    "standard": (1.0, 1.0, 1.0),
    "high": (1.5, 1.0, 1.0),
}
_OOM_WORDS = ("out of memory", "outofmemory", "cuda oom", "allocation on device")

_clients: dict[str, Any] = {}
_pools: dict[tuple[str, ...], Any] = {}
_stores: dict[Path, Any] = {}
_clients_lock = threading.RLock()


class ComfyUIOptions(BaseModel):
    """Options every ComfyUI backend takes; the workflow files' content enters the recipe too."""

    model_config = ConfigDict(extra="forbid")

    workflow: str | None = Field(None, description="template path, relative to the project or shipped")
    quality: Literal["draft", "standard", "high"] = "standard"
    takes: int = Field(3, ge=1, le=10, description="tries with new seeds before a bad output fails")
    negative: str = Field("", description="what the picture or sound must not have, where the map takes it")


def take_seed(seed: int, take: int) -> int:
    """The seed of take ``take``: the recipe's own first, then a stable function of (seed, take)."""
    if take == 0:
        return seed
    return int(digest(["take", seed, take])[:8], 16)


def client_for(url: str) -> Any:
    """One client per server URL for the whole process: one WebSocket, one connection pool."""
    from ..clients.comfyui import ComfyUIClient

    with _clients_lock:
        if url not in _clients:
            _clients[url] = ComfyUIClient(url)
        return _clients[url]


def pool_for(urls: list[str]) -> Any:
    """One pool per set of servers for the whole process, over the process's one client per URL."""
    from ..clients.pool import ComfyUIPool

    key = tuple(urls)
    with _clients_lock:
        if key not in _pools:
            _pools[key] = ComfyUIPool(list(urls), client=client_for)
        return _pools[key]


def job_store(path: Path) -> Any:
    """One job store per state folder for the whole process (it keeps its connection open)."""
    from ..store.jobs import JobStore

    with _clients_lock:
        if path not in _stores:
            _stores[path] = JobStore(path)
        return _stores[path]


class ComfyUIBackend(Backend):
    """Base of the ComfyUI backends: subclasses name their workflows and turn requests into values."""

    capability: ClassVar[str]
    Options: ClassVar[type[BaseModel]] = ComfyUIOptions

    def __init__(self, options: Any = None, *, servers: Any = None) -> None:
        super().__init__(options, servers=servers)
        self._ready_lock = threading.Lock()
        self._problems: list[str] | None = None

    # -- identity -----------------------------------------------------------------------------

    @classmethod
    def workflow_specs(cls, options: Any) -> dict[str, str]:
        """Role -> workflow path this backend uses with ``options`` (validated)."""
        raise NotImplementedError

    @classmethod
    def recipe(cls, options: dict[str, Any], servers: Any = None) -> dict[str, Any]:
        """Name, version, options, and the identity of every workflow template + map it uses."""
        base = super().recipe(options, servers)
        validated = cls.Options.model_validate(options)
        base["workflow"] = {role: load_workflow(spec).identity for role, spec in cls.workflow_specs(validated).items()}
        return base

    def workflow(self, role: str) -> Workflow:
        """The loaded workflow for ``role`` (loads are cached by file and mtime)."""
        return load_workflow(self.workflow_specs(self.options)[role])

    # -- servers ------------------------------------------------------------------------------

    @property
    def urls(self) -> list[str]:
        """The ComfyUI servers to use, from the connection settings (never from the recipe)."""
        servers = self.servers
        if servers is None:  # a backend made outside a build (a script, the REPL): the defaults
            from ..config import ServerSettings

            servers = ServerSettings()
        url = servers.comfyui_url
        return [u.rstrip("/") for u in ([url] if isinstance(url, str) else url)]

    @property
    def timeout(self) -> float:
        """Seconds one job of this capability may take before it is interrupted."""
        return float(self.servers.comfyui_timeouts.get(self.capability, 900.0)) if self.servers else 900.0

    def check(self) -> list[str]:
        """What stops a build: each server unreachable, or missing a node class or model file."""
        problems: list[str] = []
        try:
            workflows = {role: self.workflow(role) for role in self.workflow_specs(self.options)}
        except StorybuildError as exc:  # a ConfigError naming the workflow file
            return [str(exc)]
        for url in self.urls:
            client = client_for(url)
            try:
                client.system_stats()
                info = client.object_info()
            except BackendError as exc:
                problems.append(str(exc))
                continue
            for workflow in workflows.values():
                problems.extend(workflow.problems(info, url))
        return problems

    def notes(self) -> list[str]:
        """Request fields each workflow's map routes nowhere: not errors, but worth knowing."""
        found = []
        for role, spec in self.workflow_specs(self.options).items():
            ignored = load_workflow(spec).ignored(self.fields(role))
            if ignored:
                found.append(f"{spec}: the map ignores {', '.join(ignored)}")
        return found

    def fields(self, role: str) -> tuple[str, ...]:
        """The request fields this backend sends to the ``role`` workflow."""
        return FIELDS

    def ensure_ready(self) -> None:
        """Run the preflight once per backend instance, before its first job; fail every job if it fails.

        A passing preflight also says which request fields a workflow's map leaves out.
        """
        with self._ready_lock:
            if self._problems is None:
                self._problems = self.check()
                if not self._problems:
                    from ..progress import warn

                    for note in self.notes():
                        warn(f"ComfyUI {self.capability}: {note}")
        if self._problems:
            raise BackendUnavailable(
                f"ComfyUI preflight for {self.capability} failed:\n  " + "\n  ".join(self._problems),
                service=", ".join(self.urls),
            )

    # -- values -------------------------------------------------------------------------------

    def preset(self, workflow: Workflow, width: int | None = None, height: int | None = None,
               frames: int | None = None) -> dict[str, Any]:
        """Steps, generation size and frame count after the quality preset and the map's multiples."""
        steps_factor, size_factor, frames_factor = QUALITY[self.options.quality]
        values: dict[str, Any] = {}
        if workflow.has("steps"):
            node_id, name = workflow.targets["steps"][0]
            default = workflow.template[node_id]["inputs"][name]
            if isinstance(default, int):
                values["steps"] = max(1, round(default * steps_factor))
        multiple = int(workflow.setting("size_multiple", 8))
        if width is not None and height is not None:
            values["width"] = max(multiple, round(width * size_factor / multiple) * multiple)
            values["height"] = max(multiple, round(height * size_factor / multiple) * multiple)
        if frames is not None:
            wanted = max(1, math.ceil(frames * frames_factor))
            step = int(workflow.setting("frames_multiple", 1))
            values["frames"] = wanted if step <= 1 else -(-(wanted - 1) // step) * step + 1
        return values

    # -- jobs ---------------------------------------------------------------------------------

    def produce(
        self, workflow: Workflow, values: dict[str, Any], uploads: dict[str, Path], job: str, out: Path,
        conform: Callable[[Path, Path], None], check: Callable[[Path], Any],
    ) -> None:
        """Make ``out``: run takes until one conforms and passes ``check``; never write a bad ``out``."""
        self.ensure_ready()
        out = Path(out)
        names: list[str] = []
        last: BadTake | None = None
        # One task may make several results (implied cues): each job is named by what it asks for.
        # Upload paths are temp names; their content is in the artifact's key already.
        asked = digest([workflow.identity, values])[:16]
        try:
            for take in range(self.options.takes):
                name = f"{job}/{asked}/take{take}"
                names.append(name)
                attempt = dict(values)
                if "seed" in attempt:
                    attempt["seed"] = take_seed(int(values["seed"]), take)
                downloaded = self._run(workflow, attempt, uploads, name, out)
                staged = temp_path(out)
                try:
                    conform(downloaded, staged)
                    check(staged)
                    os.replace(staged, out)
                    self._forget(names)
                    return
                except BadTake as exc:
                    last = exc
                    self._progress(f"take {take + 1}/{self.options.takes} rejected: {exc}")
                finally:
                    downloaded.unlink(missing_ok=True)
                    staged.unlink(missing_ok=True)
        except TransientError:
            raise  # the server may still be working on it: the next build re-attaches
        except Exception:
            self._forget(names)  # a failed job (or an output that would not conform) runs again next time
            raise
        self._forget(names)
        raise BadTake(
            f"{workflow.path}: all {self.options.takes} takes failed their check; the last: {last}. "
            "Reroll with `storybuild reroll`, change the prompt, or raise `takes`",
            file=workflow.path,
        ) from last

    def _run(self, workflow: Workflow, values: dict[str, Any], uploads: dict[str, Path], name: str,
             out: Path) -> Path:
        """Run one job on the pool (re-attaching to a recorded one); download its result beside ``out``."""
        from ..clients.comfyui import output_files
        from ..services import services

        context = current_job()
        store, key = self._store(), (f"{context.key}/{name}" if context else None)
        recorded = store.lookup(key) if store else None
        prompt_id = recorded[1] if recorded else uuid.uuid4().hex
        pool = pool_for(self.urls)
        services.ensure("comfyui")

        def prepare(client: Any) -> dict:
            filled = dict(values)
            for field, path in uploads.items():
                filled[field] = client.upload(path)
            return workflow.fill(filled, prefix=f"storybuild/{prompt_id}")

        def record(url: str) -> None:
            if store is not None:
                store.record(key, url, prompt_id)

        sink = self._progress_sink()
        on_progress = sink
        if sink is not None and len(pool.servers) > 1:
            on_progress = lambda text: sink(f"{text}  [{pool.load()}]")  # noqa: E731
        url = recorded[0] if recorded else (pool.servers[0].url if pool.servers else "")
        try:
            url, outputs = pool.run(prepare, prompt_id, timeout=self.timeout, on_progress=on_progress,
                                    record=record, resume_on=recorded[0] if recorded else None)
            files = output_files(outputs, workflow.output)
            if not files:
                raise BackendError(f"node {workflow.output} returned no file")
            ref = files[0]
            # A temp name the orphan sweep recognises, should this process be killed mid-download.
            dest = temp_path(out.with_suffix(Path(ref["filename"]).suffix))
            pool.server(url).client.download(ref, dest)
            return dest
        except BackendError as exc:
            raise self._located(exc, workflow, url) from exc

    @staticmethod
    def _located(exc: BackendError, workflow: Workflow, url: str) -> BackendError:
        """``exc`` restated with the workflow file and server, and what to do about out-of-memory."""
        message = f"{workflow.path} on ComfyUI at {url}: {exc}"
        if any(word in str(exc).lower() for word in _OOM_WORDS):
            message += "; the GPU ran out of memory: set quality = \"draft\" for this capability or free the GPU"
        kind = type(exc) if type(exc) in (BackendError, BackendUnavailable, TransientError) else BackendError
        return kind(message, file=workflow.path, service=url)

    def _store(self) -> Any:
        context = current_job()
        if context is None:
            return None
        return job_store(Path(context.state_dir) / "jobs.sqlite3")

    def _forget(self, names: list[str]) -> None:
        context, store = current_job(), self._store()
        if store is None:
            return
        for name in names:
            store.finish(f"{context.key}/{name}")

    def _progress_sink(self) -> Callable[[str], None] | None:
        context = current_job()
        return context.progress if context else None

    def _progress(self, text: str) -> None:
        sink = self._progress_sink()
        if sink is not None:
            sink(text)

