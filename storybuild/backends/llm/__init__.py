"""Language understanding: who the characters are, where sounds belong."""

from .interface import CastGuess, LLMBackend

__all__ = ["CastGuess", "LLMBackend"]
