"""The loopback ComfyUI itself, spoken to raw (httpx + websockets): it must behave as the protocol notes say.

Other tests trust it to stand in for a real ComfyUI 0.3.64, so its message order, routing, file
rules and outputs are checked here against /work/shared/protocols/comfyui.md.
"""

from __future__ import annotations

import json
import time

import av
import httpx
import numpy as np
import soundfile
from PIL import Image
from websockets.sync.client import connect

from clients.prompts import image_prompt


def ws(server, client_id: str):
    return connect(f"ws://127.0.0.1:{server.port}/ws?clientId={client_id}", compression=None)


def messages_until_done(socket, prompt_id: str, url: str) -> list[tuple[str, dict]]:
    """Every message up to the final executing {node: null}; history must already be there then."""
    seen = []
    while True:
        message = json.loads(socket.recv(timeout=10))
        seen.append((message["type"], message["data"]))
        if message["type"] == "executing" and message["data"].get("node") is None:
            assert prompt_id in httpx.get(f"{url}/history/{prompt_id}").json()
            return seen


def test_message_order_routing_and_history(comfyui):
    comfyui.configure(job_time=0.05, steps=2)
    with ws(comfyui, "me") as mine, ws(comfyui, "someone-else") as theirs:
        assert json.loads(mine.recv(timeout=5))["type"] == "status"
        json.loads(theirs.recv(timeout=5))
        answer = httpx.post(f"{comfyui.url}/prompt", json={"prompt": image_prompt(), "client_id": "me", "prompt_id": "p1"})
        assert answer.status_code == 200 and answer.json()["prompt_id"] == "p1"
        seen = messages_until_done(mine, "p1", comfyui.url)
        kinds = [kind for kind, _ in seen if kind != "progress_state"]
        assert kinds[:3] == ["status", "execution_start", "execution_cached"]
        assert kinds[-3:] == ["execution_success", "status", "executing"]
        assert kinds.count("progress") == 2 and kinds.count("executed") == 1
        executing = [data["node"] for kind, data in seen if kind == "executing"]
        assert executing == ["1", "2", "3", "4", "5", "9", None]
        # the other client got the broadcasts only, none of p1's own messages
        others = []
        while True:
            try:
                others.append(json.loads(theirs.recv(timeout=0.2))["type"])
            except TimeoutError:
                break
        assert set(others) == {"status"}
    entry = httpx.get(f"{comfyui.url}/history/p1").json()["p1"]
    assert entry["status"]["status_str"] == "success" and entry["prompt"][1] == "p1"
    assert httpx.get(f"{comfyui.url}/history/unknown").json() == {}
    comfyui.restart(down=0.05)
    assert httpx.get(f"{comfyui.url}/history/p1").json() == {}


def test_queue_interrupt_and_delete(comfyui):
    comfyui.configure(job_time=30, steps=100)
    for n in range(3):
        httpx.post(f"{comfyui.url}/prompt", json={"prompt": image_prompt(seed=n), "prompt_id": f"q{n}"})
    queue = httpx.get(f"{comfyui.url}/queue").json()
    assert [row[1] for row in queue["queue_running"]] == ["q0"]
    assert [row[1] for row in queue["queue_pending"]] == ["q1", "q2"]
    assert httpx.get(f"{comfyui.url}/prompt").json() == {"exec_info": {"queue_remaining": 3}}
    assert httpx.post(f"{comfyui.url}/queue", json={"delete": ["q2", "q0"]}).status_code == 200  # pending only
    httpx.post(f"{comfyui.url}/interrupt", json={"prompt_id": "q1"})  # not running: no effect
    assert comfyui.running.prompt_id == "q0" and not comfyui.running.interrupted
    comfyui.configure(job_time=0)  # for q1; q0 keeps the 30 s it started with
    httpx.post(f"{comfyui.url}/interrupt", json={"prompt_id": "q0"})
    wait_for(comfyui, "q1")
    assert comfyui.history["q0"]["status"]["status_str"] == "error"
    assert comfyui.history["q1"]["status"]["status_str"] == "success" and "q2" not in comfyui.history


