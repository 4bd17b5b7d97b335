"""The ComfyUI client when things go wrong: dropped sockets, restarts, failures, timeouts, rejections, stops."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from clients.prompts import image_prompt
from storybuild.clients.comfyui import ComfyUIClient, ExecutionFailed, WorkflowRejected, output_files
from storybuild.errors import BackendError, BackendUnavailable, TransientError
from storybuild.stopping import Stopped, stop_requested


@pytest.fixture
def client(comfyui):
    client = ComfyUIClient(comfyui.url)
    yield client
    client.close()


def wait_until(condition, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not reached in time"
        time.sleep(0.005)


def test_a_dropped_socket_falls_back_to_polling_history(comfyui, client):
    client.run(image_prompt(seed=0), "first", timeout=10)
    comfyui.configure(job_time=0.3, steps=6, drop_socket_jobs=1, refuse_ws=True)
    outputs = client.run(image_prompt(), "drop-1", timeout=10)
    assert output_files(outputs)[0]["filename"] == "picture_00002_.png"
    assert client._events.drops == 1 and not client._events.connected
    assert ("GET", "/history/drop-1") in comfyui.requests[comfyui.requests.index(("POST", "/prompt")) + 1:]
    assert comfyui.submissions == {"first": 1, "drop-1": 1}


def test_a_restart_mid_job_resubmits_exactly_once(comfyui, client):
    comfyui.configure(job_time=0.4, restart_jobs=1, restart_down=0.3)
    outputs = client.run(image_prompt(), "restarted", timeout=20)
    assert comfyui.restarts == 1
    assert comfyui.submissions == {"restarted": 2}
    assert (comfyui.root / "output" / "storybuild" / output_files(outputs)[0]["filename"]).is_file()
    # and the client found its way back onto the new server's socket
    assert client.run(image_prompt(seed=2), "after", timeout=10) and client._events.connected


def test_wait_reports_a_lost_job_instead_of_waiting_forever(comfyui, client):
    comfyui.configure(job_time=0.4, restart_jobs=1, restart_down=0.1)
    client.submit(image_prompt(), "forgotten")
    with pytest.raises(TransientError, match="no longer knows job forgotten") as caught:
        client.wait("forgotten", timeout=10)
    assert caught.value.service == comfyui.url


def test_an_execution_error_names_the_node_and_suggests_draft_on_out_of_memory(comfyui, client):
    comfyui.configure(error_jobs=1)
    with pytest.raises(ExecutionFailed) as caught:
        client.run(image_prompt(), "oom", timeout=10)
    message = str(caught.value)
    assert comfyui.url in message and "node 4 (KSampler)" in message
    assert "Allocation on device 0 would exceed allowed memory" in message
    assert 'quality = "draft"' in message
    # a later attach to the failed job reads the same failure from history, without resubmitting
    with pytest.raises(ExecutionFailed, match="node 4 \\(KSampler\\)"):
        client.run(image_prompt(), "oom", timeout=10)
    assert comfyui.submissions == {"oom": 1}


def test_a_job_slower_than_its_timeout_is_interrupted_on_the_server(comfyui, client):
    comfyui.configure(job_time=30, steps=300)
    started = time.monotonic()
    with pytest.raises(BackendError, match="timed out after 0.5 s") as caught:
        client.run(image_prompt(), "slow", timeout=0.5)
    assert time.monotonic() - started < 3
    assert not isinstance(caught.value, TransientError)  # retrying would time out again
    assert comfyui.interrupts == ["slow"]
    wait_until(lambda: "slow" in comfyui.history)
    assert comfyui.history["slow"]["status"]["messages"][-1][0] == "execution_interrupted"


def test_a_rejected_workflow_lists_every_node_error(comfyui, client):
    with pytest.raises(WorkflowRejected) as caught:
        client.run(image_prompt(ckpt="missing.safetensors"), "bad", timeout=5)
    message = str(caught.value)
    assert comfyui.url in message and "Prompt outputs failed validation" in message
    assert "node 1 (CheckpointLoaderSimple) input ckpt_name: value_not_in_list" in message
    assert "'missing.safetensors' not in" in message
    assert comfyui.submissions == {}


def test_a_missing_node_class_is_named_with_what_to_do(comfyui, client):
    del comfyui.config.node_classes["KSampler"]
    with pytest.raises(WorkflowRejected, match="(?s)node KSampler does not exist.*Node ID '#4'.*install the custom node"):
        client.submit(image_prompt(), "no-node")
    assert client.object_info().keys() == comfyui.config.node_classes.keys()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server_is_named_with_how_to_start_it():
    url = f"http://127.0.0.1:{free_port()}"
    client = ComfyUIClient(url)
    with pytest.raises(BackendUnavailable, match="python main.py --listen") as caught:
        client.system_stats()
    assert url in str(caught.value) and caught.value.service == url
    with pytest.raises(TransientError, match=f"ComfyUI at {url} failed GET /history/x after 5 tries"):
        client.run(image_prompt(), "x", timeout=5)
    client.close()


def test_server_errors_are_retried_then_reported(comfyui, client):
    comfyui.configure(http_errors=3)
    assert client.queue_remaining() == 0
    comfyui.configure(http_errors=5)
    with pytest.raises(TransientError, match="HTTP 503"):
        client.queue_remaining()


def test_a_4xx_is_not_retried_and_names_the_file(comfyui, client, tmp_path):
    with pytest.raises(BackendError, match="HTTP 404 to GET /view for output file storybuild/nothing.png"):
        client.download({"filename": "nothing.png", "subfolder": "storybuild", "type": "output"}, tmp_path / "x.png")
    assert comfyui.requests.count(("GET", "/view")) == 1
    assert not list(tmp_path.iterdir())


def test_upload_returns_the_renamed_name_and_it_validates(comfyui, client, tmp_path):
    first, second = tmp_path / "one" / "face.png", tmp_path / "two" / "face.png"
    for path, content in ((first, b"\x89PNG first"), (second, b"\x89PNG second")):
        path.parent.mkdir()
        path.write_bytes(content)
    assert client.upload(first) == "storybuild/face.png"
    assert client.upload(second) == "storybuild/face (1).png"
    assert client.upload(first) == "storybuild/face.png"  # same content: same name
    assert (comfyui.root / "input" / "storybuild" / "face (1).png").read_bytes() == b"\x89PNG second"
    prompt = {"1": {"class_type": "LoadImage", "inputs": {"image": "storybuild/face (1).png"}},
              "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "up/x"}}}
    client.run(prompt, "uses-upload", timeout=5)
    prompt["1"]["inputs"]["image"] = "storybuild/face (2).png"
    with pytest.raises(WorkflowRejected, match="node 1 \\(LoadImage\\) input image: custom_validation_failed"):
        client.submit(prompt, "bad-upload")


def test_stop_interrupts_the_job_and_deletes_only_this_clients_pending(comfyui, client):
    other = ComfyUIClient(comfyui.url)
    comfyui.configure(job_time=30, steps=300)
    client.submit(image_prompt(seed=1), "mine-running")
    client.submit(image_prompt(seed=2), "mine-pending")
    other.submit(image_prompt(seed=3), "theirs-pending")
    caught: list[BaseException] = []

    def waiter() -> None:
        try:
            client.wait("mine-running", timeout=60)
        except BaseException as exc:  # noqa: BLE001 - Stopped is a KeyboardInterrupt
            caught.append(exc)

    thread = threading.Thread(target=waiter)
    thread.start()
    wait_until(lambda: comfyui.running is not None and comfyui.running.prompt_id == "mine-running")
    try:
        stop_requested.set()
        thread.join(timeout=5)
    finally:
        stop_requested.clear()
    assert len(caught) == 1 and isinstance(caught[0], Stopped)
    assert comfyui.interrupts == ["mine-running"]
    assert comfyui.deleted == ["mine-running", "mine-pending"]
    # The other client's job is untouched: still queued, or already started now that ours are gone.
    running = comfyui.running.prompt_id if comfyui.running is not None else None
    assert [job.prompt_id for job in comfyui.pending] == ["theirs-pending"] or running == "theirs-pending"
    other.close()


def test_one_client_serves_concurrent_waiters(comfyui, client):
    comfyui.configure(job_time=0.05, steps=2)
    results: dict[int, dict] = {}

    def job(seed: int) -> None:
        results[seed] = client.run(image_prompt(seed=seed, prefix=f"storybuild/p{seed}"), f"job-{seed}", timeout=20)

    threads = [threading.Thread(target=job, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert {seed: output_files(out)[0]["filename"] for seed, out in results.items()} == {
        seed: f"p{seed}_00001_.png" for seed in range(6)}
    assert set(comfyui.submissions.values()) == {1} and len(comfyui.submissions) == 6


def test_the_timeout_counts_running_not_waiting_in_the_queue(comfyui, client):
    client.run(image_prompt(seed=7), "warm", timeout=5)  # identical prompts now run from cache, at once
    other = ComfyUIClient(comfyui.url)
    comfyui.configure(job_time=0.8)
    other.submit(image_prompt(seed=8), "someone-elses-long-job")
    started = time.monotonic()
    outputs = client.run(image_prompt(seed=7), "behind-it", timeout=0.3)
    assert time.monotonic() - started > 0.6  # it waited in the queue longer than its timeout
    assert output_files(outputs)[0]["filename"] == "picture_00001_.png"
    assert comfyui.interrupts == []
    other.close()


def test_a_dropped_socket_is_reopened_and_the_job_followed_on_it(comfyui, client):
    comfyui.configure(job_time=0.4, steps=8, drop_socket_jobs=1)
    seen: list[str] = []
    started = time.monotonic()
    client.run(image_prompt(), "reconnect", timeout=10, on_progress=seen.append)
    assert time.monotonic() - started < 3
    assert client._events.drops == 1 and client._events.opened == 2 and client._events.connected
    assert any(" 8/8 " in line for line in seen)  # steps after the drop arrived on the new socket
    assert comfyui.submissions == {"reconnect": 1}


def test_a_rejected_submission_leaves_nothing_behind(comfyui, client):
    with pytest.raises(WorkflowRejected):
        client.submit(image_prompt(ckpt="missing.safetensors"), "rejected")
    assert client._active == set() and client._classes == {}


def test_a_lost_reply_to_post_prompt_does_not_queue_the_job_twice(comfyui, client):
    comfyui.configure(lost_replies=1)
    outputs = client.run(image_prompt(), "reply-lost", timeout=10)
    assert output_files(outputs)
    assert comfyui.requests.count(("POST", "/prompt")) == 1
    assert comfyui.submissions == {"reply-lost": 1}
