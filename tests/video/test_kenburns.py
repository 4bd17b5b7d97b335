"""The Ken Burns animator, and long clips rendered in segments by a frame-limited backend."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from storybuild.backends.animate import ClipRequest
from storybuild.backends.animate.interface import AnimateBackend
from storybuild.backends.animate.kenburns import KINDS, KenBurnsAnimate, Move, choose_move, chunks, motion_span
from storybuild.backends.context import JobContext, job_context
from storybuild.store.cache import ArtifactCache
from storybuild.errors import BackendError
from storybuild.media.join import cuts_cleanly_at
from storybuild.media.probe import frame_count, probe
from storybuild.media.segments import segment_lengths

from . import FPS, SIZE, decode, make_png

# Once per ffmpeg on the machine (conftest.py): timing and joins must hold with each.
pytestmark = pytest.mark.usefixtures("each_ffmpeg")


def request(image: Path, frames: int, **changes: object) -> ClipRequest:
    fields = dict(image=image, frames=frames, fps=FPS, width=SIZE[0], height=SIZE[1], motion="scene-1")
    return ClipRequest(**{**fields, **changes})


def test_clip_has_exactly_the_frames_size_and_rate_asked_for(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    KenBurnsAnimate().animate(request(make_png(tmp_path / "still.png"), 37), out)
    info = probe(out)
    video = info.video
    assert (video.codec, video.pix_fmt, video.width, video.height) == ("h264", "yuv420p", *SIZE)
    assert video.fps == Fraction(FPS)
    assert frame_count(out) == 37
    assert len(decode(out)) == 37
    assert video.duration == pytest.approx(37 / FPS)
    assert info.audio is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "still.png"]


@pytest.mark.parametrize("motion", ["zoom", "pan"])
def test_the_camera_moves_slowly(tmp_path: Path, motion: str) -> None:
    kind = "zoom_in" if motion == "zoom" else "pan_right"
    scene = next(f"scene-{i}" for i in range(100) if choose_move(f"scene-{i}", 0).kind == kind)
    out = tmp_path / "clip.mp4"
    KenBurnsAnimate().animate(request(make_png(tmp_path / "still.png"), 48, motion=scene), out)
    frames = [frame.astype(np.int16) for frame in decode(out)]

    def apart(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.abs(a - b).mean())

    # The picture drifts steadily away from where it started, never in one jump.
    drift = [apart(frames[0], frames[i]) for i in (12, 24, 47)]
    assert 5 < drift[0] < drift[1] < drift[2]
    assert max(apart(a, b) for a, b in zip(frames, frames[1:])) < drift[2] / 2


def test_same_request_gives_the_same_frames(tmp_path: Path) -> None:
    still = make_png(tmp_path / "still.png")
    first, second = tmp_path / "a.mp4", tmp_path / "b.mp4"
    KenBurnsAnimate().animate(request(still, 20, seed=3), first)
    KenBurnsAnimate().animate(request(still, 20, seed=3), second)
    assert all(np.array_equal(a, b) for a, b in zip(decode(first), decode(second), strict=True))
    # x264 is deterministic for a given thread count, and the muxer writes no creation time.
    assert first.read_bytes() == second.read_bytes()


def test_any_aspect_ratio_fills_the_requested_size(tmp_path: Path) -> None:
    still = make_png(tmp_path / "square.png", size=(200, 200))
    out = tmp_path / "clip.mp4"
    KenBurnsAnimate().animate(request(still, 3), out)
    assert (probe(out).video.width, probe(out).video.height) == SIZE


def test_single_frame_clip(tmp_path: Path) -> None:
    out = tmp_path / "one.mp4"
    KenBurnsAnimate().animate(request(make_png(tmp_path / "still.png"), 1), out)
    assert frame_count(out) == 1


def test_move_is_a_stable_function_of_scene_and_seed() -> None:
    # A fixed expectation: Python's salted hash() would change it between runs.
    assert choose_move("scene-1", 0) == Move("zoom_out", 0.3488, 0.3583)
    assert choose_move("scene-1", 0) != choose_move("scene-1", 1)
    assert set(Counter(choose_move(f"scene-{i}", 0).kind for i in range(200))) == set(KINDS)


def test_options_are_validated_and_in_the_recipe() -> None:
    with pytest.raises(ValidationError):
        KenBurnsAnimate({"zooom": 1.2})
    with pytest.raises(ValidationError):
        KenBurnsAnimate({"crf": 80})
    recipe = KenBurnsAnimate.recipe({"zoom": 1.2})
    assert recipe["backend"] == "kenburns" and recipe["version"] == "3"
    assert recipe["options"] == {"zoom": 1.2, "oversample": 2.0, "preset": "veryfast", "crf": 20}


def test_missing_image_is_a_backend_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="no image"):
        KenBurnsAnimate().animate(request(tmp_path / "absent.png", 5), tmp_path / "clip.mp4")
    assert not (tmp_path / "clip.mp4").exists()


def test_segment_lengths_are_few_and_even() -> None:
    assert segment_lengths(60, 24) == [20, 20, 20]
    assert segment_lengths(49, 24) == [17, 16, 16]
    assert segment_lengths(24, 24) == [24]
    assert all(sum(segment_lengths(n, 24)) == n for n in range(1, 200))


class LimitedAnimate(KenBurnsAnimate):
    """A test double of a remote animator that makes at most 24 frames per call."""

    name = "limited"
    max_frames = 24
    animate = AnimateBackend.animate  # the interface's: segments chained through render_segment, as remote ones do

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, int, Path, np.ndarray]] = []

    def render_segment(self, request: ClipRequest, out: Path) -> None:
        from PIL import Image

        start = np.asarray(Image.open(request.image).convert("RGB"))
        self.calls.append((request.frames, request.seed, Path(request.image), start))
        super().render_segment(request, out)


def test_long_clip_is_made_in_segments_that_chain(tmp_path: Path) -> None:
    still = make_png(tmp_path / "still.png")
    out = tmp_path / "long.mp4"
    backend = LimitedAnimate()
    backend.animate(request(still, 60, seed=5), out)
    assert [(frames, seed) for frames, seed, _, _ in backend.calls] == [(20, 5), (20, 6), (20, 7)]
    assert backend.calls[0][2] == still
    frames = decode(out)
    assert len(frames) == 60 and frame_count(out) == 60
    # Each later segment starts from the previous segment's last frame (as a PNG of it).
    assert np.array_equal(backend.calls[1][3], frames[19])
    assert np.array_equal(backend.calls[2][3], frames[39])
    assert probe(out).video.fps == Fraction(FPS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4", "still.png"]


def test_segments_carry_the_keyframes_asked_of_the_clip(tmp_path: Path) -> None:
    out = tmp_path / "long.mp4"
    LimitedAnimate().animate(request(make_png(tmp_path / "still.png"), 60, keyframes=[30]), out)
    # Segments of 20 start on keyframes; frame 30 is frame 10 of the second segment.
    assert cuts_cleanly_at(out, 30, FPS) and cuts_cleanly_at(out, 20, FPS)
    assert not cuts_cleanly_at(out, 14, FPS)


def test_short_clip_is_one_call(tmp_path: Path) -> None:
    backend = LimitedAnimate()
    backend.animate(request(make_png(tmp_path / "still.png"), 24), tmp_path / "clip.mp4")
    assert len(backend.calls) == 1


def test_a_named_camera_move_is_the_move_made() -> None:
    from storybuild.backends.animate.kenburns import KINDS, choose_move

    for name, kind in (("zoom in", "zoom_in"), ("Zoom out", "zoom_out"), ("pan left", "pan_left"),
                       ("pan-right", "pan_right")):
        assert {choose_move(name, seed).kind for seed in range(8)} == {kind}
    assert len({choose_move("harbor", seed).kind for seed in range(40)}) == len(KINDS)  # ids still vary


def test_the_move_is_planned_over_spans_that_grow_in_steps() -> None:
    assert motion_span(1, 24) == motion_span(48, 24) == 48
    assert [motion_span(n, 24) for n in (49, 60, 61)] == [60, 60, 75]
    assert all(n <= motion_span(n, 24) < 1.26 * max(n, 48) for n in range(1, 3000))
    assert chunks(400, 24) == [(0, 192), (192, 192), (384, 16)]


def _chunks_made(cache: ArtifactCache) -> int:
    return sum(1 for _ in cache.root.glob("??/*"))


def test_a_slightly_longer_clip_re_encodes_only_its_last_chunks(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("storybuild.backends.animate.kenburns.CHUNK_SECONDS", 1)  # chunks of FPS frames
    still = make_png(tmp_path / "still.png")
    cache = ArtifactCache(tmp_path / "cache")
    context = JobContext(stage="animate", item="t/s", key="k", state_dir=tmp_path, cache=cache)
    assert motion_span(3 * FPS + 6, FPS) == motion_span(3 * FPS + 12, FPS)  # same span: the same move
    rendered: list[int] = []
    original = KenBurnsAnimate._render
    monkeypatch.setattr(KenBurnsAnimate, "_render",
                        lambda self, r, out, start, span: (rendered.append(start), original(self, r, out, start, span)))
    short, long = tmp_path / "short.mp4", tmp_path / "long.mp4"
    with job_context(context):
        KenBurnsAnimate().animate(request(still, 3 * FPS + 6, keyframes=[3]), short)
        assert rendered == [0, FPS, 2 * FPS, 3 * FPS] and _chunks_made(cache) == 4
        rendered.clear()
        KenBurnsAnimate().animate(request(still, 3 * FPS + 12, keyframes=[3]), long)
    assert rendered == [3 * FPS]  # the first three chunks came from the cache
    assert frame_count(long) == 3 * FPS + 12 and cuts_cleanly_at(long, 3, FPS)
    first, second = decode(short), decode(long)
    assert all(np.array_equal(a, b) for a, b in zip(first[: 3 * FPS], second[: 3 * FPS]))  # the chunks reused
    # Without a cache (outside a build) the clip is the same, every chunk encoded.
    plain = tmp_path / "plain.mp4"
    KenBurnsAnimate().animate(request(still, 3 * FPS + 12, keyframes=[3]), plain)
    assert plain.read_bytes() == long.read_bytes()
