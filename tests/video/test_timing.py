"""Exact timing with every ffmpeg: each frame on the frame grid, tracks exactly their length.

FFmpeg 5.1 joined clips a few ticks apart (avg_frame_rate 761856/31745 for a 24 fps film),
rounded edit lists to the millisecond and cut the audio of a re-encoded mux short; these tests
read the tables back exactly (Fractions, not floats) so any such drift fails.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest

from storybuild.media.ffmpeg import run_ffmpeg
from storybuild.media.join import join_clips
from storybuild.media.video import mux_final, verify_final

from . import FPS, SIZE, make_clip, make_wav, write_srt
from .conftest import IN_CI

pytestmark = pytest.mark.usefixtures("each_ffmpeg")

LENGTHS = (50, 61, 47)  # 2.083 s, 2.542 s, 1.958 s: none a whole number of milliseconds


def video_timing(path: Path) -> tuple[list[Fraction], Fraction, Fraction]:
    """Every frame's presentation time in frames, the track's duration in seconds, its average rate."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        base = stream.time_base
        starts = sorted(p.pts * base * FPS for p in container.demux(stream) if p.size)
        return starts, stream.duration * base, Fraction(stream.average_rate)


def audio_seconds(path: Path) -> Fraction:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return stream.duration * stream.time_base


def assert_on_the_grid(path: Path, frames: int) -> None:
    starts, duration, rate = video_timing(path)
    assert starts == list(range(frames))
    assert duration == Fraction(frames, FPS)
    assert rate == FPS


def ffprobe_facts(path: Path) -> dict:
    """What Debian's ffprobe reads, with everything it warns about."""
    done = subprocess.run(
        ["ffprobe", "-v", "warning", "-show_streams", "-show_chapters", "-show_format", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    facts["warnings"] = done.stderr.strip()
    return facts


@pytest.fixture
def clips(tmp_path: Path) -> list[Path]:
    return [
        make_clip(tmp_path / f"c{i}.mp4", n, motion=f"s{i}", seed=i, keyframes=[12])
        for i, n in enumerate(LENGTHS)
    ]


def test_clips_are_exactly_their_frames(clips: list[Path]) -> None:
    for clip, frames in zip(clips, LENGTHS):
        assert_on_the_grid(clip, frames)


@pytest.mark.parametrize("transition", ["cut", "crossfade"])
def test_joins_keep_every_frame_on_the_grid(tmp_path: Path, clips: list[Path], transition: str) -> None:
    out = tmp_path / f"{transition}.mp4"
    result = join_clips(clips, out, FPS, transition, fade=0.5)
    # The stream-copy paths are the ones that drifted: make sure they are the ones tested.
    assert result.copied > sum(LENGTHS) // 2
    assert_on_the_grid(out, sum(LENGTHS))


def test_final_mp4_is_exact_and_reads_without_a_warning(tmp_path: Path, clips: list[Path]) -> None:
    frames = sum(LENGTHS)
    video = tmp_path / "video.mp4"
    join_clips(clips, video, FPS, "crossfade", fade=0.5)
    seconds = Fraction(frames, FPS)
    wav = make_wav(tmp_path / "mix.wav", float(seconds), rate=48000)
    srt = write_srt(tmp_path / "subs.srt", [(0.5, 1.5, "Hello"), (3.0, 4.0, "again")])
    chapters = [(0.0, 2.0, "One"), (2.0, 4.5, "Two"), (4.5, float(seconds), "Three")]
    out = tmp_path / "final.mp4"
    mux_final(video, wav, out, subtitles=srt, chapters=chapters, title="Timing")
    assert_on_the_grid(out, frames)
    assert audio_seconds(out) == seconds
    info = verify_final(out, dict(width=SIZE[0], height=SIZE[1], fps=FPS, duration=float(seconds), chapters=3))
    assert [(c.start, c.title) for c in info.chapters] == [(0.0, "One"), (2.0, "Two"), (4.5, "Three")]
    assert info.chapters[-1].end == pytest.approx(float(seconds), abs=1e-6)
    # Only picture, sound and subtitles: no chapter text track for a reader to trip over.
    assert [s.type for s in info.streams] == ["video", "audio", "subtitle"]
    # Every ffmpeg reads it without a word.
    for exe in {shutil.which("ffmpeg"), _chosen()} - {None}:
        done = subprocess.run([exe, "-v", "warning", "-i", str(out), "-f", "null", "-"], capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert (done.returncode, done.stderr.strip()) == (0, ""), exe
    if shutil.which("ffprobe") is None and not IN_CI:
        return
    facts = ffprobe_facts(out)
    assert facts["warnings"] == ""
    picture = facts["streams"][0]
    assert (picture["avg_frame_rate"], picture["r_frame_rate"]) == ("24/1", "24/1")
    assert Fraction(picture["duration"]) == pytest.approx(seconds, abs=1e-6)
    assert int(picture["nb_frames"]) == frames
    assert [c["tags"]["title"] for c in facts["chapters"]] == ["One", "Two", "Three"]


def _chosen() -> str:
    from storybuild.media.ffmpeg import ffmpeg_exe

    return ffmpeg_exe()


def test_a_reencoded_mux_keeps_all_of_the_audio(tmp_path: Path, clips: list[Path]) -> None:
    # 50 frames of picture under 7 s of sound: the picture is held to the sound's length.
    out = tmp_path / "final.mp4"
    mux_final(clips[0], make_wav(tmp_path / "mix.wav", 7.0, rate=48000), out, title="t")
    assert_on_the_grid(out, 7 * FPS)
    assert audio_seconds(out) == 7


def test_clips_from_elsewhere_join_on_the_grid(tmp_path: Path, clips: list[Path]) -> None:
    # A remote animator's clips carry a millisecond movie timescale (FFmpeg 5.1's default): their
    # container durations are rounded, so the join must not start each clip where those end.
    foreign = []
    for clip in clips:
        foreign.append(tmp_path / f"foreign_{clip.name}")
        run_ffmpeg(["-i", clip, "-c", "copy", "-movie_timescale", "1000", foreign[-1]], "a foreign clip")
    out = tmp_path / "cut.mp4"
    assert join_clips(foreign, out, FPS, "cut").copied == sum(LENGTHS)
    assert_on_the_grid(out, sum(LENGTHS))
