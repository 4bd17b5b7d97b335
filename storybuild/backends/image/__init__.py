"""Images: portraits and scene pictures from words (and, for remote backends, reference images)."""

from .interface import CharacterRef, ImageBackend, ImageRequest, Placement, SceneFacts

__all__ = ["CharacterRef", "ImageBackend", "ImageRequest", "Placement", "SceneFacts"]
