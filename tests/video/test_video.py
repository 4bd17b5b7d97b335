"""Joining scene clips, muxing the final mp4, and verifying it, all on real files."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from storybuild.backends.animate import ClipRequest
from storybuild.backends.animate.kenburns import KenBurnsAnimate
from storybuild.errors import BackendUnavailable, MediaError, VerificationError
from storybuild.media import video
from storybuild.media.ffmpeg import run_ffmpeg
from storybuild.media.probe import Chapter, frame_count, parameter_sets, probe, subtitle_texts
from storybuild.media.video import join_clips, moov_before_mdat, mux_final, verify_final

from . import FPS, SIZE, decode, make_clip, make_png, make_wav, write_srt

# Once per ffmpeg on the machine (conftest.py): timing and joins must hold with each.
pytestmark = pytest.mark.usefixtures("each_ffmpeg")

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)
CUES = [(0.5, 1.25, "Once upon a time,"), (1.5, 3.5, "a fox found\na fiddle.")]
CHAPTERS = [(0.0, 1.5, "The fox"), (1.5, 3.0, "The fiddle"), (3.0, 4.0, "The end")]


def video_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.video[0]) if p.size]


def test_cut_copies_streams_and_keeps_every_frame(tmp_path: Path) -> None:
    clips = [make_clip(tmp_path / f"c{i}.mp4", n, motion=f"s{i}") for i, n in enumerate((10, 13, 7))]
    out = tmp_path / "joined.mp4"
    join_clips(clips, out, FPS, "cut")
    assert frame_count(out) == 30
    assert probe(out).video.duration == pytest.approx(30 / FPS)
    # Stream copy: not one pixel changed. (Packets differ only by the SPS/PPS that the concat
    # demuxer's h264_mp4toannexb conversion repeats in each keyframe.)
    joined, parts = decode(out), [frame for clip in clips for frame in decode(clip)]
    assert all(np.array_equal(a, b) for a, b in zip(joined, parts, strict=True))
    assert len(video_packets(out)) == 30
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_cut_reencodes_clips_that_differ_in_format(tmp_path: Path) -> None:
    first = make_clip(tmp_path / "a.mp4", 12)
    other = make_clip(tmp_path / "b.mp4", 9)
    odd = tmp_path / "b444.mp4"
    run_ffmpeg(["-i", other, "-c:v", "libx264", "-pix_fmt", "yuv444p", odd], "a yuv444p clip")
    out = tmp_path / "joined.mp4"
    join_clips([first, odd], out, FPS, "cut")
    video = probe(out).video
    assert (frame_count(out), video.pix_fmt, video.fps) == (21, "yuv420p", Fraction(FPS))


def test_crossfade_starts_at_the_boundary_and_keeps_the_length(tmp_path: Path) -> None:
    lengths = (24, 30, 20)
    colors = (RED, BLUE, GREEN)
    clips = [make_clip(tmp_path / f"c{i}.mp4", n, color=c) for i, (n, c) in enumerate(zip(lengths, colors))]
    out = tmp_path / "faded.mp4"
    # Clips without a keyframe where the fade ends are re-encoded whole (the first is copied).
    assert join_clips(clips, out, FPS, "crossfade", fade=0.25).encoded == 30 + 20
    frames = decode(out)
    assert len(frames) == sum(lengths) == frame_count(out)
    blue = [int(frame[90, 160, 2]) for frame in frames]
    green = [int(frame[90, 160, 1]) for frame in frames]
    # Frames up to the boundary are the red scene; blue rises from the boundary over 6 frames.
    assert max(blue[:25]) < 8
    assert blue[24] < blue[25] < blue[26] < blue[27] < blue[28] < blue[29] < blue[30]
    assert min(blue[30:54]) > 245
    assert max(green[:55]) < 8 and green[55] > 20 and min(green[60:]) > 245


def test_clips_encoded_differently_are_reencoded_to_one_valid_track(tmp_path: Path) -> None:
    # ultrafast turns CABAC and B-frames off, so its SPS/PPS differ from the default clips'.
    still = make_png(tmp_path / "still.png")
    odd = tmp_path / "odd.mp4"
    request = ClipRequest(image=still, frames=12, fps=FPS, width=SIZE[0], height=SIZE[1], motion="odd")
    KenBurnsAnimate({"preset": "ultrafast"}).animate(request, odd)
    usual = make_clip(tmp_path / "usual.mp4", 10)
    assert parameter_sets(odd) != parameter_sets(usual)
    for transition in ("cut", "crossfade"):
        out = tmp_path / f"{transition}.mp4"
        join_clips([odd, usual], out, FPS, transition, fade=0.25)
        assert frame_count(out) == 22
        assert parameter_sets(out) == parameter_sets(usual)
        assert len(decode(out)) == 22


def test_crossfade_of_one_clip_is_the_clip(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", 8)
    join_clips([clip], tmp_path / "out.mp4", FPS, "crossfade", fade=0.5)
    assert (tmp_path / "out.mp4").read_bytes() == clip.read_bytes()


def test_join_refuses_mixed_sizes_and_empty_lists(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", 5)
    big = tmp_path / "big.mp4"
    run_ffmpeg(["-i", clip, "-vf", "scale=640:360", "-c:v", "libx264", big], "a big clip")
    with pytest.raises(MediaError, match="different sizes"):
        join_clips([clip, big], tmp_path / "out.mp4", FPS, "cut")
    with pytest.raises(MediaError, match="nothing to join"):
        join_clips([], tmp_path / "out.mp4", FPS, "cut")
    assert not (tmp_path / "out.mp4").exists()


@pytest.fixture
def scenes(tmp_path: Path) -> Path:
    """Three scenes cut together: 96 frames, 4 s at 24 fps."""
    clips = [make_clip(tmp_path / f"s{i}.mp4", n, motion=f"s{i}") for i, n in enumerate((36, 36, 24))]
    join_clips(clips, tmp_path / "scenes.mp4", FPS, "cut")
    return tmp_path / "scenes.mp4"


def test_mux_final_has_everything_a_publishable_file_needs(tmp_path: Path, scenes: Path) -> None:
    wav = make_wav(tmp_path / "mix.wav", 4.0)
    out = tmp_path / "final.mp4"
    metadata = {"artist": "storybuild", "comment": "made by a test", "language": "en"}
    srt = write_srt(tmp_path / "subs.srt", CUES)
    mux_final(scenes, wav, out, subtitles=srt, chapters=CHAPTERS, title="The Fox", metadata=metadata)
    info = probe(out)
    assert (info.video.codec, info.audio.codec, info.subtitle.codec) == ("h264", "aac", "mov_text")
    assert (info.audio.sample_rate, info.audio.channels) == (48000, 2)
    assert info.subtitle.language == info.audio.language == "eng"
    assert info.chapters == tuple(Chapter(*chapter) for chapter in CHAPTERS)
    assert [text for _, _, text in subtitle_texts(out)] == [text for _, _, text in CUES]
    times = [t for start, end, _ in subtitle_texts(out) for t in (start, end)]
    assert times == pytest.approx([t for start, end, _ in CUES for t in (start, end)], abs=1e-3)
    tags = info.tags
    assert (tags["title"], tags["artist"], tags["comment"]) == ("The Fox", "storybuild", "made by a test")
    wav_seconds = probe(wav).audio.duration
    for seconds in (info.duration, info.video.duration, info.audio.duration):
        assert abs(seconds - wav_seconds) <= 1 / FPS
    assert moov_before_mdat(out)
    # Already the audio's length: the video is copied, not re-encoded.
    assert video_packets(out) == video_packets(scenes)
    spec = dict(width=SIZE[0], height=SIZE[1], fps=FPS, duration=wav_seconds, chapters=3, subtitles=True)
    assert verify_final(out, spec).chapters == info.chapters
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("seconds", "frames", "copied"),
    [(4.5, 108, False), (3.5, 84, False), (96.4 / FPS, 96, True), (96.6 / FPS, 97, False)],
)
def test_mux_final_holds_or_trims_video_to_the_audio(
    tmp_path: Path, scenes: Path, seconds: float, frames: int, copied: bool
) -> None:
    wav = make_wav(tmp_path / "mix.wav", seconds)
    out = tmp_path / "final.mp4"
    mux_final(scenes, wav, out, title="t")
    assert frame_count(out) == frames
    assert abs(probe(out).duration - probe(wav).audio.duration) <= 1 / FPS
    assert (video_packets(out) == video_packets(scenes)) is copied
    if frames > 96:
        # The held frames repeat the last scene's final picture.
        tail = decode(out)[95:]
        assert all(np.abs(f.astype(int) - tail[0]).mean() < 1.5 for f in tail)
    spec = dict(width=SIZE[0], height=SIZE[1], fps=FPS, duration=seconds, chapters=0, subtitles=False)
    verify_final(out, spec)


@pytest.mark.parametrize("fontconfig", ["system", "no fonts"])
def test_burnt_in_subtitles_are_drawn_and_not_also_soft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fontconfig: str
) -> None:
    if fontconfig == "no fonts":
        # A slim container: fontconfig knows no font, so only the fonts pip installed can draw.
        empty = tmp_path / "fonts.conf"
        empty.write_text(
            '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
            f"<fontconfig><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>\n"
        )
        monkeypatch.setenv("FONTCONFIG_FILE", str(empty))
        # And a fonts folder whose name needs escaping at both levels of a filter graph.
        import storybuild.fonts

        odd = tmp_path / "it's: a [odd], folder; \\ yes"
        shutil.copytree(storybuild.fonts.fonts_dir(), odd)
        monkeypatch.setattr(storybuild.fonts, "fonts_dir", lambda: odd)
    clip = make_clip(tmp_path / "grey.mp4", 72, color=(128, 128, 128))
    wav = make_wav(tmp_path / "mix.wav", 3.0)
    srt = write_srt(tmp_path / "subs.srt", [(0.5, 1.5, "Burnt words")])
    out = tmp_path / "burnt.mp4"
    mux_final(clip, wav, out, subtitles=srt, title="t", burn_subtitles=True)
    assert probe(out).subtitle is None
    lower = slice(SIZE[1] * 2 // 3, None)

    def inked(frame: np.ndarray) -> int:
        return int((np.abs(frame[lower].astype(int) - 128).max(axis=2) > 40).sum())

    # Text on the grey exactly while the cue lasts (frames 12..35 = 0.5 s to 1.5 s), none elsewhere.
    ink = [inked(frame) for frame in decode(out)]
    assert min(ink[12:36]) > 50
    assert max(ink[:12] + ink[36:]) == 0
    verify_final(out, dict(width=SIZE[0], height=SIZE[1], fps=FPS, duration=3.0, subtitles=False))


def test_burning_without_libass_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(video, "has_libass", lambda: False)
    clip = make_clip(tmp_path / "c.mp4", 24)
    srt = write_srt(tmp_path / "subs.srt", [(0.1, 0.5, "words")])
    with pytest.raises(BackendUnavailable, match="libass"):
        mux_final(clip, make_wav(tmp_path / "mix.wav", 1.0), tmp_path / "out.mp4",
                  subtitles=srt, burn_subtitles=True)
    assert not (tmp_path / "out.mp4").exists()


def test_verify_final_lists_every_mismatch(tmp_path: Path, scenes: Path) -> None:
    wav = make_wav(tmp_path / "mix.wav", 4.0)
    out = tmp_path / "final.mp4"
    mux_final(scenes, wav, out, chapters=CHAPTERS, title="t")
    spec = dict(width=640, height=360, fps=FPS, duration=4.0, chapters=3, subtitles=True)
    with pytest.raises(VerificationError) as caught:
        verify_final(out, spec)
    message = str(caught.value)
    assert "no subtitle track" in message and "size 320x180, not 640x360" in message
    assert "chapters" not in message and "faststart" not in message
    with pytest.raises(VerificationError, match="size 320x180"):
        verify_final(out, {**spec, "subtitles": False})
    with pytest.raises(VerificationError) as caught:
        verify_final(scenes, {**spec, "width": 320, "height": 180})
    for problem in ("no audio stream", "no subtitle track", "0 chapters, not 3", "not faststart"):
        assert problem in str(caught.value)


def test_verify_final_catches_wrong_duration(tmp_path: Path, scenes: Path) -> None:
    out = tmp_path / "final.mp4"
    # A chapter running past the audio is cut at its end rather than lengthening the file.
    chapters = [(0, 2, "a"), (2, 9, "b"), (9, 10, "c")]
    mux_final(scenes, make_wav(tmp_path / "mix.wav", 4.0), out, chapters=chapters)
    assert probe(out).chapters == (Chapter(0, 2, "a"), Chapter(2, 4, "b"))
    verify_final(out, dict(width=320, height=180, fps=FPS, duration=4.0 + 0.4 / FPS, subtitles=False))
    # The video must have exactly the frames the audio's length rounds to, and the audio that length.
    with pytest.raises(VerificationError, match="video has 96 frames, not the 97 of 4.025s; audio lasts"):
        verify_final(out, dict(width=320, height=180, fps=FPS, duration=4.0 + 0.6 / FPS, subtitles=False))
    with pytest.raises(VerificationError, match="lasts"):
        verify_final(out, dict(width=320, height=180, fps=FPS, duration=4.2, subtitles=False))
