"""Fixtures for the server: a built tiny project shared by the folder, servers on loopback ports.

The tiny story is built once per session (to its storyboard, which needs everything) and copied
for each test that changes it: the copy keeps doit's state and the cache, so its builds are
incremental. A server runs either in this process (uvicorn in a thread, when the test sets its
config) or as ``python -m storybuild.serve`` (when the test kills it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from conftest import DATA, Project

try:
    import fastapi  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise  # CI installs the serve extra: a missing server is a failure there
    collect_ignore_glob = ["test_*.py"]  # pip install -e '.[serve,test]' to run these

DODO = """from storybuild.graph import *  # noqa: F401,F403
from storybuild.graph import doit_config
from storybuild.graph.storyboard import storyboard  # noqa: F401

DOIT_CONFIG = doit_config()
"""


def new_project(root: Path, *stories: str) -> Project:
    """A project at ``root`` with the storyboard stage and ``stories`` from tests/data."""
    (root / "stories").mkdir(parents=True)
    (root / "dodo.py").write_text(DODO, encoding="utf-8")
    project = Project(root)
    for slug in stories:
        shutil.copytree(DATA / "tiny", root / "stories" / slug)
    return project


@pytest.fixture(scope="session")
def built_template(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The tiny story built to its storyboard, once per session; copy it before changing it."""
    project = new_project(tmp_path_factory.mktemp("serve-built") / "project", "tiny")
    project.doit("storyboard", timeout=300)
    return project


@pytest.fixture
def built(built_template: Project, tmp_path: Path) -> Project:
    """A private copy of the built tiny project."""
    root = tmp_path / "project"
    shutil.copytree(built_template.root, root, symlinks=True)
    return Project(root)


def free_port() -> int:
    """A port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A running server: its base URL and a client for it."""

    def __init__(self, url: str, token: str = "") -> None:
        self.url = url
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=url, timeout=30, headers=headers)

    def wait_job(self, job_id: str, limit: float = 120, states: tuple[str, ...] = ("completed", "failed", "cancelled")) -> dict:
        """Poll the job until it reaches one of ``states``; its last status."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            status = self.http.get(f"/api/status/{job_id}").json()
            if status["status"] in states:
                return status
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} not {states} in {limit}s: {status}")

    def submit(self, path: str, **body) -> str:
        """POST a job and return its id."""
        answer = self.http.post(path, json=body)
        assert answer.status_code == 202, answer.text
        return answer.json()["job_id"]


@contextmanager
def serve_in_thread(config):
    """uvicorn serving ``create_app(config)`` in a thread of this process."""
    import uvicorn

    from storybuild.serve.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(config), host=config.host, port=config.port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://{config.host}:{config.port}"
    _wait_healthy(url)
    try:
        yield Server(url, config.token)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def serve(built):
    """Start a server in this process on ``built`` (or another root) with config values; one per call."""
    from storybuild.serve.settings import ServeConfig

    stack = []

    def start(root: Path | None = None, **values) -> Server:
        values.setdefault("allow_private_webhooks", True)
        values.setdefault("webhook_secret", "test-secret")
        config = ServeConfig(root=Path(root or built.root), port=free_port(), **values)
        manager = serve_in_thread(config)
        server = manager.__enter__()
        stopped = []

        def stop() -> None:
            if not stopped:
                stopped.append(True)
                manager.__exit__(None, None, None)

        server.stop = stop
        stack.append(stop)
        return server

    yield start
    for stop in reversed(stack):
        stop()


def _wait_healthy(url: str, limit: float = 30, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"no server answered at {url} in {limit}s")


class ServerProcess:
    """``python -m storybuild.serve`` in its own session, so the test can kill -9 it."""

    def __init__(self, project: Project, port: int, *args: str) -> None:
        env = project.env() | {"STORYBUILD_WEBHOOK_ALLOW_PRIVATE": "1", "STORYBUILD_WEBHOOK_SECRET": "test-secret"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "storybuild.serve", "--root", str(project.root), "--port", str(port), *args],
            cwd=project.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        self.server = Server(f"http://127.0.0.1:{port}")
        _wait_healthy(self.server.url, process=self.process)

    def kill(self) -> None:
        """SIGKILL the server alone (its builds run in sessions of their own and live on)."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """Stop it if it still runs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
