"""The transcription interface every speech-to-text backend implements."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

from pydantic import BaseModel

from ..base import Backend


class Word(BaseModel):
    """One heard word and when it was said, in seconds from the start of the file."""

    text: str
    start: float
    end: float
    probability: float = 1.0


class Transcript(BaseModel):
    """What was heard in one audio file: the text and its words, timed."""

    text: str
    language: str
    duration: float
    words: list[Word]

    @classmethod
    def load(cls, path: str | Path) -> Transcript:
        """Read a transcripts/NNNN.json."""
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))


class TranscribeBackend(Backend):
    """Turns speech into text with word timings."""

    @abstractmethod
    def transcribe(self, audio: Path, language: str) -> Transcript:
        """What is said in the wav at ``audio``, in ``language`` (a code such as ``en`` or ``en-US``).

        The script is deliberately not given to the model as a prompt: a prompt makes it hear the
        script whatever the voice said, which would hide exactly the takes the check exists to catch.
        """
