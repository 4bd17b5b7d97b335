"""A real build to final.mp4: probe the video, look at the pictures, count regenerations."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from storybuild.media.probe import frame_count, probe, subtitle_texts
from storybuild.timeline import Timeline


def _digests(root):
    return {p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_final_mp4_is_youtube_ready(built_tiny):
    out = built_tiny.build / "tiny"
    info = probe(out / "final.mp4")
    timeline = Timeline.load(out / "timeline.json")
    video, audio, subtitle = info.video, info.audio, info.subtitle
    assert (video.codec, video.pix_fmt, video.width, video.height) == ("h264", "yuv420p", 1280, 720)
    assert video.fps == 24
    assert audio.codec == "aac" and audio.sample_rate == 48000 and audio.channels == 2
    assert subtitle.codec == "mov_text"
    wav = sf.info(out / "final.wav")
    assert abs(info.duration - wav.frames / wav.samplerate) <= 1 / 24
    assert abs(frame_count(out / "final.mp4") - round(timeline.duration * 24)) <= 1
    assert [c.title for c in info.chapters] == ["Yard", "Barn", "Hill"]
    for chapter, scene in zip(info.chapters, timeline.scenes):
        assert chapter.start == pytest.approx(scene.start, abs=0.01)
    assert info.tags.get("title") == "The Small Bell"
    texts = [text for _, _, text in subtitle_texts(out / "final.mp4")]
    assert "Who rang it?" in texts and "Not me." in texts


def test_every_clip_lasts_exactly_its_scene(built_tiny):
    out = built_tiny.build / "tiny"
    timeline = Timeline.load(out / "timeline.json")
    for scene in timeline.scenes:
        clip = probe(out / "clips" / f"{scene.id}.mp4").video
        assert (clip.width, clip.height) == (1280, 720)
        assert frame_count(out / "clips" / f"{scene.id}.mp4") == timeline.frame_span(scene.id, 24)[1]
    assert sum(timeline.frame_span(s.id, 24)[1] for s in timeline.scenes) == round(timeline.duration * 24)


def test_pictures_are_real_and_distinct(built_tiny):
    out = built_tiny.build / "tiny"
    scenes = {}
    for scene_id in ("yard", "barn", "hill"):
        image = Image.open(out / "scenes" / f"{scene_id}.png")
        assert image.size == (1280, 720)
        pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
        assert pixels.std() > 20, f"{scene_id} looks blank"
        scenes[scene_id] = pixels
    assert np.abs(scenes["yard"] - scenes["barn"]).mean() > 20
    for name in ("ada", "bo"):
        portrait = Image.open(out / "characters" / f"{name}.png")
        assert portrait.size == (512, 768)
    thumb = Image.open(out / "thumbnail.png")
    assert thumb.size == (1280, 720)
    assert np.asarray(thumb.convert("L"), dtype=np.float32).std() > 30


@pytest.fixture
def visual_built(project):
    project.add_story("tiny")
    project.doit("final_mp4")
    return project


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_editing_a_scene_description_redraws_that_scene_only(visual_built):
    mark = visual_built.mark()
    _edit(visual_built.story("tiny"), "one tree, the sea far away", "two trees, the sea far away")
    visual_built.doit("final_mp4")
    assert visual_built.generated("scene", mark) == ["tiny/hill"]
    assert visual_built.generated("animate", mark) == ["tiny/hill"]
    assert visual_built.generated("tts", mark) == []
    assert visual_built.generated("soundtrack", mark) == [], "the sound is not encoded again"
    assert visual_built.generated("video", mark) == ["tiny"]
    assert visual_built.generated("final_mp4", mark) == ["tiny"]


def test_editing_a_line_reanimates_its_scene_but_redraws_nothing(visual_built):
    mark = visual_built.mark()
    _edit(visual_built.story("tiny"), "Nobody answered.", "Nobody answered, not even the wind outside.")
    visual_built.doit("final_mp4")
    assert visual_built.generated("tts", mark) == ["tiny/0005"]
    assert visual_built.generated("scene", mark) == []
    assert visual_built.generated("character", mark) == []
    assert visual_built.generated("soundtrack", mark) == ["tiny"]
    assert visual_built.generated("animate", mark) == ["tiny/barn"]
    assert sorted(visual_built.reused("animate", mark)) == ["tiny/hill", "tiny/yard"]  # same length


def test_clean_scene_then_rebuild_comes_from_the_cache(visual_built):
    visual_built.doit("clean", "scene")
    assert not list((visual_built.build / "tiny" / "scenes").glob("*.png"))
    mark = visual_built.mark()
    visual_built.doit("scene")
    assert visual_built.generated("scene", mark) == []
    assert len(visual_built.reused("scene", mark)) == 3


def test_reroll_changes_one_scene_and_survives_rebuilds(visual_built):
    out = visual_built.build / "tiny"
    before = _digests(out)
    result = visual_built.storybuild("reroll", "scene", "tiny/barn")
    assert result.returncode == 0, result.stderr
    assert (visual_built.root / "stories" / "tiny" / "seeds.toml").is_file()
    mark = visual_built.mark()
    visual_built.doit("final_mp4")
    assert visual_built.generated("scene", mark) == ["tiny/barn"]
    after = _digests(out)
    changed = {path.as_posix() for path in before if before[path] != after[path]}
    assert changed == {"scenes/barn.png", "clips/barn.mp4", "video.mp4", "final.mp4"}
    assert "nothing to do" in visual_built.doit("final_mp4").stdout
    # the reroll is reproducible: rebuilding from an empty build folder gives the same picture
    shutil.rmtree(visual_built.build)
    shutil.rmtree(visual_built.root / ".storybuild")
    visual_built.doit("scene")
    rebuilt = hashlib.sha256((out / "scenes" / "barn.png").read_bytes()).hexdigest()
    assert rebuilt == after[Path("scenes/barn.png")]


def test_a_thumbnail_in_the_story_folder_is_used_fitted_and_followed(project):
    story = project.add_story("tiny").parent
    Image.new("RGB", (640, 480), (220, 20, 20)).save(story / "thumbnail.jpg")
    project.doit("thumbnail")
    thumb = project.build / "tiny" / "thumbnail.png"
    pixels = np.asarray(Image.open(thumb).convert("RGB"), dtype=np.float32)
    assert pixels.shape == (720, 1280, 3) and pixels[..., 0].mean() > 180 and pixels[..., 2].mean() < 60
    (story / "thumbnail.jpg").unlink()
    Image.new("RGB", (1920, 1080), (20, 20, 220)).save(story / "thumbnail.png")
    project.doit("thumbnail")
    assert np.asarray(Image.open(thumb).convert("RGB"), dtype=np.float32)[..., 2].mean() > 180
    (story / "thumbnail.png").unlink()  # none of your own: the title over the key scene again
    project.doit("thumbnail")
    drawn = np.asarray(Image.open(thumb).convert("L"), dtype=np.float32)
    assert drawn.std() > 30 and np.asarray(Image.open(thumb).convert("RGB"))[..., 2].mean() < 180
