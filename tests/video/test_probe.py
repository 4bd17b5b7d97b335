"""Probing with PyAV: streams, exact frame counts, chapters, tags and mov_text cues."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from storybuild.errors import MediaError
from storybuild.media.ffmpeg import run_ffmpeg
from storybuild.media.probe import Chapter, frame_count, probe, subtitle_texts

from . import make_wav, write_srt

CUES = [(0.25, 1.0, "First words"), (1.5, 2.75, "Two lines,\nwith ünïcödé")]


def make_video(path: Path, frames: int = 30, fps: int = 25, size: str = "160x90") -> Path:
    """An H.264 test pattern made by ffmpeg alone, so probing is tested apart from storybuild's writers."""
    run_ffmpeg(
        ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}", "-frames:v", str(frames),
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path],
        "test pattern",
    )  # fmt: skip
    return path


@pytest.fixture
def full_mp4(tmp_path: Path) -> Path:
    """An mp4 with video, audio, a mov_text track, two chapters and a title."""
    video = make_video(tmp_path / "v.mp4", frames=75)
    audio = make_wav(tmp_path / "a.wav", 3.0)
    srt = write_srt(tmp_path / "s.srt", CUES)
    meta = tmp_path / "meta.txt"
    meta.write_text(
        ";FFMETADATA1\ntitle=Probe me\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=Opening\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=Closing\n",
        encoding="utf-8",
    )
    out = tmp_path / "full.mp4"
    run_ffmpeg(
        ["-i", video, "-i", audio, "-f", "ffmetadata", "-i", meta, "-i", srt,
         "-map", "0:v", "-map", "1:a", "-map", "3:s", "-map_metadata", "2", "-map_chapters", "2",
         "-c:v", "copy", "-c:a", "aac", "-ar", "48000", "-ac", "2", "-c:s", "mov_text",
         "-metadata:s:s:0", "language=eng", out],
        "full mp4",
    )  # fmt: skip
    return out


def test_video_stream_facts_and_exact_frame_count(tmp_path: Path) -> None:
    path = make_video(tmp_path / "v.mp4", frames=30, fps=25)
    info = probe(path)
    video = info.video
    assert (video.codec, video.width, video.height, video.pix_fmt) == ("h264", 160, 90, "yuv420p")
    assert video.fps == Fraction(25)
    assert video.duration == pytest.approx(30 / 25)
    assert info.audio is None and info.subtitle is None
    assert frame_count(path) == 30


def test_wav_duration_rate_and_channels(tmp_path: Path) -> None:
    info = probe(make_wav(tmp_path / "a.wav", 1.5, rate=22050, channels=2))
    assert info.format == "wav"
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("pcm_s16le", 22050, 2)
    assert info.audio.duration == pytest.approx(1.5, abs=1 / 22050)


def test_streams_chapters_and_tags_of_a_full_mp4(full_mp4: Path) -> None:
    info = probe(full_mp4)
    assert [s.codec for s in info.streams[:3]] == ["h264", "aac", "mov_text"]
    assert (info.audio.sample_rate, info.audio.channels) == (48000, 2)
    assert info.subtitle.language == "eng"
    assert info.chapters == (Chapter(0.0, 1.5, "Opening"), Chapter(1.5, 3.0, "Closing"))
    assert info.tags["title"] == "Probe me"
    assert info.duration == pytest.approx(3.0, abs=1 / 25)


def test_subtitle_texts_are_the_cues_without_gap_fillers(full_mp4: Path) -> None:
    cues = subtitle_texts(full_mp4)
    assert [text for _, _, text in cues] == [text for _, _, text in CUES]
    for (start, end, _), (want_start, want_end, _) in zip(cues, CUES):
        assert start == pytest.approx(want_start, abs=1e-3)
        assert end == pytest.approx(want_end, abs=1e-3)


def test_not_media_is_a_media_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 10)
    with pytest.raises(MediaError, match="junk.mp4"):
        probe(junk)
    with pytest.raises(MediaError):
        frame_count(junk)


def test_missing_tracks_are_named(tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.mp4", frames=5)
    with pytest.raises(MediaError, match="no subtitle track"):
        subtitle_texts(video)
    with pytest.raises(MediaError, match="no video stream"):
        frame_count(make_wav(tmp_path / "a.wav", 0.2))
