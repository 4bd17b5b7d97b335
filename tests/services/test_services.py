"""Services on demand: started once, waited for, handed the GPU, stopped with their children."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from storybuild.errors import BackendUnavailable
from storybuild.services import ServiceSettings, Services

FAKE = Path(__file__).with_name("fake_service.py")


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def _spec(port: int, record: Path, delay: float = 0.5, **extra) -> ServiceSettings:
    return ServiceSettings(
        command=[sys.executable, str(FAKE), str(port), str(delay), str(record)],
        health_url=f"http://127.0.0.1:{port}/health", startup_timeout=20, **extra,
    )


def test_started_once_waited_for_and_stopped_with_its_children(tmp_path: Path) -> None:
    services, port = Services(), _port()
    services.configure({"comfyui": _spec(port, tmp_path, delay=1.0)})
    services.ensure("comfyui")
    services.ensure("comfyui")
    starts = (tmp_path / "starts").read_text().split()
    assert len(starts) == 1
    child = int((tmp_path / "child").read_text())
    assert _alive(int(starts[0])) and _alive(child)
    services.stop_all()
    deadline = time.monotonic() + 5
    while (_alive(int(starts[0])) or _alive(child)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(int(starts[0])) and not _alive(child)


def test_a_service_already_answering_is_used_and_never_stopped(tmp_path: Path) -> None:
    port = _port()
    theirs = subprocess.Popen([sys.executable, str(FAKE), str(port), "0", str(tmp_path / "theirs")])
    try:
        services = Services()
        services.configure({"llm": _spec(port, tmp_path / "ours")})
        deadline = time.monotonic() + 10
        while not (tmp_path / "theirs" / "child").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        services.ensure("llm")
        services.stop_all()
        assert not (tmp_path / "ours" / "starts").exists()
        assert theirs.poll() is None
    finally:
        theirs.kill()
        theirs.wait()


def test_a_command_that_dies_is_a_clear_error(tmp_path: Path) -> None:
    services = Services()
    services.configure({"comfyui": ServiceSettings(
        command=[sys.executable, "-c", "import sys; print('no GPU found'); sys.exit(3)"],
        health_url=f"http://127.0.0.1:{_port()}/health", startup_timeout=20,
    )})
    with pytest.raises(BackendUnavailable, match="(?s)exited with 3.*no GPU found"):
        services.ensure("comfyui")


def test_gpu_services_hand_the_gpu_over(tmp_path: Path) -> None:
    services = Services()
    comfy, llm = _port(), _port()
    services.configure({
        "comfyui": _spec(comfy, tmp_path / "c", delay=0, gpu=True, free_url=f"http://127.0.0.1:{comfy}/free"),
        "llm": _spec(llm, tmp_path / "l", delay=0, gpu=True, free_url=f"http://127.0.0.1:{llm}/unload"),
    })
    try:
        services.ensure("llm")
        services.ensure("comfyui")  # the language model gives the GPU up first
        assert (tmp_path / "l" / "frees").read_text().split() == ["/unload"]
        assert not (tmp_path / "c" / "frees").exists()
        services.ensure("comfyui")  # nothing to hand over twice
        assert (tmp_path / "l" / "frees").read_text().split() == ["/unload"]
    finally:
        services.stop_all()


def test_sigterm_to_the_build_stops_what_it_started(tmp_path: Path) -> None:
    """A real doit build that started a service is sent SIGTERM: the service and its child end."""
    port, record = _port(), tmp_path / "record"
    (tmp_path / "dodo.py").write_text(textwrap.dedent(f"""
        import sys, time
        from storybuild.graph import doit_config
        from storybuild.services import ServiceSettings, services

        DOIT_CONFIG = doit_config(default_tasks=["serve"])

        def work():
            services.configure({{"comfyui": ServiceSettings(
                command=[sys.executable, {str(FAKE)!r}, "{port}", "0.2", {str(record)!r}],
                health_url="http://127.0.0.1:{port}/health", startup_timeout=20)}})
            services.ensure("comfyui")
            open("ready", "w").close()
            time.sleep(60)

        def task_serve():
            return {{"actions": [work], "uptodate": [False]}}
    """))
    (tmp_path / "stories").mkdir()
    build = subprocess.Popen([sys.executable, "-m", "doit"], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not (tmp_path / "ready").exists() and time.monotonic() < deadline and build.poll() is None:
        time.sleep(0.05)
    assert (tmp_path / "ready").exists(), build.communicate()[0]
    started = int((record / "starts").read_text().split()[0])
    child = int((record / "child").read_text())
    build.send_signal(signal.SIGTERM)
    build.wait(timeout=30)
    deadline = time.monotonic() + 15
    while (_alive(started) or _alive(child)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(started) and not _alive(child)
