"""The four ComfyUI backends against a loopback ComfyUI speaking the real protocol (HTTP + WebSocket)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from comfyui.helpers import context, shipped_node_classes, submitted
from servers.comfyui import ComfyUIServer, running_comfyui
from storybuild.backends.animate.comfyui import ComfyUIAnimate
from storybuild.backends.animate.interface import ClipRequest
from storybuild.backends.comfyui import take_seed
from storybuild.backends.context import job_context
from storybuild.backends.image.comfyui import ComfyUIImage
from storybuild.backends.image.interface import CharacterRef, ImageRequest
from storybuild.backends.sfx.comfyui import ComfyUISFX
from storybuild.backends.sfx.interface import SoundRequest
from storybuild.backends.tts.comfyui import ComfyUITTS
from storybuild.backends.tts.interface import SpeechRequest, Voice
from storybuild.config import ServerSettings
from storybuild.errors import BackendError, BackendUnavailable
from storybuild.media.conform import conform_image
from storybuild.media.probe import frame_count, probe


def _servers(url: str) -> ServerSettings:
    return ServerSettings(comfyui_url=url)


def _portrait(seed: int = 5) -> ImageRequest:
    return ImageRequest(kind="portrait", prompt="a girl in a red cap", style="pastel", width=96, height=144, seed=seed,
                        characters=[CharacterRef(name="ada", look="a girl in a red cap")])


def test_a_wrong_sized_picture_from_the_server_is_conformed(comfy: ComfyUIServer, tmp_path: Path) -> None:
    comfy.configure(wrong_size_jobs=1)
    before = submitted(comfy)
    out = tmp_path / "ada.png"
    with job_context(context(tmp_path, "portrait-1")):
        ComfyUIImage({}, servers=_servers(comfy.url)).generate(_portrait(), out)
    with Image.open(out) as picture:
        assert picture.size == (96, 144)
    assert submitted(comfy) == before + 1
    sent = comfy.prompts[-1]["prompt"]
    assert (sent["8"]["inputs"]["width"], sent["8"]["inputs"]["height"]) == (96, 144)
    assert "a girl in a red cap" in sent["5"]["inputs"]["text"] and "4" not in sent  # no LoRA: bypassed


def test_a_black_first_take_is_retried_with_a_new_seed_and_the_second_kept(comfy: ComfyUIServer, tmp_path: Path) -> None:
    comfy.configure(black_jobs=1)
    portraits = []
    for name, colour in (("ada", "red"), ("bo", "blue")):
        Image.new("RGB", (64, 96), colour).save(tmp_path / f"{name}.png")
        portraits.append(CharacterRef(name=name, look="x", portrait=tmp_path / f"{name}.png", lora="bo.safetensors" if name == "bo" else None))
    request = ImageRequest(kind="scene", prompt="a barn at night", width=128, height=72, seed=11, characters=portraits)
    before, mark = submitted(comfy), len(comfy.prompts)
    out = tmp_path / "barn.png"
    with job_context(context(tmp_path, "scene-barn")):
        ComfyUIImage({}, servers=_servers(comfy.url)).generate(request, out)
    assert submitted(comfy) == before + 2
    first, second = (body["prompt"] for body in comfy.prompts[mark:])
    assert [first["9"]["inputs"]["seed"], second["9"]["inputs"]["seed"]] == [11, take_seed(11, 1)]
    assert second["4"]["inputs"]["lora_name"] == "bo.safetensors"
    reference = comfy.root / "input" / second["12"]["inputs"]["image"]
    with Image.open(reference) as sheet:  # both portraits, side by side, as one reference
        assert sheet.size[0] == 2 * sheet.size[1] * 64 // 96
    prefix = second["11"]["inputs"]["filename_prefix"]
    made = sorted((comfy.root / "output").glob(f"{prefix}_*.png"))
    assert len(made) == 1
    expected = tmp_path / "expected.png"
    conform_image(made[0], expected, 128, 72)
    assert out.read_bytes() == expected.read_bytes()


def test_preflight_names_the_missing_node_class_and_model_file_and_queues_nothing(tmp_path: Path) -> None:
    classes = shipped_node_classes()
    del classes["ChatterBoxEngineNode"]
    classes["UNETLoader"]["required"]["unet_name"] = ["flux1-schnell.safetensors"]
    # A server of its own: clients keep /object_info for the process, as a real one never changes it live.
    with running_comfyui(tmp_path / "server", node_classes=classes) as comfy:
        _preflight(comfy, tmp_path)


def _preflight(comfy: ComfyUIServer, tmp_path: Path) -> None:
    tts = ComfyUITTS({}, servers=_servers(comfy.url))
    problems = tts.check()
    assert any("chatterbox_clone_tts.json: node 3 needs node class 'ChatterBoxEngineNode'" in p and comfy.url in p
               for p in problems), problems
    image_problems = "\n".join(ComfyUIImage({}, servers=_servers(comfy.url)).check())
    assert "flux_portrait.json: node 1 (UNETLoader) input 'unet_name' = 'flux1-dev.safetensors'" in image_problems
    assert "flux_kontext_scene.json: node 1 (UNETLoader)" in image_problems
    before = submitted(comfy)
    with pytest.raises(BackendUnavailable, match="ChatterBoxEngineNode"), job_context(context(tmp_path, "line")):
        tts.synthesize(SpeechRequest(text="Who rang it?", voice=Voice(name="none")), tmp_path / "line.wav")
    assert submitted(comfy) == before and not (tmp_path / "line.wav").exists()


def test_an_unreachable_server_is_named_with_how_to_start_it() -> None:
    problems = ComfyUISFX({}, servers=_servers("http://127.0.0.1:9")).check()
    assert len(problems) == 1 and "http://127.0.0.1:9" in problems[0] and "start ComfyUI" in problems[0]


def test_speech_is_cloned_from_the_sample_and_its_transcript_and_comes_back_mono(comfy: ComfyUIServer, tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    voices.mkdir()
    rate = 44100
    tone = 0.3 * np.sin(2 * np.pi * 200 * np.arange(rate) / rate)
    soundfile.write(voices / "mara.wav", np.stack([tone, tone], axis=1), rate)
    (voices / "mara.reference.txt").write_text("This is how Mara sounds.\n")
    out = tmp_path / "0001.wav"
    with job_context(context(tmp_path, "line-1")):
        ComfyUITTS({}, servers=_servers(comfy.url)).synthesize(
            SpeechRequest(text="Father! The lamp is out.", voice=Voice(name="mara.wav", sample=voices / "mara.wav")), out)
    info = soundfile.info(out)
    assert info.channels == 1 and info.format == "WAV" and 1.0 < info.duration < 5.0
    sent = comfy.prompts[-1]["prompt"]
    assert sent["4"]["inputs"]["text"] == "Father! The lamp is out."
    assert sent["2"]["inputs"]["reference_text"] == "This is how Mara sounds."
    assert (comfy.root / "input" / sent["1"]["inputs"]["audio"]).read_bytes() == (voices / "mara.wav").read_bytes()


def test_emoji_are_never_sent_and_a_line_of_only_emoji_is_a_short_silence(comfy: ComfyUIServer, tmp_path: Path) -> None:
    tts = ComfyUITTS({}, servers=_servers(comfy.url))
    with job_context(context(tmp_path, "line-2")):
        tts.synthesize(SpeechRequest(text="The cake 🎂 was ready 🙂", voice=Voice(name="none")), tmp_path / "a.wav")
    assert comfy.prompts[-1]["prompt"]["4"]["inputs"]["text"] == "The cake was ready"
    before = submitted(comfy)
    with job_context(context(tmp_path, "line-3")):
        tts.synthesize(SpeechRequest(text="🎂 🙂", voice=Voice(name="none")), tmp_path / "b.wav")
    assert submitted(comfy) == before
    data, rate = soundfile.read(tmp_path / "b.wav")
    assert len(data) / rate == pytest.approx(0.25) and not np.any(data)


def test_a_short_cue_is_made_at_the_models_minimum_and_cut_to_its_length(comfy: ComfyUIServer, tmp_path: Path) -> None:
    out = tmp_path / "001.wav"
    with job_context(context(tmp_path, "cue-1")):
        ComfyUISFX({"quality": "draft"}, servers=_servers(comfy.url)).generate(
            SoundRequest(text="a bell ringing", duration=0.5, seed=3), out)
    data, rate = soundfile.read(out)
    assert len(data) == round(0.5 * rate)
    sent = comfy.prompts[-1]["prompt"]
    assert sent["6"]["inputs"]["seconds"] == 1.0 and sent["7"]["inputs"]["steps"] == 25  # draft: half of 50


def test_an_out_of_memory_failure_names_workflow_server_and_draft_and_is_not_reattached(comfy: ComfyUIServer, tmp_path: Path) -> None:
    comfy.configure(error_jobs=1)
    before = submitted(comfy)
    backend = ComfyUIImage({"takes": 1}, servers=_servers(comfy.url))
    with pytest.raises(BackendError) as caught, job_context(context(tmp_path, "portrait-oom")):
        backend.generate(_portrait(), tmp_path / "ada.png")
    message = str(caught.value)
    assert "flux_portrait.json" in message and comfy.url in message and 'quality = "draft"' in message
    assert not (tmp_path / "ada.png").exists()
    with job_context(context(tmp_path, "portrait-oom")):  # the next build runs it again
        backend.generate(_portrait(), tmp_path / "ada.png")
    assert submitted(comfy) == before + 2


def test_a_job_recorded_before_a_crash_is_reattached_not_resubmitted(comfy: ComfyUIServer, tmp_path: Path) -> None:
    backend = ComfyUIImage({}, servers=_servers(comfy.url))
    with job_context(context(tmp_path, "portrait-crash")):
        backend.generate(_portrait(), tmp_path / "first.png")
    before = submitted(comfy)
    # What a kill -9 between submission and rename leaves: the record still 'submitted'.
    with sqlite3.connect(tmp_path / "state" / "jobs.sqlite3") as db:
        db.execute("UPDATE jobs SET state = 'submitted'")
    with job_context(context(tmp_path, "portrait-crash")):
        backend.generate(_portrait(), tmp_path / "again.png")
    assert submitted(comfy) == before  # found in /history: no GPU time spent twice
    assert (tmp_path / "again.png").read_bytes() == (tmp_path / "first.png").read_bytes()


def test_draft_quality_makes_a_smaller_picture_in_fewer_steps_conformed_up(comfy: ComfyUIServer, tmp_path: Path) -> None:
    with job_context(context(tmp_path, "portrait-draft")):
        ComfyUIImage({"quality": "draft"}, servers=_servers(comfy.url)).generate(_portrait(), tmp_path / "d.png")
    sent = comfy.prompts[-1]["prompt"]
    assert (sent["8"]["inputs"]["width"], sent["8"]["inputs"]["height"], sent["9"]["inputs"]["steps"]) == (48, 64, 12)
    with Image.open(tmp_path / "d.png") as picture:
        assert picture.size == (96, 144)


def test_recipes_carry_the_workflow_identity_and_never_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = ComfyUIAnimate.recipe({})
    assert set(shipped["workflow"]) == {"animate"} and "8188" not in json.dumps(shipped)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "workflows").mkdir()
    from storybuild.backends.workflow import SHIPPED

    for name in ("ltxv_i2v.json", "ltxv_i2v.params.json"):
        (tmp_path / "workflows" / name).write_text((SHIPPED / name).read_text().replace("3.0", "3.5"))
    assert ComfyUIAnimate.recipe({})["workflow"] != shipped["workflow"]


def test_a_long_clip_is_made_in_segments_and_a_crash_redoes_only_the_failed_one(comfy: ComfyUIServer, tmp_path: Path) -> None:
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (72, 128, 3), np.uint8)).save(tmp_path / "still.png")
    request = ClipRequest(image=tmp_path / "still.png", frames=30, fps=24, width=128, height=72, seed=4, prompt="fog")
    backend = ComfyUIAnimate({"max_frames": 11}, servers=_servers(comfy.url))
    out = tmp_path / "clip.mp4"
    comfy.configure(job_time=0.4)
    mark = len(comfy.prompts)
    failure: list[BaseException] = []

    def first_run() -> None:
        try:
            with job_context(context(tmp_path, "clip-harbor")):
                backend.animate(request, out)
        except BaseException as exc:  # noqa: BLE001
            failure.append(exc)

    runner = threading.Thread(target=first_run)
    runner.start()
    deadline = time.monotonic() + 30
    # Running its nodes, so it has taken its faults already (submitted is not enough on a busy machine).
    while (len(comfy.prompts) < mark + 1 or comfy.running is None or comfy.runner.node is None) \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    comfy.configure(error_jobs=1)  # the first segment is already running: the second one fails
    runner.join(60)
    assert failure and isinstance(failure[0], BackendError) and not out.exists()
    kept = sorted((tmp_path / "state" / "segments" / "clip-harbor").glob("*.mp4"))
    assert [p.name for p in kept] == ["000.mp4"]
    comfy.configure(job_time=0.0)
    with job_context(context(tmp_path, "clip-harbor")):
        backend.animate(request, out)
    sent = comfy.prompts[mark:]
    assert len(sent) == 4  # segment 0 once, segment 1 failed and once more, segment 2 once
    lengths = [body["prompt"]["6"]["inputs"]["length"] for body in sent]
    assert lengths == [17, 17, 17, 17]  # 10 (+1 seam frame for later ones) rounded up to 8n+1
    assert frame_count(out) == 30
    info = probe(out)
    assert (info.video.width, info.video.height, info.video.fps) == (128, 72, 24)
    assert not (tmp_path / "state" / "segments" / "clip-harbor").exists()


def test_the_preflight_notes_which_request_fields_a_map_ignores() -> None:
    framepack = ComfyUIAnimate({"workflow": "workflows/framepack_i2v.json"})
    assert framepack.notes() == ["workflows/framepack_i2v.json: the map ignores negative, fps"]
    assert ComfyUIAnimate({}).notes() == [] and ComfyUIImage({}).notes() == []


def test_a_job_past_its_timeout_is_interrupted_and_fails_naming_workflow_and_server(comfy: ComfyUIServer, tmp_path: Path) -> None:
    comfy.configure(job_time=1.5)
    servers = ServerSettings(comfyui_url=comfy.url, comfyui_timeouts={"sfx": 0.3})
    mark = len(comfy.prompts)
    with pytest.raises(BackendError, match="timed out") as caught, job_context(context(tmp_path, "cue-slow")):
        ComfyUISFX({}, servers=servers).generate(SoundRequest(text="thunder", duration=2.0), tmp_path / "cue.wav")
    assert "stable_audio_sfx.json" in str(caught.value) and comfy.url in str(caught.value)
    assert comfy.prompts[mark]["prompt_id"] in comfy.interrupts
    assert not (tmp_path / "cue.wav").exists()
