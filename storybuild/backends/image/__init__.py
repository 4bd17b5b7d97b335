"""Images: portraits and scene pictures from words (and, for remote backends, reference images)."""

from .interface import CharacterRef, ImageBackend, ImageRequest

__all__ = ["CharacterRef", "ImageBackend", "ImageRequest"]
