"""The embedded sound-effect backend: procedural sounds from the cue's words.

The synthesis itself (numpy and scipy filters) lives in ``synth.py`` and loads on first use, so
naming this backend in a recipe costs doit's start-up nothing.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import BackendError
from .interface import SFXBackend, SoundRequest


class ProceduralSFX(SFXBackend):
    """Sound effects made from filtered noise, tones and envelopes: no model, no network."""

    name = "procedural"
    version = "1"

    def generate(self, request: SoundRequest, out: Path) -> None:
        """Write the described sound to ``out`` as a mono 16-bit wav of exactly the asked length."""
        import soundfile as sf

        from .synth import render

        samples = render(request)
        try:
            sf.write(str(out), samples, request.sample_rate, subtype="PCM_16", format="WAV")
        except (OSError, RuntimeError) as exc:
            raise BackendError(f"cannot write {out}: {exc}") from exc

    def natural_duration(self, text: str) -> float:
        """The sum of the parts' natural lengths (horn 4 s, knock 1.5 s, rain 6 s, unknown 3 s)."""
        from .synth import kinds_in, natural_length

        return float(sum(natural_length(p) for p in kinds_in(text)))
