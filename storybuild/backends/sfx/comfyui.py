"""Sound effects from ComfyUI (Stable Audio Open by default), cut to exactly the cue's length."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..comfyui import ComfyUIBackend, ComfyUIOptions
from .interface import SFXBackend, SoundRequest

__all__ = ["ComfyUISFX", "ComfyUISFXOptions"]


class ComfyUISFXOptions(ComfyUIOptions):
    """The sound-effect workflow; the negative prompt keeps music and voices out."""

    negative: str = "music, speech, voices, low quality, distorted"


class ComfyUISFX(ComfyUIBackend, SFXBackend):
    """One sound per cue from a ComfyUI workflow; a silent result is a failed take."""

    name = "comfyui"
    version = "1"
    capability = "sfx"
    Options = ComfyUISFXOptions

    @classmethod
    def workflow_specs(cls, options: Any) -> dict[str, str]:
        """The one sound workflow."""
        return {"sfx": options.workflow or "workflows/stable_audio_sfx.json"}

    def fields(self, role: str) -> tuple[str, ...]:
        """What a sound request carries."""
        return ("text", "negative", "seed", "duration", "steps")

    def generate(self, request: SoundRequest, out: Path) -> None:
        """Write a wav of exactly ``request.duration`` seconds (the model's channels, its rate)."""
        from ...media.checks import check_sound
        from ...media.conform import conform_audio

        workflow = self.workflow("sfx")
        # Stable Audio makes at least a second; a shorter cue is cut from a longer sound.
        seconds = max(request.duration, float(workflow.setting("min_duration", 0.0)))
        values = {
            "text": request.text, "negative": self.options.negative or None, "seed": request.seed,
            "duration": round(seconds, 3), **self.preset(workflow),
        }
        self.produce(
            workflow, values, {}, "sfx", Path(out),
            conform=lambda src, dst: conform_audio(src, dst, mono=False, duration=request.duration),
            check=check_sound,
        )
