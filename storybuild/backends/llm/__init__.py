"""Language understanding: who the characters are, what each scene shows, which sounds the text implies."""

from .interface import (
    QUESTIONS,
    CastGuess,
    InferredCue,
    LLMBackend,
    Metadata,
    ScenePrompt,
    VisibleCharacter,
)

__all__ = ["QUESTIONS", "CastGuess", "InferredCue", "LLMBackend", "Metadata", "ScenePrompt", "VisibleCharacter"]
