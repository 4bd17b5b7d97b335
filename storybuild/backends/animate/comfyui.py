"""Clips from ComfyUI image-to-video workflows (LTX-Video by default; Wan 2.2, FramePack shipped).

A scene longer than ``max_frames`` is made in segments, each starting from the previous one's
last frame. A segment after the first is asked for one frame more and its first frame (a copy of
the seam) is dropped, so the joined clip repeats no frame. Finished segments are kept under
``<state_dir>/segments/<cache key>/NNN.mp4``: the cache key covers the whole request, so a changed
request never reuses them, and a crash in segment 7 of 9 makes only segment 7 again.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from pydantic import Field

from ...errors import BackendError
from ...store.atomic import temp_path
from ..comfyui import ComfyUIBackend, ComfyUIOptions
from ..context import current_job
from .interface import AnimateBackend, ClipRequest

__all__ = ["ComfyUIAnimate", "ComfyUIAnimateOptions"]


class ComfyUIAnimateOptions(ComfyUIOptions):
    """The image-to-video workflow, its segment limit, and how the result is encoded."""

    max_frames: int | None = Field(None, ge=2, description="frames per call; default: the map's, else 121")
    motion_prompt: str = "subtle natural motion, gentle slow camera movement"
    negative: str = "worst quality, blurry, jittery, distorted, static, text, watermark"
    crf: int = Field(20, ge=0, le=51)


class ComfyUIAnimate(ComfyUIBackend, AnimateBackend):
    """A still brought to life by a ComfyUI workflow, conformed to the exact frame count and size."""

    name = "comfyui"
    version = "1"
    capability = "animate"
    Options = ComfyUIAnimateOptions

    @classmethod
    def workflow_specs(cls, options: Any) -> dict[str, str]:
        """The one image-to-video workflow."""
        return {"animate": options.workflow or "workflows/ltxv_i2v.json"}

    def fields(self, role: str) -> tuple[str, ...]:
        """What a clip request carries; its length as a frame count, or in seconds if the map has no frames."""
        length = "frames" if self.workflow(role).has("frames") else "duration"
        return ("prompt", "negative", "image", "seed", "width", "height", length, "fps", "steps")

    @property
    def limit(self) -> int:
        """Frames one call may make: the option, else the map's ``max_frames``, else 121."""
        return int(self.options.max_frames or self.workflow("animate").setting("max_frames", 121))

    def animate(self, request: ClipRequest, out: Path) -> None:
        """Write an mp4 of exactly ``request.frames`` frames, in durable segments when it is long."""
        from ...media.join import join_clips
        from ...media.segments import last_frame_png, segment_lengths

        out = Path(out)
        if request.frames <= self.limit:
            self.render_segment(request, out)
            return
        self.ensure_ready()
        context = current_job()
        scratch = None
        if context is not None:
            folder = Path(context.state_dir) / "segments" / context.key
        else:
            scratch = tempfile.mkdtemp(prefix="storybuild-segments-")
            folder = Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        lengths = segment_lengths(request.frames, self.limit - 1)
        parts, image, start = [], Path(request.image), 0
        still = temp_path(out.with_suffix(".png"))
        try:
            for index, length in enumerate(lengths):
                part = folder / f"{index:03d}.mp4"
                keyframes = [n - start for n in request.keyframes if start < n < start + length]
                if not _complete(part, length):
                    segment = request.model_copy(
                        update={"frames": length, "image": image, "seed": request.seed + index, "keyframes": keyframes}
                    )
                    self._clip(segment, part, f"seg{index:03d}", drop_first=index > 0)
                parts.append(part)
                start += length
                if index < len(lengths) - 1:
                    last_frame_png(part, still)
                    image = still
            join_clips(parts, out, request.fps, "cut", crf=self.options.crf)
        finally:
            still.unlink(missing_ok=True)
        shutil.rmtree(scratch or folder, ignore_errors=True)

    def render_segment(self, request: ClipRequest, out: Path) -> None:
        """Write one mp4 of exactly ``request.frames`` frames (at most ``max_frames``)."""
        self._clip(request, Path(out), "clip", drop_first=False)

    def _clip(self, request: ClipRequest, out: Path, job: str, *, drop_first: bool) -> None:
        from ...media.checks import check_clip
        from ...media.conform import conform_clip

        if request.frames < 1:
            raise BackendError(f"comfyui: a clip needs at least one frame, not {request.frames}")
        workflow = self.workflow("animate")
        asked = request.frames + (1 if drop_first else 0)
        preset = self.preset(workflow, request.width, request.height, asked)
        values = {
            "prompt": ". ".join(p for p in (request.prompt, self.options.motion_prompt) if p),
            "negative": self.options.negative or None, "seed": request.seed, "fps": float(request.fps),
            "duration": round(asked / request.fps, 3), "image": "upload", **preset,
        }
        if "frames" in preset and preset["frames"] < asked * 0.9:
            values["fps"] = float(request.fps) * preset["frames"] / asked  # a draft spans the same time
        self.produce(
            workflow, values, {"image": Path(request.image)}, job, out,
            conform=lambda src, dst: conform_clip(
                src, dst, request.frames, request.fps, request.width, request.height,
                drop_first=drop_first, keyframes=request.keyframes, crf=self.options.crf,
            ),
            check=check_clip,
        )


def _complete(part: Path, frames: int) -> bool:
    """Whether a kept segment is there whole (it was written atomically, so a count suffices)."""
    from ...errors import MediaError
    from ...media.probe import frame_count

    if not part.is_file():
        return False
    try:
        return frame_count(part) == frames
    except MediaError:
        return False
