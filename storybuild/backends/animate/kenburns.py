"""The embedded animator: a slow Ken Burns zoom or pan over the still, made by one ffmpeg call.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...errors import BackendError
from ...media.encoding import h264_args, mp4_args
from ...media.ffmpeg import run_ffmpeg, work_timeout
from ...store.atomic import atomic_output
from .interface import AnimateBackend, ClipRequest

__all__ = ["KenBurnsAnimate", "KenBurnsOptions", "Move", "choose_move"]

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


def _zoompan(move: Move, zoom: float, request: ClipRequest) -> str:
    progress = f"on/{request.frames - 1}" if request.frames > 1 else "0"
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
    version = "2"
    Options = KenBurnsOptions
    max_frames = None

    def render_segment(self, request: ClipRequest, out: Path) -> None:
        """Write an H.264 mp4 of exactly ``request.frames`` frames panning over ``request.image``."""
        if request.frames < 1:
            raise BackendError(f"kenburns: a clip needs at least one frame, not {request.frames}")
        if not Path(request.image).is_file():
            raise BackendError(f"kenburns: no image at {request.image}")
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
                _zoompan(move, options.zoom, request),
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
