"""The text-to-speech interface every TTS backend implements."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

from pydantic import BaseModel

from ..base import Backend


class Voice(BaseModel):
    """A character's voice as cast.json records it.

    ``name`` is the backend's own voice name (espeak: a variant such as ``f3``); ``pitch`` and
    ``rate`` are optional nudges (0-100 pitch, words per minute) that make voices sharing a name
    distinct; ``sample`` is a reference recording in the story's ``voices/`` for cloning backends.
    """

    name: str
    pitch: int | None = None
    rate: int | None = None
    sample: Path | None = None


class SpeechRequest(BaseModel):
    """What to say and how."""

    text: str
    voice: Voice
    language: str = "en"
    hints: list[str] = []


class TTSBackend(Backend):
    """Turns text into speech."""

    @abstractmethod
    def synthesize(self, request: SpeechRequest, out: Path) -> None:
        """Write the spoken ``request`` to ``out`` as a mono wav (any sample rate)."""

    @abstractmethod
    def voice_pool(self, gender: str | None, language: str) -> list[Voice]:
        """Distinct voices to hand out for ``gender`` (``male``/``female``/None), best first."""

    def narrator_voice(self, language: str) -> Voice:
        """The narrator's voice, kept apart from the characters' pools."""
        return self.voice_pool("male", language)[0]
