"""Services on demand: start ComfyUI or the language-model server when a build needs one.

Off by default. A ``[services.<name>]`` table gives the start command, its folder, a health URL
and how long start-up may take. The first job that needs a service that does not answer starts
it, waits for health, and the build stops what it started when it ends (also on Ctrl-C and
SIGTERM, which end the build normally). A service already answering is used as it is and never
stopped. Services that share one GPU (``gpu = true``) hand it over: before a job on one, the
others that were used since are asked to free their memory (ComfyUI ``POST /free``,
``lms unload --all``).
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from .errors import BackendUnavailable
from .stopping import Stopped, stop_requested

__all__ = ["ServiceSettings", "Services", "services"]


class ServiceSettings(BaseModel):
    """How to start, check and free one service."""

    model_config = ConfigDict(extra="forbid")

    command: list[str] = Field(description="argument list that starts the service")
    cwd: Path | None = Field(None, description="folder to start it in")
    health_url: str = Field(description="answers 2xx once the service is ready")
    startup_timeout: float = Field(180.0, gt=0, description="seconds to wait for health")
    gpu: bool = Field(False, description="shares the GPU with the other gpu services")
    free_url: str | None = Field(None, description="POSTed to release GPU memory, e.g. http://127.0.0.1:8188/free")
    free_command: list[str] | None = Field(None, description="run to release GPU memory, e.g. [lms, unload, --all]")


def _answers(url: str, timeout: float = 2.0) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=timeout).is_success
    except httpx.HTTPError:
        return False


class Services:
    """The services of one build process: which it started, which hold the GPU."""

    def __init__(self) -> None:
        self.settings: dict[str, ServiceSettings] = {}
        self.started: dict[str, subprocess.Popen] = {}
        self.used: set[str] = set()
        self._lock = threading.Lock()
        self._hooked = False

    def configure(self, settings: dict[str, ServiceSettings]) -> None:
        """Use ``settings`` (name -> how to run it) from now on."""
        self.settings = dict(settings)

    def ensure(self, name: str) -> None:
        """Make service ``name`` answer, starting it if configured; hand it the GPU if it needs it."""
        spec = self.settings.get(name)
        if spec is None:
            return
        with self._lock:
            if spec.gpu:
                for other in sorted(self.used - {name}):
                    if self.settings[other].gpu:
                        self._free(other)
            self.used.add(name)
            if _answers(spec.health_url):
                return
            if name not in self.started or self.started[name].poll() is not None:
                self._start(name, spec)
            self._wait_healthy(name, spec)

    def _start(self, name: str, spec: ServiceSettings) -> None:
        log = Path(os.environ.get("TMPDIR", "/tmp")) / f"storybuild-service-{name}-{os.getpid()}.log"
        try:
            handle = open(log, "wb")
            self.started[name] = subprocess.Popen(
                spec.command, cwd=spec.cwd, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with all its children
            )
        except OSError as exc:
            raise BackendUnavailable(f"service {name}: cannot start {spec.command[0]!r}: {exc.strerror}") from exc
        self.started[name].log = log  # type: ignore[attr-defined]
        if not self._hooked:
            atexit.register(self.stop_all)
            self._hooked = True

    def _wait_healthy(self, name: str, spec: ServiceSettings) -> None:
        process = self.started[name]
        deadline = time.monotonic() + spec.startup_timeout
        while time.monotonic() < deadline:
            if stop_requested.is_set():
                raise Stopped(f"stopped while starting {name}")
            if process.poll() is not None:
                tail = Path(process.log).read_text(errors="replace")[-800:]  # type: ignore[attr-defined]
                raise BackendUnavailable(
                    f"service {name}: {spec.command[0]!r} exited with {process.returncode} before "
                    f"{spec.health_url} answered:\n{tail}", service=spec.health_url,
                )
            if _answers(spec.health_url, timeout=1.0):
                return
            time.sleep(0.25)
        raise BackendUnavailable(
            f"service {name}: started, but {spec.health_url} did not answer within {spec.startup_timeout:.0f} s"
            f" (see {process.log})", service=spec.health_url,  # type: ignore[attr-defined]
        )

    def _free(self, name: str) -> None:
        """Ask ``name`` to release GPU memory; a failure to free only costs memory, never the build."""
        spec = self.settings[name]
        if spec.free_url:
            import httpx

            try:
                httpx.post(spec.free_url, json={"unload_models": True, "free_memory": True}, timeout=30)
            except httpx.HTTPError:
                pass
        if spec.free_command:
            try:
                subprocess.run(spec.free_command, cwd=spec.cwd, capture_output=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.used.discard(name)

    def stop_all(self, grace: float = 10.0) -> None:
        """Stop every service this process started (its whole process group), politely first."""
        for name, process in list(self.started.items()):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                except ProcessLookupError:
                    pass
            del self.started[name]


#: The build process's services; the project loader configures it from ``[services]``.
services = Services()
