"""The ComfyUI client on the wire: a job's outputs, real files, progress, the POST race, node caching."""

from __future__ import annotations

import uuid

import numpy as np
from PIL import Image

from clients.prompts import image_prompt
from storybuild.clients.comfyui import ComfyUIClient, output_files


def test_run_returns_outputs_and_download_fetches_the_real_png(comfyui, tmp_path):
    comfyui.configure(job_time=0.1, steps=5)
    client = ComfyUIClient(comfyui.url)
    seen: list[str] = []
    prompt_id = str(uuid.uuid4())
    outputs = client.run(image_prompt(width=120, height=80), prompt_id, timeout=10, on_progress=seen.append)
    files = output_files(outputs)
    assert files == output_files(outputs, "9") and files[0]["subfolder"] == "storybuild"
    client.download(files[0], tmp_path / "out" / "picture.png")
    with Image.open(tmp_path / "out" / "picture.png") as image:
        assert image.size == (120, 80)
        assert np.asarray(image).std() > 10
    assert [p for p in (tmp_path / "out").iterdir()] == [tmp_path / "out" / "picture.png"]  # no temp left
    host = comfyui.url.removeprefix("http://")
    assert f"comfyui {host} KSampler 3/5 0s" in seen
    assert seen[-1].startswith(f"comfyui {host} SaveImage")
    assert comfyui.submissions == {prompt_id: 1}
    assert client.find(prompt_id) == "done"
    client.close()


def test_messages_before_the_post_reply_are_not_lost(comfyui):
    comfyui.configure(race=True, job_time=0.05, steps=3)
    client = ComfyUIClient(comfyui.url)
    seen: list[str] = []
    outputs = client.run(image_prompt(), "race-1", timeout=10, on_progress=seen.append)
    assert output_files(outputs)[0]["filename"] == "picture_00001_.png"
    # the whole job ran before the POST returned, yet its steps reached the waiter
    assert [s.split()[3] for s in seen if "KSampler" in s and "/" in s] == ["1/3", "2/3", "3/3"]
    assert comfyui.submissions == {"race-1": 1}
    client.close()


def test_the_same_workflow_again_is_served_from_the_node_cache(comfyui):
    client = ComfyUIClient(comfyui.url)
    first = client.run(image_prompt(), "a", timeout=10)
    second = client.run(image_prompt(), "b", timeout=10)
    assert first == second
    assert sorted(p.name for p in (comfyui.root / "output" / "storybuild").iterdir()) == ["picture_00001_.png"]
    cached = [data["nodes"] for kind, data, _ in comfyui.sent if kind == "execution_cached"]
    assert cached == [[], ["1", "2", "3", "4", "5", "9"]]
    assert comfyui.count("executing", "b") == 1  # only the final {node: null}
    client.close()


def test_consecutive_jobs_share_one_websocket(comfyui):
    client = ComfyUIClient(comfyui.url)
    for seed in range(3):
        client.run(image_prompt(seed=seed), f"job-{seed}", timeout=10)
    assert sum(len(s) for s in comfyui.sockets.values()) == 1
    assert client._events.drops == 0
    client.close()


def test_output_files_reads_every_kind_comfyui_lists():
    outputs = {
        "9": {"images": [{"filename": "a_00001_.png", "subfolder": "s", "type": "output"}]},
        "12": {"images": [{"filename": "v_00001_.mp4", "subfolder": "", "type": "output"}], "animated": [True]},
        "14": {"gifs": [{"filename": "w_00001.mp4", "subfolder": "", "type": "output", "format": "video/h264-mp4"}]},
        "15": {"audio": [{"filename": "t_00001_.flac", "subfolder": "", "type": "output"}]},
        "16": {"text": ["not a file"]},
    }
    assert [ref["filename"] for ref in output_files(outputs)] == [
        "a_00001_.png", "v_00001_.mp4", "w_00001.mp4", "t_00001_.flac"]
    assert output_files(outputs, "15") == outputs["15"]["audio"]
    assert output_files(outputs, "99") == [] and output_files(outputs, "16") == []


def test_control_calls_reach_the_server(comfyui):
    client = ComfyUIClient(comfyui.url)
    comfyui.configure(job_time=30)
    client.submit(image_prompt(seed=1), "one")
    client.submit(image_prompt(seed=2), "two")
    assert client.queue_remaining() == 2
    assert client.find("one") == "running" and client.find("two") == "pending" and client.find("zzz") == "unknown"
    client.delete_pending(["two"])
    client.interrupt("one")
    client.free(unload_models=True)
    assert comfyui.deleted == ["two"] and comfyui.interrupts == ["one"]
    assert comfyui.frees == [{"unload_models": True, "free_memory": True}]
    client.close()
