"""The embedded animator: a slow Ken Burns zoom or pan over the still, made by ffmpeg.

A clip is encoded in chunks of CHUNK_SECONDS, each by its own ffmpeg call and kept in the
artifact cache, then joined by stream copy. The move is planned over a span of frames that
changes only in 25% steps, so when an edit makes a scene slightly longer, every chunk before the
old end is the same and comes from the cache: a one-line edit re-encodes a few seconds, not the
scene.

The still is decoded once (``-loop 1`` would decode the PNG again for every frame) and
``zoompan`` emits all ``request.frames`` frames from that single picture. zoompan places its
crop window on whole input pixels, so on an image the size of the output a slow zoom visibly
steps; scaling the still up first (``oversample``) makes each step a fraction of an output
pixel. Measured with a tracked edge at 720p: 0.6 px RMS jitter at 1x, 0.3 px at 2x, 0.2 px at
3x, while zoompan's cost grows from ~4% to ~10% to ~25% of an encode's CPU time: 2x is the
default. On 2 cores a 20 s clip encodes at ~3.9x real time at 720p and ~1.7x at 1080p; x264
dominates. x264 runs a fixed number of threads (media/encoding.py), so the bytes do not depend
on the machine's cores; on 2 cores that cost nothing measurable (bench/ffmpeg_determinism.py).
The move is picked from a stable hash of the scene id and seed, so a rebuild gives the same
picture and neighbouring scenes differ.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...errors import BackendError
from ...media.encoding import h264_args, mp4_args
from ...media.ffmpeg import run_ffmpeg, work_timeout
from ...store.hashing import digest, file_digest
from ...store.tools import identity
from ..context import current_job
from ...store.atomic import atomic_output
from .interface import AnimateBackend, ClipRequest

__all__ = ["KenBurnsAnimate", "KenBurnsOptions", "Move", "choose_move", "chunks", "motion_span"]

KINDS = ("zoom_in", "zoom_out", "pan_right", "pan_left")

X264Preset = Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"]


class KenBurnsOptions(BaseModel):
    """How far the camera moves and how the clip is encoded."""

    model_config = ConfigDict(extra="forbid")

    # The widest crop is 1/zoom of the picture: 1.12 moves ~12% of the frame over a scene.
    zoom: float = Field(1.12, ge=1.0, le=2.0)
    oversample: float = Field(2.0, ge=1.0, le=4.0)
    # veryfast: ~20% more CPU than superfast for less than half the bytes at the same CRF.
    preset: X264Preset = "veryfast"
    crf: int = Field(20, ge=0, le=51)


@dataclass(frozen=True)
class Move:
    """A camera move: its kind and the point (fractions of the picture) a zoom keeps still."""

    kind: str
    focus_x: float
    focus_y: float


def choose_move(motion: str, seed: int) -> Move:
    """The camera move for a scene: the one its scene prompt names ("zoom in", "pan left"...), else
    a stable function of its id and seed (never ``hash()``); the focus always follows the seed."""
    digest = hashlib.sha256(f"kenburns\0{motion}\0{seed}".encode()).digest()
    named = motion.strip().lower().replace("-", " ").replace(" ", "_")
    kind = named if named in KINDS else KINDS[digest[0] % len(KINDS)]
    # Focus stays near the middle, where illustrations put their subject.
    focus_x = 0.3 + 0.4 * int.from_bytes(digest[1:3], "big") / 0xFFFF
    focus_y = 0.3 + 0.4 * int.from_bytes(digest[3:5], "big") / 0xFFFF
    return Move(kind, round(focus_x, 4), round(focus_y, 4))


# A clip is encoded in chunks of this many seconds, each on its own and kept in the artifact cache:
# when a line edit makes a scene a little longer or shorter, only the chunks from the one holding
# its old end on are encoded again (a 20 s clip: ~1.5 s instead of ~5 s; chunking costs a full
# build ~15% more encoding, measured in bench/video_build.py).
CHUNK_SECONDS = 8
# The move is planned over a span of frames from this series, not over the clip's own length, so a
# small change of length leaves every earlier frame as it was. Steps of 25% keep any clip's move
# between 80% and 100% of the full one.
SPAN_START_SECONDS = 2
SPAN_STEP = 1.25


def motion_span(frames: int, fps: int) -> int:
    """How many frames the move is planned over: the first of the series that is at least ``frames``."""
    span = SPAN_START_SECONDS * fps
    while span < frames:
        span = math.ceil(span * SPAN_STEP)
    return span


def chunks(frames: int, fps: int) -> list[tuple[int, int]]:
    """(first frame, length) of each chunk a clip of ``frames`` is encoded in."""
    size = CHUNK_SECONDS * fps
    return [(start, min(size, frames - start)) for start in range(0, frames, size)]


def _zoompan(move: Move, zoom: float, request: ClipRequest, start: int = 0, span: int | None = None) -> str:
    span = request.frames if span is None else span
    progress = f"(on+{start})/{span - 1}" if span > 1 else "0"
    grow = f"{zoom - 1:.6f}"
    if move.kind == "zoom_in":
        z = f"1+{grow}*{progress}"
    elif move.kind == "zoom_out":
        z = f"{zoom:.6f}-{grow}*{progress}"
    else:
        z = f"{zoom:.6f}"
    # Inside x/y, ``zoom`` is this frame's zoom, so iw-iw/zoom is the room the crop can move in.
    if move.kind == "pan_right":
        x = f"(iw-iw/zoom)*{progress}"
    elif move.kind == "pan_left":
        x = f"(iw-iw/zoom)*(1-{progress})"
    else:
        x = f"(iw-iw/zoom)*{move.focus_x}"
    y = f"(ih-ih/zoom)*{move.focus_y}"
    return (
        f"zoompan=z='{z}':x='{x}':y='{y}':d={request.frames}"
        f":s={request.width}x{request.height}:fps={request.fps}"
    )


class KenBurnsAnimate(AnimateBackend):
    """Animates a still with a slow, deterministic zoom or pan; no model, no network."""

    name = "kenburns"
    version = "3"
    Options = KenBurnsOptions
    max_frames = None

    def animate(self, request: ClipRequest, out: Path) -> None:
        """Write the clip chunk by chunk, taking each chunk made before from the cache (see CHUNK_SECONDS)."""
        if request.frames < 1:
            raise BackendError(f"kenburns: a clip needs at least one frame, not {request.frames}")
        if not Path(request.image).is_file():
            raise BackendError(f"kenburns: no image at {request.image}")
        parts = chunks(request.frames, request.fps)
        span = motion_span(request.frames, request.fps)
        if len(parts) == 1:
            self._render(request, Path(out), 0, span)
            return
        job = current_job()
        cache = getattr(job, "cache", None)
        files = [Path(out).with_name(f".{Path(out).stem}.chunk{i}.mp4") for i in range(len(parts))]
        try:
            image = file_digest(request.image) if cache is not None else ""
            for (start, length), file in zip(parts, files):
                keyframes = [n - start for n in request.keyframes if start < n < start + length]
                chunk = request.model_copy(update={"frames": length, "keyframes": keyframes})
                key = digest({
                    "kenburns chunk": self.version, "options": self.options.model_dump(mode="json"),
                    "image": image, "move": choose_move(request.motion, request.seed).__dict__,
                    "size": [request.width, request.height], "fps": request.fps, "span": span,
                    "start": start, "frames": length, "keyframes": keyframes, "ffmpeg": identity("ffmpeg"),
                })
                if cache is not None and cache.fetch(key, {"chunk.mp4": file}):
                    continue
                self._render(chunk, file, start, span)
                if cache is not None:
                    cache.store(key, {"chunk.mp4": file}, {"stage": "animate", "item": "kenburns chunk"}, push=False)
            from ...media.join import join_clips  # PyAV: imported only when a clip is joined

            join_clips(files, Path(out), request.fps, "cut")
        finally:
            for file in files:
                file.unlink(missing_ok=True)

    def render_segment(self, request: ClipRequest, out: Path) -> None:
        """Write an H.264 mp4 of exactly ``request.frames`` frames panning over ``request.image``."""
        if request.frames < 1:
            raise BackendError(f"kenburns: a clip needs at least one frame, not {request.frames}")
        if not Path(request.image).is_file():
            raise BackendError(f"kenburns: no image at {request.image}")
        self._render(request, Path(out), 0, motion_span(request.frames, request.fps))

    def _render(self, request: ClipRequest, out: Path, start: int, span: int) -> None:
        """Encode ``request.frames`` frames of the move planned over ``span``, from frame ``start`` on."""
        options: KenBurnsOptions = self.options  # type: ignore[assignment]
        move = choose_move(request.motion, request.seed)
        # Even sizes keep every scaler happy; cover-then-crop fits any aspect ratio to the output's.
        big_w = int(request.width * options.oversample) // 2 * 2
        big_h = int(request.height * options.oversample) // 2 * 2
        graph = ",".join(
            [
                f"scale={big_w}:{big_h}:force_original_aspect_ratio=increase:flags=lanczos",
                f"crop={big_w}:{big_h}",
                "setsar=1",
                _zoompan(move, options.zoom, request, start, span),
                # After zoompan: in yuv420p zoompan would round its window to even pixels.
                "format=yuv420p",
            ]
        )
        # x264 makes a forced keyframe an IDR picture (closed GOP), which a join can copy from.
        marks = sorted({0, *(n for n in request.keyframes if 0 < n < request.frames)})
        keys = ["-force_key_frames", "expr:" + "+".join(f"eq(n,{n})" for n in marks)]
        with atomic_output(out) as part:
            run_ffmpeg(
                [
                    "-i", request.image,
                    "-vf", graph,
                    "-frames:v", str(request.frames),
                    *h264_args(options.crf, options.preset),
                    *(keys if len(marks) > 1 else []),
                    "-an", "-sn", "-dn",
                    *mp4_args(request.fps),
                    part,
                ],
                f"kenburns clip {Path(out).name}",
                # Scaling and zoompan work on the oversampled picture, so it sets the time allowed.
                timeout=work_timeout(request.frames, big_w, big_h),
            )  # fmt: skip
