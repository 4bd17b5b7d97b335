"""A loopback ComfyUI that speaks the real protocol (HTTP + WebSocket on one aiohttp port) and makes real files.

It follows /work/shared/protocols/comfyui.md (a real ComfyUI 0.3.64): message order, per-client
routing, the POST-reply race, node caching, history that is ``{}`` until stored and gone after a
restart, /queue, /interrupt, uploads that rename, /view's 400/403/404, /object_info and the 400
shapes. This module is the HTTP and WebSocket surface and the queue; ``comfyui_jobs`` runs a job,
``comfyui_outputs`` writes its real png/mp4/audio files, ``comfyui_nodes`` validates the graph.
Faults are set per test with ``configure`` and counted down per job. Everything the server
received is kept (``submissions``, ``prompts``, ``interrupts``, ``deleted``, ``executions``,
``sent``) and survives ``restart()``, which, like a real one, loses history, queue and cache.

    with running_comfyui(job_time=0.05, steps=4) as server:
        client = ComfyUIClient(server.url)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from aiohttp import web

from servers.comfyui_jobs import Job, JobRunner
from servers.comfyui_nodes import DEFAULT_NODES, validate

OOM = "Allocation on device 0 would exceed allowed memory. (out of memory)"


@dataclass
class Config:
    """How the server behaves; every field can be changed mid-test with ``configure``."""

    job_time: float = 0.0            # seconds one (uncached) job takes
    steps: int = 0                   # `progress` messages per sampler node
    default_size: tuple[int, int] = (64, 64)
    default_frames: int = 8
    race: bool = False               # send a job's messages before answering its POST /prompt
    node_classes: dict[str, dict] = field(default_factory=lambda: json.loads(json.dumps(DEFAULT_NODES)))
    drop_socket_jobs: int = 0        # the next N jobs close their client's socket halfway
    refuse_ws: bool = False          # answer 503 to new WebSocket connections
    restart_jobs: int = 0            # the next N jobs make the server restart halfway
    restart_down: float = 0.3        # seconds the port stays closed during a restart
    error_jobs: int = 0              # the next N jobs fail with execution_error
    error_message: str = OOM
    wrong_size_jobs: int = 0         # the next N jobs make images/videos half the asked width
    black_jobs: int = 0              # the next N jobs make all-black images
    http_errors: int = 0             # the next N HTTP requests (not /ws) answer 503
    lost_replies: int = 0            # the next N POST /prompt are queued, then the connection drops unanswered


class ComfyUIServer:
    """The server, running its own event loop in a thread. Read its records from the test thread."""

    def __init__(self, root: Path, port: int = 0, **config: Any) -> None:
        self.root = Path(root)
        self.port = port
        self.config = Config()
        self.configure(**config)
        self.submissions: Counter[str] = Counter()
        self.prompts: list[dict] = []
        self.interrupts: list[str | None] = []
        self.deleted: list[str] = []
        self.frees: list[dict] = []
        self.requests: list[tuple[str, str]] = []                # method, path
        self.executions: list[tuple[str, float, float]] = []  # prompt_id, start, end (monotonic)
        self.sent: list[tuple[str, dict, str | None]] = []     # every message: type, data, client id
        self.restarts = 0
        self.runner = JobRunner(self)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="loopback-comfyui")
        self._runner: web.AppRunner | None = None
        self._reset()

    # -- control from the test thread ---------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def configure(self, **changes: Any) -> None:
        """Change behaviour (see Config); unknown names are a test bug."""
        names = {f.name for f in fields(Config)}
        for name, value in changes.items():
            if name not in names:
                raise TypeError(f"no such loopback ComfyUI setting: {name}")
            setattr(self.config, name, value)

    def start(self) -> ComfyUIServer:
        self._thread.start()
        self._call(self._open())
        return self

    def restart(self, down: float | None = None) -> None:
        """Stop and start again on the same port: running job, queue, history and cache are lost."""
        self._call(self.restart_in_loop(self.config.restart_down if down is None else down))

    def stop(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def count(self, event: str, prompt_id: str | None = None) -> int:
        """How many messages of one type were sent (for one prompt)."""
        return sum(1 for kind, data, _ in self.sent if kind == event and prompt_id in (None, data.get("prompt_id")))

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    # -- lifecycle ----------------------------------------------------------------------------

    def _reset(self) -> None:
        self.history: dict[str, dict] = {}
        self.pending: list[Job] = []
        self.running: Job | None = None
        self.cache: dict[str, dict] = {}
        self.sockets: dict[str, set[web.WebSocketResponse]] = {}
        self.number = 0
        self._worker: asyncio.Task | None = None
        self._wakeup: asyncio.Event | None = None

    async def _open(self) -> None:
        app = web.Application(client_max_size=100 * 1024 * 1024, middlewares=[self._faulty])
        app.add_routes([
            web.get("/ws", self._ws), web.post("/prompt", self._post_prompt), web.get("/prompt", self._get_prompt),
            web.get("/queue", self._get_queue), web.post("/queue", self._post_queue),
            web.get("/history", self._get_history), web.get("/history/{prompt_id}", self._get_history),
            web.post("/interrupt", self._interrupt), web.post("/free", self._free),
            web.get("/system_stats", self._system_stats), web.get("/object_info", self._object_info),
            web.get("/object_info/{node_class}", self._object_info), web.post("/upload/image", self._upload),
            web.get("/view", self._view), web.get("/loopback/executions", self._executions),
        ])
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._wakeup = asyncio.Event()
        self._worker = asyncio.create_task(self._work())

    async def _close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for sockets in list(self.sockets.values()):
            for ws in list(sockets):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def restart_in_loop(self, down: float) -> None:
        """``restart`` from inside the server's event loop (a job that restarts it midway)."""
        self.restarts += 1
        await self._close()
        self._reset()
        await asyncio.sleep(down)
        await self._open()

    # -- messages -----------------------------------------------------------------------------

    async def send(self, kind: str, data: dict, client_id: str | None) -> None:
        """Send a message to one client's sockets, or to all when ``client_id`` is None."""
        self.sent.append((kind, data, client_id))
        text = json.dumps({"type": kind, "data": data})
        targets = self.sockets.get(client_id, set()) if client_id else set().union(*self.sockets.values())
        for ws in list(targets):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(text)

    def status(self) -> dict:
        """The status message's data: how many jobs are queued or running."""
        return {"status": {"exec_info": {"queue_remaining": len(self.pending) + (self.running is not None)}}}

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if self.config.refuse_ws:
            return web.Response(status=503, text="refused by the test")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sid = request.query.get("clientId") or uuid.uuid4().hex
        self.sockets.setdefault(sid, set()).add(ws)
        try:
            await ws.send_str(json.dumps({"type": "status", "data": {**self.status(), "sid": sid}}))
            if self.running is not None and self.running.client_id == sid and self.runner.node is not None:
                await ws.send_str(json.dumps({"type": "executing", "data": {"node": self.runner.node}}))
            async for _ in ws:
                pass
        finally:
            self.sockets.get(sid, set()).discard(ws)
        return ws

    # -- the queue worker ---------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            while not self.pending:
                self._wakeup.clear()
                await self._wakeup.wait()
            job = self.running = self.pending.pop(0)
            self.runner.node = None
            start = time.monotonic()
            try:
                await self.runner.execute(job)
            finally:
                self.running = None
                job.done.set()
            self.executions.append((job.prompt_id, start, time.monotonic()))

    # -- HTTP routes --------------------------------------------------------------------------

    @web.middleware
    async def _faulty(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if self.config.http_errors > 0 and request.path != "/ws":
            self.config.http_errors -= 1
            return web.Response(status=503, text="Service Unavailable (injected by the test)")
        return await handler(request)

    async def _post_prompt(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
        except ValueError as exc:
            return web.Response(status=500, text=f"500 Internal Server Error\n\n{exc}")
        prompt = body.get("prompt") if isinstance(body, dict) else None
        if not isinstance(prompt, dict):
            return _rejected({"type": "no_prompt", "message": "No prompt provided", "details": "", "extra_info": {}}, {})
        error, node_errors, outputs_ = validate(prompt, self.config.node_classes, self.root / "input")
        if error is not None:
            return _rejected(error, node_errors)
        pid = str(body.get("prompt_id") or uuid.uuid4())
        self.submissions[pid] += 1
        self.prompts.append(body)
        self.number += 1
        job = Job(self.number, pid, prompt, body.get("client_id"), body.get("extra_data") or {}, outputs_)
        self.pending.append(job)
        self._wakeup.set()
        if self.config.lost_replies > 0:
            self.config.lost_replies -= 1
            request.transport.close()
            raise ConnectionResetError("reply lost on purpose")
        if self.config.race:
            await asyncio.wait([asyncio.ensure_future(job.done.wait())], timeout=self.config.job_time + 5)
        return web.json_response({"prompt_id": pid, "number": job.number, "node_errors": {}})

    async def _get_prompt(self, request: web.Request) -> web.Response:
        return web.json_response({"exec_info": self.status()["status"]["exec_info"]})

    async def _get_queue(self, request: web.Request) -> web.Response:
        running = [self.running.row()] if self.running else []
        return web.json_response({"queue_running": running, "queue_pending": [job.row() for job in self.pending]})

    async def _post_queue(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clear"):
            self.deleted.extend(job.prompt_id for job in self.pending)
            self.pending.clear()
        for pid in body.get("delete") or ():
            self.deleted.append(pid)
            self.pending = [job for job in self.pending if job.prompt_id != pid]
        return web.Response(status=200)

    async def _get_history(self, request: web.Request) -> web.Response:
        pid = request.match_info.get("prompt_id")
        if pid is None:
            return web.json_response(self.history)
        return web.json_response({pid: self.history[pid]} if pid in self.history else {})

    async def _interrupt(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        pid = body.get("prompt_id")
        self.interrupts.append(pid)
        if self.running is not None and pid in (None, self.running.prompt_id):
            self.running.interrupted = True
        return web.Response(status=200)

    async def _free(self, request: web.Request) -> web.Response:
        self.frees.append(await request.json())
        return web.Response(status=200)

    async def _system_stats(self, request: web.Request) -> web.Response:
        return web.json_response({
            "system": {"os": "posix", "comfyui_version": "0.3.64", "python_version": "3.11", "pytorch_version": "loopback",
                       "ram_total": 1 << 34, "ram_free": 1 << 33, "embedded_python": False, "argv": ["main.py"]},
            "devices": [{"name": "loopback", "type": "cpu", "index": None, "vram_total": 0, "vram_free": 0,
                         "torch_vram_total": 0, "torch_vram_free": 0}]})

    async def _object_info(self, request: web.Request) -> web.Response:
        from servers.comfyui_nodes import node_info

        name = request.match_info.get("node_class")
        infos = {cls: node_info(cls, spec, self.root / "input") for cls, spec in self.config.node_classes.items()}
        if name is None:
            return web.json_response(infos)
        return web.json_response({name: infos[name]} if name in infos else {})

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        image = form.get("image")
        if image is None or not hasattr(image, "file"):
            return web.Response(status=400)
        kind = form.get("type") or "input"
        subfolder = str(form.get("subfolder") or "")
        base = (self.root / kind).resolve()
        folder = (base / subfolder).resolve()
        if not folder.is_relative_to(base):
            return web.Response(status=400)
        folder.mkdir(parents=True, exist_ok=True)
        content = image.file.read()
        name = Path(image.filename).name
        path = folder / name
        if str(form.get("overwrite", "")).lower() not in ("true", "1"):
            index = 1
            while path.exists():
                if path.read_bytes() == content:
                    break
                path = folder / f"{Path(name).stem} ({index}){Path(name).suffix}"
                index += 1
        path.write_bytes(content)
        return web.json_response({"name": path.name, "subfolder": subfolder, "type": kind})

    async def _executions(self, request: web.Request) -> web.Response:
        """Not ComfyUI's: when each job ran (monotonic clock), for a bench in another process."""
        return web.json_response(self.executions)

    async def _view(self, request: web.Request) -> web.StreamResponse:
        filename = request.query.get("filename")
        if not filename:
            return web.Response(status=404)
        if filename.startswith("/") or ".." in filename:
            return web.Response(status=400)
        kind = request.query.get("type") or "output"
        if kind not in ("output", "input", "temp"):
            return web.Response(status=400)
        base = (self.root / kind).resolve()
        folder = (base / request.query.get("subfolder", "")).resolve()
        if not folder.is_relative_to(base):
            return web.Response(status=403)
        path = folder / filename
        if not path.is_file():
            return web.Response(status=404)
        return web.FileResponse(path)


def _rejected(error: dict, node_errors: dict) -> web.Response:
    return web.json_response({"error": error, "node_errors": node_errors}, status=400)


@contextlib.contextmanager
def running_comfyui(root: Path | None = None, **config: Any) -> Iterator[ComfyUIServer]:
    """A loopback ComfyUI on a free port for the body of the ``with``; files under ``root`` (or a temp dir)."""
    temp = None
    if root is None:
        temp = root = Path(tempfile.mkdtemp(prefix="loopback-comfyui-"))
    server = ComfyUIServer(root, **config).start()
    try:
        yield server
    finally:
        server.stop()
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def main() -> None:
    """Serve until stdin closes; prints the URL. Run from tests/: ``python -m servers.comfyui --job-time 0.05``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--job-time", type=float, default=0.0)
    parser.add_argument("--steps", type=int, default=0)
    args = parser.parse_args()
    with running_comfyui(port=args.port, job_time=args.job_time, steps=args.steps) as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
