"""Speech to text with word timings: how storybuild hears what its voices said."""

from .interface import TranscribeBackend, Transcript, Word

__all__ = ["TranscribeBackend", "Transcript", "Word"]
