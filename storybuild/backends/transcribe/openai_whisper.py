"""OpenAI's own Whisper package, for users who have its weights: a model name or a checkpoint path.

Not part of any default install: openai-whisper pulls CUDA torch (about 6 GB). It is imported only
when a transcription runs or ``storybuild check`` asks, and its absence names the extra to install.
Its ``load_model`` reads PyTorch checkpoints only; the CTranslate2 base model storybuild ships is
for the ``faster-whisper`` backend.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ...errors import BackendError, BackendUnavailable
from .interface import TranscribeBackend, Transcript, Word

__all__ = ["INSTALL", "OpenAIWhisper", "OpenAIWhisperOptions"]

INSTALL = "pip install 'storybuild[openai-whisper]'"
WHISPER_RATE = 16000


class OpenAIWhisperOptions(BaseModel):
    """Which checkpoint, on which device."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("base", description="a Whisper model name (tiny, base, small...) or a .pt checkpoint path")
    device: str = Field("cpu", description="cpu or cuda")


def _whisper() -> Any:
    try:
        import whisper
    except ImportError as exc:
        raise BackendUnavailable(f"the openai-whisper backend needs openai-whisper; {INSTALL}") from exc
    return whisper


class OpenAIWhisper(TranscribeBackend):
    """Whisper through the openai-whisper package (PyTorch)."""

    name = "openai-whisper"
    version = "1"
    Options = OpenAIWhisperOptions

    def __init__(self, options: Any = None, *, servers: Any = None) -> None:
        super().__init__(options, servers=servers)
        self._model: Any = None
        self._lock = threading.Lock()

    def check(self) -> list[str]:
        """What is missing: the package itself."""
        try:
            _whisper()
        except BackendUnavailable as exc:
            return [str(exc)]
        return []

    def transcribe(self, audio: Path, language: str) -> Transcript:
        """What is said in ``audio``, with every word's start and end."""
        from .audio import whisper_input, whisper_language

        whisper = _whisper()
        samples = whisper_input(audio, WHISPER_RATE)
        code = whisper_language(language)
        options = self.options
        with self._lock:
            try:
                if self._model is None:
                    self._model = whisper.load_model(options.model, device=options.device)
                result = self._model.transcribe(
                    samples, language=code, temperature=0.0, condition_on_previous_text=False,
                    word_timestamps=True, fp16=options.device != "cpu",
                )
            except (RuntimeError, ValueError, OSError) as exc:
                raise BackendError(f"openai-whisper failed on {audio}: {exc}") from exc
        words = [
            Word(text=w["word"].strip(), start=round(w["start"], 3), end=round(w["end"], 3),
                 probability=round(w.get("probability", 1.0), 3))
            for segment in result.get("segments", []) for w in segment.get("words", []) if w["word"].strip()
        ]
        return Transcript(
            text=result.get("text", "").strip(), language=code,
            duration=round(len(samples) / WHISPER_RATE, 3), words=words,
        )