def test_rejections_have_comfyuis_shapes(comfyui):
    post = lambda body: httpx.post(f"{comfyui.url}/prompt", content=body if isinstance(body, str) else json.dumps(body))
    assert post("{not json").status_code == 500
    assert post({"client_id": "x"}).json()["error"]["type"] == "no_prompt"
    unknown = post({"prompt": {"1": {"class_type": "Nope", "inputs": {}}}})
    assert unknown.status_code == 400 and unknown.json() == {
        "error": {"type": "invalid_prompt", "message": "Cannot execute because node Nope does not exist.",
                  "details": "Node ID '#1'", "extra_info": {}}, "node_errors": {}}
    assert post({"prompt": {"1": {"class_type": "EmptyLatentImage", "inputs": {}}}}).json()["error"]["type"] == "prompt_no_outputs"
    bad = post({"prompt": image_prompt(ckpt="gone.safetensors")}).json()
    assert bad["error"]["type"] == "prompt_outputs_failed_validation"
    assert bad["node_errors"]["1"]["class_type"] == "CheckpointLoaderSimple"
    assert bad["node_errors"]["1"]["dependent_outputs"] == ["9"]
    assert bad["node_errors"]["1"]["errors"][0]["type"] == "value_not_in_list"
    assert httpx.get(f"{comfyui.url}/object_info/Nope").json() == {}
    info = httpx.get(f"{comfyui.url}/object_info/CheckpointLoaderSimple").json()["CheckpointLoaderSimple"]
    assert info["input"]["required"]["ckpt_name"][0] == ["sd15.safetensors", "sdxl_base.safetensors"]
    assert comfyui.submissions == {}


def test_view_rules(comfyui):
    httpx.post(f"{comfyui.url}/prompt", json={"prompt": image_prompt(), "prompt_id": "v"})
    wait_for(comfyui, "v")
    view = lambda **params: httpx.get(f"{comfyui.url}/view", params=params).status_code
    assert view(filename="picture_00001_.png", subfolder="storybuild", type="output") == 200
    assert view(filename="../picture_00001_.png", subfolder="storybuild") == 400
    assert view(filename="/etc/passwd") == 400
    assert view(filename="passwd", subfolder="../../../../etc") == 403
    assert view(filename="missing.png", subfolder="storybuild") == 404


def run_raw(server, prompt: dict, prompt_id: str) -> dict:
    httpx.post(f"{server.url}/prompt", json={"prompt": prompt, "prompt_id": prompt_id})
    return wait_for(server, prompt_id)["outputs"]


def wait_for(server, prompt_id: str) -> dict:
    """The history entry of ``prompt_id`` once the server has stored it."""
    end = time.monotonic() + 10
    while prompt_id not in server.history:
        assert time.monotonic() < end, f"{prompt_id} did not finish"
        time.sleep(0.005)
    return server.history[prompt_id]


def test_video_and_audio_outputs_are_real_files_shaped_by_the_graph(comfyui):
    video = {
        "1": {"class_type": "EmptyHunyuanLatentVideo", "inputs": {"width": 64, "height": 48, "length": 9, "batch_size": 1}},
        "2": {"class_type": "VAEDecode", "inputs": {"samples": ["1", 0], "vae": ["1", 0]}},
        "3": {"class_type": "CreateVideo", "inputs": {"images": ["2", 0], "fps": 12.0}},
        "4": {"class_type": "SaveVideo", "inputs": {"video": ["3", 0], "filename_prefix": "clips/a", "format": "mp4", "codec": "h264"}},
    }
    out = run_raw(comfyui, video, "video")["4"]
    assert out["animated"] == [True] and out["images"][0]["filename"] == "a_00001_.mp4"
    with av.open(str(comfyui.root / "output" / "clips" / "a_00001_.mp4")) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.width, stream.height, frames, float(stream.average_rate)) == (64, 48, 9, 12.0)
    audio = {
        "1": {"class_type": "EmptyLatentAudio", "inputs": {"seconds": 1.5, "batch_size": 1}},
        "2": {"class_type": "VAEDecodeAudio", "inputs": {"samples": ["1", 0], "vae": ["1", 0]}},
        "3": {"class_type": "SaveAudio", "inputs": {"audio": ["2", 0], "filename_prefix": "sfx/b"}},
    }
    out = run_raw(comfyui, audio, "audio")["3"]
    samples, rate = soundfile.read(comfyui.root / "output" / "sfx" / out["audio"][0]["filename"])
    assert out["audio"][0]["filename"].endswith(".flac") and abs(len(samples) / rate - 1.5) < 0.01


def test_black_and_wrong_size_faults_count_down(comfyui):
    comfyui.configure(black_jobs=1, wrong_size_jobs=1)
    first = run_raw(comfyui, image_prompt(width=80, height=40, seed=1), "f1")["9"]["images"][0]
    second = run_raw(comfyui, image_prompt(width=80, height=40, seed=2), "f2")["9"]["images"][0]
    with Image.open(comfyui.root / "output" / "storybuild" / first["filename"]) as image:
        assert image.size == (40, 40) and not np.asarray(image).any()
    with Image.open(comfyui.root / "output" / "storybuild" / second["filename"]) as image:
        assert image.size == (80, 40) and np.asarray(image).std() > 10
