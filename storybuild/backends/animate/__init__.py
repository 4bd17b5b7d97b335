"""Animation: a still scene image in, a clip of an exact number of frames out."""

from .interface import AnimateBackend, ClipRequest

__all__ = ["AnimateBackend", "ClipRequest"]
