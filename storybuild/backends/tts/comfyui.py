"""Speech from ComfyUI: each character's voice cloned from its sample (TTS Audio Suite, ChatterBox).

A character's ``voice`` in story.toml names a recording in the story's ``voices/``; its
transcript, when there is one, sits beside it as ``<name>.reference.txt`` and helps cloners that
use it. A voice without a sample is a voice name the workflow's node knows (``voices`` option).
A line that comes back silent, or far longer or shorter than its words suggest, is a failed take.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xxhash
from pydantic import Field

from ..comfyui import ComfyUIBackend, ComfyUIOptions
from .interface import SpeechRequest, TTSBackend, Voice, speakable_text

__all__ = ["ComfyUITTS", "ComfyUITTSOptions"]


class ComfyUITTSOptions(ComfyUIOptions):
    """The speech workflow and the voice names handed out to characters without a sample."""

    voices: dict[str, list[str]] = Field(
        default_factory=lambda: {"male": ["none"], "female": ["none"], "any": ["none"]},
        description="gender (male, female, any) -> voice names the workflow's voice input accepts",
    )


class ComfyUITTS(ComfyUIBackend, TTSBackend):
    """Lines spoken by a ComfyUI voice-cloning workflow, conformed to mono wav and checked."""

    name = "comfyui"
    version = "2"
    capability = "tts"
    Options = ComfyUITTSOptions

    @classmethod
    def workflow_specs(cls, options: Any) -> dict[str, str]:
        """The one speech workflow."""
        return {"tts": options.workflow or "workflows/chatterbox_clone_tts.json"}

    def fields(self, role: str) -> tuple[str, ...]:
        """What a speech request carries."""
        return ("text", "seed", "voice_sample", "reference_text", "voice_name")

    def voice_pool(self, gender: str | None, language: str) -> list[Voice]:
        """The configured voice names for ``gender``, else those for any gender."""
        voices = self.options.voices
        names = voices.get(gender or "any") or voices.get("any") or ["none"]
        return [Voice(name=name) for name in names]

    def synthesize(self, request: SpeechRequest, out: Path) -> None:
        """Write the line as a mono wav (the model's rate; narration resamples)."""
        from ...media.checks import check_speech
        from ...media.conform import conform_audio

        text = speakable_text(request.text)  # emoji stay in the subtitles, never in the voice
        if not any(ch.isalnum() for ch in text):
            import numpy as np

            from ...media.audio import write_wav

            write_wav(Path(out), np.zeros(int(0.25 * 24000), dtype=np.float32), 24000)  # nothing to say
            return
        workflow = self.workflow("tts")
        sample = Path(request.voice.sample) if request.voice.sample else None
        transcript = sample.with_suffix(".reference.txt") if sample else None
        # What is said, by whom, and the request's seed (a retake's new one): reproducible per take.
        seed = xxhash.xxh32_intdigest(f"{request.voice.name}\0{text}\0{request.seed}".encode("utf-8"))
        values = {
            "text": text, "seed": seed,
            "voice_name": None if sample else request.voice.name,
            "reference_text": transcript.read_text(encoding="utf-8").strip()
            if transcript and transcript.is_file() else None,
            "voice_sample": "upload" if sample else None,
            **self.preset(workflow),
        }
        uploads = {"voice_sample": sample} if sample and workflow.has("voice_sample") else {}
        self.produce(
            workflow, values, uploads, "tts", Path(out),
            conform=lambda src, dst: conform_audio(src, dst, mono=True),
            check=lambda path: check_speech(path, text),
        )
