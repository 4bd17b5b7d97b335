"""The job store and resuming: a build killed mid-job re-attaches and the GPU works once."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from storybuild.store.jobs import JobStore

WORKER = Path(__file__).resolve().parent / "job_process.py"


def start(store: Path, url: str, key: str, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), str(store), url, key, *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_record_lookup_finish_pending(tmp_path):
    store = JobStore(tmp_path / "state" / "jobs.sqlite3")
    assert store.lookup("k1") is None and store.pending() == []
    store.record("k1", "http://a:8188", "p1")
    store.record("k2", "http://b:8188", "p2")
    store.record("k1", "http://a:8188", "p3")  # a new attempt replaces the old record
    assert store.lookup("k1") == ("http://a:8188", "p3")
    store.finish("k1")
    assert store.lookup("k1") is None
    assert [(job.key, job.prompt_id, job.state) for job in store.pending()] == [("k2", "p2", "submitted")]
    # another connection (another process would be the same) sees every commit at once
    assert JobStore(store.path).lookup("k2") == ("http://b:8188", "p2")


def test_threads_share_one_store(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")

    def work(n: int) -> None:
        for i in range(50):
            store.record(f"{n}-{i}", "http://a", f"p{n}-{i}")
            if i % 2:
                store.finish(f"{n}-{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.pending()) == 4 * 25


def test_a_record_survives_sigkill_and_the_job_is_submitted_once(comfyui, tmp_path):
    store = tmp_path / "jobs.sqlite3"
    killed = start(store, comfyui.url, "scene-a", "--die-after-record")
    out, err = killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL, err
    prompt_id = out.split()[1]
    assert JobStore(store).lookup("scene-a") == (comfyui.url, prompt_id)
    assert comfyui.submissions == {}  # it died before submitting
    again = start(store, comfyui.url, "scene-a")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert out.split() == ["found", prompt_id, "done", "scene-a_00001_.png"]
    assert comfyui.submissions == {prompt_id: 1}
    assert JobStore(store).lookup("scene-a") is None


def test_a_build_killed_mid_job_reattaches_without_a_second_submission(comfyui, tmp_path):
    comfyui.configure(job_time=2.0, steps=20)
    store = tmp_path / "jobs.sqlite3"
    first = start(store, comfyui.url, "scene-b")
    prompt_id = first.stdout.readline().split()[1]
    end = time.monotonic() + 30
    while not (comfyui.running and comfyui.running.prompt_id == prompt_id):
        assert time.monotonic() < end and first.poll() is None
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert prompt_id not in comfyui.history  # killed mid-job, the server still working
    second = start(store, comfyui.url, "scene-b")
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert out.split() == ["found", prompt_id, "done", "scene-b_00001_.png"]
    assert comfyui.submissions == {prompt_id: 1}
    assert len(list((comfyui.root / "output" / "storybuild").iterdir())) == 1
