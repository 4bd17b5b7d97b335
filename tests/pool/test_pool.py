"""A pool of ComfyUI servers: both used, queues never dry while work waits, failover, rejoin."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from clients.prompts import image_prompt
from servers.comfyui import ComfyUIServer, running_comfyui
from storybuild.clients import comfyui as comfyui_client
from storybuild.clients.pool import ComfyUIPool


def _jobs(pool: ComfyUIPool, count: int, threads: int, timeout: float = 60) -> list[tuple[str, str]]:
    """Run ``count`` distinct jobs from ``threads`` threads (like doit -n); (prompt_id, server url) each."""

    def one(i: int) -> tuple[str, str]:
        prompt_id = str(uuid.uuid4())
        url, outputs = pool.run(image_prompt(f"pool/{i}", seed=i), prompt_id, timeout=timeout)
        assert outputs
        return prompt_id, url

    with ThreadPoolExecutor(threads) as workers:
        return list(workers.map(one, range(count)))


def _gaps(server) -> list[float]:
    runs = sorted(server.executions, key=lambda run: run[1])
    return [later[1] - earlier[2] for earlier, later in zip(runs, runs[1:])]


def test_both_servers_used_and_neither_queue_runs_dry(tmp_path) -> None:
    with running_comfyui(tmp_path / "a", job_time=0.25) as a, running_comfyui(tmp_path / "b", job_time=0.25) as b:
        pool = ComfyUIPool([a.url, b.url])
        try:
            done = _jobs(pool, 12, threads=4)
        finally:
            pool.close()
    used = {url for _, url in done}
    assert used == {a.url, b.url}
    assert len(a.executions) + len(b.executions) == 12
    assert min(len(a.executions), len(b.executions)) >= 4
    # One job queued behind the running one: the next starts the moment the last ends.
    for server in (a, b):
        assert max(_gaps(server)) < 0.05, _gaps(server)


def test_one_slot_per_server_leaves_the_gpu_waiting(tmp_path) -> None:
    """The control for the test above: with a single slot the server idles between our jobs."""
    with running_comfyui(tmp_path / "a", job_time=0.1) as a:
        pool = ComfyUIPool([a.url], slots=1)
        try:
            _jobs(pool, 4, threads=4)
        finally:
            pool.close()
    assert max(_gaps(a)) > 0.0005


def test_a_server_that_dies_has_its_work_finished_elsewhere(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(comfyui_client, "_UNREACHABLE_GRACE", 1.0)
    with running_comfyui(tmp_path / "a", job_time=0.3) as a:
        b = ComfyUIServer(tmp_path / "b", job_time=0.3).start()  # stopped for good mid-run below
        pool = ComfyUIPool([a.url, b.url], probe_after=60)
        killer = threading.Timer(0.45, b.stop)
        killer.start()
        try:
            done = _jobs(pool, 8, threads=4)
        finally:
            killer.join()
            pool.close()
        assert len(done) == 8
        submissions = {pid: a.submissions[pid] + b.submissions[pid] for pid, _ in done}
        assert max(submissions.values()) <= 2
        assert any(count == 2 for count in submissions.values())  # b had work when it died
        assert len(a.executions) >= 6


def test_a_server_that_comes_back_rejoins(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(comfyui_client, "_UNREACHABLE_GRACE", 1.0)
    with running_comfyui(tmp_path / "a", job_time=0.05) as a, running_comfyui(tmp_path / "b", job_time=0.05) as b:
        pool = ComfyUIPool([a.url, b.url], probe_after=0.5)
        try:
            b.restart(down=1.5)  # closed for a while, like a crashed server being restarted
            threading.Timer(0.0, lambda: None).start()
            _jobs(pool, 4, threads=2)
            before = len(b.executions)
            time.sleep(1.6)
            _jobs(pool, 8, threads=4)
        finally:
            pool.close()
        assert len(b.executions) > before


def test_every_server_down_is_a_clear_error(tmp_path) -> None:
    with running_comfyui(tmp_path / "a") as a:
        url = a.url
    pool = ComfyUIPool([url], probe_after=60)
    with pytest.raises(Exception, match="127.0.0.1"):
        pool.run(image_prompt("x"), str(uuid.uuid4()), timeout=5)
    pool.close()


def test_load_names_each_server() -> None:
    pool = ComfyUIPool(["http://gpu1:8188", "http://gpu2:8188"])
    assert pool.load() == "gpu1:8188 0/2, gpu2:8188 0/2"
    pool.close()
