"""The animation interface every animation backend implements.

Remote animators (LTX-Video, Wan) make a few seconds per call, so ``animate`` splits a long scene
into segments of at most ``max_frames`` each, starts every segment from the previous one's last
frame, and joins them; a backend only implements ``render_segment``.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel

from ..base import Backend


class ClipRequest(BaseModel):
    """One clip to make from a still image.

    ``keyframes`` are frame indices that should start a closed group of pictures, so a join can
    stream-copy the clip from there (a crossfade re-encodes only the frames before it). A backend
    that cannot place keyframes may ignore it: the join then re-encodes the clip instead.
    """

    image: Path
    frames: int
    fps: int
    width: int
    height: int
    seed: int = 0
    motion: str = ""
    prompt: str = ""
    keyframes: list[int] = []


class AnimateBackend(Backend):
    """Turns a still into a moving clip of an exact length."""

    max_frames: ClassVar[int | None] = None

    def animate(self, request: ClipRequest, out: Path) -> None:
        """Write an mp4 of exactly ``request.frames`` frames to ``out``, in segments if needed."""
        from ...media.segments import render_in_segments

        render_in_segments(self, request, out)

    @abstractmethod
    def render_segment(self, request: ClipRequest, out: Path) -> None:
        """Write one mp4 of exactly ``request.frames`` frames (at most ``max_frames``) to ``out``."""
