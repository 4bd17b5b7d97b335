"""Conforming and checking what a model returned, on real pictures, clips and sounds."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from storybuild.errors import BadTake
from storybuild.media.checks import check_clip, check_image, check_sound, check_speech, speech_bounds
from storybuild.media.conform import conform_audio, conform_clip, conform_image, stitch_side_by_side
from storybuild.media.ffmpeg import ffmpeg_exe
from storybuild.media.probe import frame_count, probe


def _clip(path: Path, frames: int, fps: int, size: str = "96x64", source: str = "testsrc2") -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"{source}{':' if '=' in source else '='}s={size}:r={fps}",
         "-frames:v", str(frames), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=60,
    )
    return path


def _frame_means(path: Path) -> list[float]:
    import av

    with av.open(str(path)) as container:
        return [float(f.to_ndarray(format="gray").mean()) for f in container.decode(video=0)]


def test_a_wrong_sized_picture_is_scaled_to_cover_and_centre_cropped(tmp_path: Path) -> None:
    src = tmp_path / "model.png"
    pixels = np.zeros((100, 300, 3), np.uint8)
    pixels[:, 100:200] = 255  # a white middle third: after a centre crop to 2:3 it fills the frame
    Image.fromarray(pixels).save(src)
    out = tmp_path / "out.png"
    conform_image(src, out, 64, 96)
    with Image.open(out) as picture:
        assert picture.size == (64, 96) and picture.mode == "RGB"
        grey = np.asarray(picture.convert("L"), dtype=float)
    assert grey[:, 8:-8].mean() > 250  # no letterbox bars, no black side strips


def test_portraits_are_stitched_side_by_side_at_one_height(tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.new("RGB", (512, 768), "red").save(a)
    Image.new("RGB", (200, 100), "blue").save(b)
    stitch_side_by_side([a, b], tmp_path / "ref.png", height=300)
    with Image.open(tmp_path / "ref.png") as sheet:
        assert sheet.size == (200 + 600, 300)
        assert sheet.getpixel((10, 150))[0] > 200 and sheet.getpixel((700, 150))[2] > 200


@pytest.mark.parametrize("made, fps_in", [(97, 24), (40, 24), (70, 16), (50, 30)])
def test_a_clip_of_the_wrong_length_gets_exactly_the_frames_asked_for(tmp_path: Path, made: int, fps_in: int) -> None:
    src = _clip(tmp_path / "model.mp4", made, fps_in)
    out = tmp_path / "clip.mp4"
    conform_clip(src, out, 60, 24, 128, 72, keyframes=[14])
    info = probe(out)
    assert frame_count(out) == 60
    assert (info.video.width, info.video.height, info.video.fps) == (128, 72, 24)
    assert info.audio is None


def test_a_short_clip_is_retimed_across_the_whole_length_not_frozen(tmp_path: Path) -> None:
    src = _clip(tmp_path / "half.mp4", 30, 24)  # a draft: half the frames
    out = tmp_path / "clip.mp4"
    conform_clip(src, out, 60, 24, 96, 64)
    means = _frame_means(out)
    assert len(means) == 60
    # Retimed: the second half still moves (a padded clip would hold one frame for 30 frames).
    assert len({round(m, 3) for m in means[30:]}) > 5


def test_drop_first_removes_the_seam_frame(tmp_path: Path) -> None:
    src = _clip(tmp_path / "seg.mp4", 25, 24)
    out = tmp_path / "clip.mp4"
    conform_clip(src, out, 24, 24, 96, 64, drop_first=True)
    whole = _frame_means(src)
    cut = _frame_means(out)
    assert len(cut) == 24
    assert abs(cut[0] - whole[1]) < abs(cut[0] - whole[0]) or abs(whole[0] - whole[1]) < 0.01


def test_stereo_44k_audio_becomes_a_mono_wav(tmp_path: Path) -> None:
    rate = 44100
    t = np.arange(rate * 2) / rate
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 440 * t)], axis=1)
    src = tmp_path / "model.flac"
    soundfile.write(src, stereo, rate)
    out = tmp_path / "line.wav"
    conform_audio(src, out)
    info = soundfile.info(out)
    assert (info.channels, info.samplerate, info.format) == (1, 44100, "WAV")
    assert abs(info.frames - 2 * rate) <= 1
    sfx = tmp_path / "cue.wav"
    conform_audio(src, sfx, mono=False, duration=0.75)
    info = soundfile.info(sfx)
    assert info.channels == 2 and info.frames == round(0.75 * rate)
    conform_audio(src, sfx, mono=False, duration=3.0)  # padded with silence, exactly
    data, _ = soundfile.read(sfx)
    assert len(data) == 3 * rate and np.abs(data[-rate // 2:]).max() < 1e-3


def test_a_blank_picture_is_a_bad_take_and_a_real_one_is_not(tmp_path: Path) -> None:
    Image.new("RGB", (64, 64), (0, 0, 0)).save(tmp_path / "black.png")
    with pytest.raises(BadTake, match="flat colour"):
        check_image(tmp_path / "black.png")
    noise = np.random.default_rng(1).integers(0, 256, (64, 64, 3), np.uint8)
    Image.fromarray(noise).save(tmp_path / "real.png")
    assert check_image(tmp_path / "real.png") > 30


def test_a_clip_that_does_not_move_is_a_bad_take(tmp_path: Path) -> None:
    still = _clip(tmp_path / "still.mp4", 24, 24, source="color=c=gray")
    with pytest.raises(BadTake, match="does not move"):
        check_clip(still)
    assert check_clip(_clip(tmp_path / "moving.mp4", 24, 24)) > 0.5


def test_speech_that_is_silent_or_far_too_long_is_a_bad_take(tmp_path: Path) -> None:
    rate = 24000
    silent, long, good = tmp_path / "silent.wav", tmp_path / "long.wav", tmp_path / "good.wav"
    soundfile.write(silent, np.zeros(rate, np.float32), rate)
    tone = lambda seconds: (0.2 * np.sin(np.arange(int(rate * seconds)) / 5)).astype(np.float32)  # noqa: E731
    soundfile.write(long, tone(30), rate)
    soundfile.write(good, tone(1.2), rate)
    with pytest.raises(BadTake, match="silent"):
        check_speech(silent, "Who rang it?")
    with pytest.raises(BadTake, match="lasts 30.00 s for 3 word"):
        check_speech(long, "Who rang it?")
    assert check_speech(good, "Who rang it?")[1] == pytest.approx(1.2)
    with pytest.raises(BadTake, match="silent"):
        check_sound(silent)
    low, high = speech_bounds("one two three four")
    assert low < 4 * 0.25 < high < 10
