"""The sound-effect interface every SFX backend implements."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

from pydantic import BaseModel

from ..base import Backend


class SoundRequest(BaseModel):
    """A sound described in words, of a given length."""

    text: str
    duration: float
    seed: int = 0
    sample_rate: int = 48000


class SFXBackend(Backend):
    """Turns a description into a sound."""

    @abstractmethod
    def generate(self, request: SoundRequest, out: Path) -> None:
        """Write the sound to ``out`` as a wav (mono or stereo) of ``request.duration`` seconds."""

    def natural_duration(self, text: str) -> float:
        """How long a cue described by ``text`` should last, in seconds."""
        return 3.0
