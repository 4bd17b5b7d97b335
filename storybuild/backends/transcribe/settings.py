"""The ``[quality]`` settings: which transcriber listens to the lines, and how wrong a take may be."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_MAX_WER", "QualitySettings"]

# Measured with faster-whisper base: a line voicing another sentence scores 0.8-1.0; good espeak-ng
# takes of long lines 0-0.375 (Whisper hears espeak's "lamp" as "lump"). On the lighthouse sample
# (bench/transcribe.py) the story scores 22.8% and 4 of 19 lines pass 0.5: short lines in espeak's
# female voices ("That is not an answer." heard "Matin, not a harnet, sir."), which listeners find
# hard to follow too. 0.5 catches wrong takes without flagging most robotic-but-right ones.
DEFAULT_MAX_WER = 0.5


class QualitySettings(BaseModel):
    """How the spoken lines are checked against the script."""

    model_config = ConfigDict(extra="forbid")

    backend: str = Field("faster-whisper", description="the transcribe backend: faster-whisper or openai-whisper")
    options: dict[str, Any] = Field(default_factory=dict, description="the transcribe backend's options")
    max_wer: float = Field(DEFAULT_MAX_WER, ge=0, le=10, description="a line whose word error rate is above this is flagged")
