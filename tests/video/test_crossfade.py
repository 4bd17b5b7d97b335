"""Cross-fades that encode only the fading frames and copy the rest, on real Ken Burns clips."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from storybuild.backends.animate import ClipRequest
from storybuild.backends.animate.kenburns import KenBurnsAnimate
from storybuild.media.ffmpeg import run_ffmpeg
from storybuild.media.join import JoinResult, cuts_cleanly_at, join_clips
from storybuild.media.probe import frame_count, parameter_sets

from . import FPS, SIZE, decode, make_clip, make_png

# Once per ffmpeg on the machine (conftest.py): timing and joins must hold with each.
pytestmark = pytest.mark.usefixtures("each_ffmpeg")

FADE = 0.25
K = round(FADE * FPS)  # 6 frames


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = float(np.mean((a.astype(float) - b.astype(float)) ** 2))
    return 10 * np.log10(255**2 / error) if error else float("inf")


def timestamps(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ticks = round(1 / (stream.time_base * FPS))
        return sorted(round(p.pts / ticks) for p in container.demux(stream) if p.size)


def keyframe_indices(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        return sorted(round(p.pts * stream.time_base * FPS) for p in packets if p.is_keyframe)


@pytest.fixture
def scenes(tmp_path: Path) -> list[Path]:
    """Three different pictures animated as the animate stage asks: a keyframe where the fade ends."""
    return [
        make_clip(tmp_path / f"c{i}.mp4", n, motion=f"s{i}", seed=i, keyframes=[K])
        for i, n in enumerate((30, 36, 28))
    ]


def test_crossfade_encodes_only_the_fading_frames(tmp_path: Path, scenes: list[Path]) -> None:
    out = tmp_path / "faded.mp4"
    result = join_clips(scenes, out, FPS, "crossfade", fade=FADE)
    assert result == JoinResult(frames=94, copied=94 - 2 * K, encoded=2 * K)
    assert frame_count(out) == 94
    assert timestamps(out) == list(range(94))
    assert parameter_sets(out) == parameter_sets(scenes[0])
    joined = decode(out)
    assert len(joined) == 94
    run_ffmpeg(["-xerror", "-i", out, "-f", "null", "-"], "decoding the join with ffmpeg")
    first, second, third = (decode(clip) for clip in scenes)
    # Copied frames are the clips' own, bit for bit: the first clip whole, the others after the fade.
    assert all(np.array_equal(a, b) for a, b in zip(joined[:30], first, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(joined[30 + K : 66], second[K:], strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(joined[66 + K :], third[K:], strict=True))
    for boundary, before, after in ((30, first, second), (66, second, third)):
        # The fade starts exactly at the boundary, from the held last frame of the clip before,
        # and mixes in the next clip's own frames linearly until its frame k shows alone.
        assert psnr(joined[boundary], before[-1]) > 30 > 15 > psnr(joined[boundary], after[0])
        for i in range(K):
            blend = before[-1] * (1 - i / K) + after[i] * (i / K)
            assert psnr(joined[boundary + i], blend) > 30
        middle = joined[boundary + K // 2]
        assert max(psnr(middle, before[-1]), psnr(middle, after[K // 2])) < 20
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_crossfade_looks_the_same_either_way(tmp_path: Path, scenes: list[Path]) -> None:
    plain = [make_clip(tmp_path / f"p{i}.mp4", n, motion=f"s{i}", seed=i) for i, n in enumerate((30, 36, 28))]
    fast, slow = tmp_path / "fast.mp4", tmp_path / "slow.mp4"
    assert join_clips(scenes, fast, FPS, "crossfade", fade=FADE).encoded == 2 * K
    assert join_clips(plain, slow, FPS, "crossfade", fade=FADE).encoded == 36 + 28
    # Only encoding noise apart: the fast path changes the cost, not the picture.
    assert min(psnr(a, b) for a, b in zip(decode(fast), decode(slow), strict=True)) > 30


def test_clips_without_the_keyframe_are_faded_whole(tmp_path: Path, scenes: list[Path]) -> None:
    plain = make_clip(tmp_path / "plain.mp4", 20, motion="p", seed=9)
    assert not cuts_cleanly_at(plain, K, FPS)
    out = tmp_path / "mixed.mp4"
    result = join_clips([scenes[0], plain, scenes[2]], out, FPS, "crossfade", fade=FADE)
    assert result == JoinResult(frames=78, copied=30 + 28 - K, encoded=20 + K)
    assert len(decode(out)) == frame_count(out) == 78
    assert timestamps(out) == list(range(78))


def test_clips_encoded_otherwise_fall_back_to_a_full_reencode(tmp_path: Path) -> None:
    # crf 18 changes the PPS, so the faded frames (crf 20) cannot join the copied ones.
    still = make_png(tmp_path / "still.png")
    clips = []
    for i, n in enumerate((20, 24)):
        request = ClipRequest(image=still, frames=n, fps=FPS, width=SIZE[0], height=SIZE[1], keyframes=[K])
        clips.append(tmp_path / f"crf18_{i}.mp4")
        KenBurnsAnimate({"crf": 18}).animate(request, clips[-1])
    assert cuts_cleanly_at(clips[1], K, FPS)
    out = tmp_path / "out.mp4"
    assert join_clips(clips, out, FPS, "crossfade", fade=FADE) == JoinResult(44, 0, 44)
    assert len(decode(out)) == frame_count(out) == 44
    # With the clips' own settings the fast path is taken again.
    assert join_clips(clips, out, FPS, "crossfade", fade=FADE, crf=18).encoded == K


def test_a_clip_no_longer_than_the_fade_is_all_fade(tmp_path: Path, scenes: list[Path]) -> None:
    short = make_clip(tmp_path / "short.mp4", K, motion="short", seed=5)
    out = tmp_path / "out.mp4"
    result = join_clips([scenes[0], short, scenes[1]], out, FPS, "crossfade", fade=FADE)
    assert result == JoinResult(frames=30 + K + 36, copied=30 + 36 - K, encoded=2 * K)
    assert len(decode(out)) == frame_count(out) == 30 + K + 36


def test_cut_reports_a_copy(tmp_path: Path, scenes: list[Path]) -> None:
    assert join_clips(scenes, tmp_path / "cut.mp4", FPS, "cut") == JoinResult(94, 94, 0)


def test_kenburns_places_the_keyframes_asked_for(tmp_path: Path) -> None:
    with_key = make_clip(tmp_path / "key.mp4", 40, keyframes=[14, 90])
    without = make_clip(tmp_path / "plain.mp4", 40)
    assert keyframe_indices(with_key) == [0, 14]
    assert keyframe_indices(without) == [0]
    assert cuts_cleanly_at(with_key, 14, FPS) and not cuts_cleanly_at(without, 14, FPS)
    assert parameter_sets(with_key) == parameter_sets(without)
