"""Long clips from animators that make only a few seconds at a time.

A remote image-to-video model has a frame limit, so a scene is cut into nearly equal segments
(equal, so the last is never a two-frame stub the model handles badly); each segment starts
from the previous one's last frame, which keeps the motion continuous, and the segments are
joined by stream copy since one backend encodes them all alike. Every segment starts on a
keyframe, and the keyframes the request asks for inside a segment are asked of that segment.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BackendError
from .ffmpeg import run_ffmpeg
from .probe import frame_count
from .join import join_clips

if TYPE_CHECKING:
    from ..backends.animate.interface import AnimateBackend, ClipRequest

__all__ = ["render_in_segments", "segment_lengths"]


def segment_lengths(frames: int, max_frames: int) -> list[int]:
    """``frames`` split into the fewest segments of at most ``max_frames``, as equal as possible."""
    count = -(-frames // max_frames)
    base, extra = divmod(frames, count)
    return [base + 1 if i < extra else base for i in range(count)]


def last_frame_png(clip: Path, png: Path) -> None:
    """Write the last frame of ``clip`` to ``png``.

    Seeking half a second before the end and letting every later frame overwrite the image
    decodes only the tail, and needs no frame count or timestamp arithmetic.
    """
    run_ffmpeg(
        ["-sseof", "-0.5", "-i", clip, "-map", "0:v:0", "-update", "1", "-c:v", "png", png],
        f"taking the last frame of {clip.name}",
    )
    if not png.is_file():
        raise BackendError(f"no last frame could be read from {clip}")


def render_in_segments(backend: AnimateBackend, request: ClipRequest, out: Path) -> None:
    """Make ``out`` with exactly ``request.frames`` frames, in segments of ``backend.max_frames``."""
    out = Path(out)
    limit = backend.max_frames
    if limit is None or request.frames <= limit:
        backend.render_segment(request, out)
        return
    lengths = segment_lengths(request.frames, limit)
    parts = [out.with_name(f".{out.stem}.seg{i}.mp4") for i in range(len(lengths))]
    stills = [out.with_name(f".{out.stem}.seg{i}.png") for i in range(len(lengths))]
    try:
        image, start = request.image, 0
        for i, (length, part) in enumerate(zip(lengths, parts)):
            # A different seed per segment, so a sampler does not repeat itself every few seconds.
            keyframes = [n - start for n in request.keyframes if start < n < start + length]
            update = {"frames": length, "image": image, "seed": request.seed + i, "keyframes": keyframes}
            segment = request.model_copy(update=update)
            start += length
            backend.render_segment(segment, part)
            made = frame_count(part)
            if made != length:
                raise BackendError(
                    f"{backend.name}: segment {i} of {out.name} has {made} frames, not {length}"
                )
            if i < len(lengths) - 1:
                last_frame_png(part, stills[i])
                image = stills[i]
        join_clips(parts, out, request.fps, "cut")
    finally:
        for path in parts + stills:
            path.unlink(missing_ok=True)
