"""The ``[quality]`` settings: which transcriber listens to the lines, and how wrong a take may be."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_MAX_WER", "QualitySettings"]

# Measured on the lighthouse sample with espeak-ng and faster-whisper base (bench/transcribe.py):
# good espeak takes score 0-0.375 (Whisper mishears espeak's "lamp" as "lump"), while a line that
# says something else scores 0.8 and more. 0.5 flags the second and passes the first.
DEFAULT_MAX_WER = 0.5


class QualitySettings(BaseModel):
    """How the spoken lines are checked against the script."""

    model_config = ConfigDict(extra="forbid")

    backend: str = Field("faster-whisper", description="the transcribe backend: faster-whisper or openai-whisper")
    options: dict[str, Any] = Field(default_factory=dict, description="the transcribe backend's options")
    max_wer: float = Field(DEFAULT_MAX_WER, ge=0, le=10, description="a line whose word error rate is above this is flagged")
