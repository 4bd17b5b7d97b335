"""Text-to-speech: one spoken line in, one mono wav out."""

from .interface import SpeechRequest, TTSBackend, Voice

__all__ = ["SpeechRequest", "TTSBackend", "Voice"]
