"""The whole video built with the system FFmpeg (Debian's 5.1 in CI) meets the same guarantees.

The pip-shipped FFmpeg is the default and every other graph test uses it; this module builds the
tiny story with `STORYBUILD_FFMPEG=system`, so a timing difference between builds of FFmpeg shows
up as a failing test, not as a user's surprise. In CI (CI=true) a missing system ffmpeg fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from components import missing
import soundfile as sf

from storybuild.media.probe import frame_count, probe
from storybuild.timeline import Timeline


@pytest.fixture(scope="module")
def built_with_system_ffmpeg(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("ffmpeg") is None:
        missing("no system ffmpeg on PATH", "apt-get install ffmpeg")
    from conftest import REPO, Project

    root = tmp_path_factory.mktemp("system-ffmpeg") / "project"
    (root / "stories").mkdir(parents=True)
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    project = Project(root)
    project.add_story("tiny")
    saved = os.environ.get("STORYBUILD_FFMPEG")
    os.environ["STORYBUILD_FFMPEG"] = "system"
    try:
        project.doit("final_mp4")
    finally:
        if saved is None:
            os.environ.pop("STORYBUILD_FFMPEG", None)
        else:
            os.environ["STORYBUILD_FFMPEG"] = saved
    return project


def test_exact_rate_frames_and_length(built_with_system_ffmpeg) -> None:
    out = built_with_system_ffmpeg.build / "tiny"
    timeline = Timeline.load(out / "timeline.json")
    info = probe(out / "final.mp4")
    assert info.video.fps == 24  # exactly 24/1, not 23.995
    assert frame_count(out / "final.mp4") == round(timeline.duration * 24)
    wav = sf.info(out / "final.wav")
    assert abs(info.duration - wav.frames / wav.samplerate) <= 1 / 48
    for scene in timeline.scenes:
        assert frame_count(out / "clips" / f"{scene.id}.mp4") == timeline.frame_span(scene.id, 24)[1]
    assert [c.title for c in info.chapters] == ["Yard", "Barn", "Hill"]


def test_the_system_ffprobe_reads_it_without_a_word(built_with_system_ffmpeg) -> None:
    ffprobe = shutil.which("ffprobe")
    assert ffprobe, "the system ffmpeg package ships ffprobe"
    done = subprocess.run([ffprobe, "-v", "warning", "-show_chapters", "-show_streams",
                           str(built_with_system_ffmpeg.build / "tiny" / "final.mp4")],
                          capture_output=True, text=True, check=True)
    assert done.stderr.strip() == ""
