"""Sound effects: a cue's words in, a wav of the requested length out."""

from .interface import SFXBackend, SoundRequest

__all__ = ["SFXBackend", "SoundRequest"]
