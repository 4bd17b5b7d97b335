"""The language-model interface: the story-reading tasks a backend answers.

It is task-shaped rather than a raw chat call so the embedded backend can answer the same
questions with deterministic rules, and a remote backend with prompts against a real model.
"""

from __future__ import annotations

from abc import abstractmethod

from pydantic import BaseModel

from ...story.model import Story
from ..base import Backend


class CastGuess(BaseModel):
    """What a backend infers about a character the story does not describe."""

    name: str
    gender: str | None = None
    look: str = ""


class LLMBackend(Backend):
    """Reads a story and answers questions about it."""

    @abstractmethod
    def guess_cast(self, story: Story, names: list[str]) -> list[CastGuess]:
        """Gender and look for each of ``names`` that the story and settings leave open."""
