"""Real doit builds with every capability on a loopback ComfyUI: a whole video, a no-op rebuild, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import soundfile
from PIL import Image

from comfyui.helpers import submitted
from servers.comfyui import ComfyUIServer
from storybuild.media.probe import frame_count, probe
from storybuild.media.segments import segment_lengths
from storybuild.timeline import Timeline

REMOTE_STAGES = ("tts", "sfx", "character", "scene", "thumbnail", "animate")


def _use_comfyui(project, url: str, capabilities: tuple[str, ...]) -> None:
    """storybuild.toml selecting ComfyUI (draft quality: small, fast loopback outputs) for ``capabilities``."""
    lines = ["[servers]", f'comfyui_url = "{url}"', "", "[audio]", "infer_cues = false", ""]
    for capability in capabilities:
        lines += [f"[{capability}]", 'backend = "comfyui"', 'options = { quality = "draft" }', ""]
    (project.root / "storybuild.toml").write_text("\n".join(lines), encoding="utf-8")


def test_a_whole_video_from_comfyui_and_a_second_build_submits_nothing(project, comfy: ComfyUIServer) -> None:
    project.add_story("tiny")
    _use_comfyui(project, comfy.url, ("tts", "sfx", "image", "animate"))
    before = submitted(comfy)
    project.doit("final_mp4")
    out = project.build / "tiny"
    made = {stage: project.generated(stage) for stage in REMOTE_STAGES}
    assert all(made.values()), made
    timeline = Timeline.load(out / "timeline.json")
    # One job per artifact, except a clip longer than LTX's 121 frames: one per segment.
    segments = sum(len(segment_lengths(timeline.frame_span(s.id, 24)[1], 120)) - 1 for s in timeline.scenes)
    assert segments >= 1  # the tiny story's yard is long enough to exercise segments in a real build
    assert submitted(comfy) - before == sum(len(items) for items in made.values()) + segments
    assert all(count == 1 for count in comfy.submissions.values())

    info = probe(out / "final.mp4")
    assert (info.video.codec, info.video.width, info.video.height, info.video.fps) == ("h264", 1280, 720, 24)
    assert frame_count(out / "final.mp4") == round(timeline.duration * 24)
    for scene in timeline.scenes:
        assert frame_count(out / "clips" / f"{scene.id}.mp4") == timeline.frame_span(scene.id, 24)[1]
    wav = soundfile.info(out / "final.wav")
    assert abs(info.duration - wav.frames / wav.samplerate) <= 1 / 24
    for png, size in [(out / "thumbnail.png", (1280, 720)), (out / "scenes" / "barn.png", (1280, 720)),
                      (out / "characters" / "ada.png", (512, 768))]:
        with Image.open(png) as picture:
            assert picture.size == size
    assert soundfile.info(out / "lines" / "0001.wav").channels == 1

    again = submitted(comfy)
    project.doit("final_mp4")
    assert submitted(comfy) == again  # nothing stale, nothing queued


def test_kill_9_while_comfyui_works_then_rebuild_reattaches_to_the_same_job(project, comfy: ComfyUIServer) -> None:
    project.add_story("tiny")
    _use_comfyui(project, comfy.url, ("image",))
    project.doit("cast")
    comfy.configure(job_time=2.0)
    mark = len(comfy.prompts)
    build = subprocess.Popen([sys.executable, "-m", "doit", "character"], cwd=project.root, env=project.env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(comfy.prompts) == mark and time.monotonic() < deadline and build.poll() is None:
            time.sleep(0.02)
        time.sleep(0.3)  # the job is running on the server now
        assert build.poll() is None, "the build ended before it could be killed"
        os.killpg(build.pid, signal.SIGKILL)
        build.wait(10)
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
    killed = comfy.prompts[mark]["prompt_id"]
    assert len(comfy.prompts) == mark + 1 and not any((project.build / "tiny" / "characters").glob("*.png"))
    comfy.configure(job_time=0.0)
    project.doit("character")
    sent = Counter(body["prompt_id"] for body in comfy.prompts[mark:])
    assert sent[killed] == 1 and len(sent) == 2  # one job per portrait, the killed one never sent twice
    assert all(count == 1 for count in sent.values())
    for name in ("ada", "bo"):
        with Image.open(project.build / "tiny" / "characters" / f"{name}.png") as picture:
            assert picture.size == (512, 768)

