"""The image interface every image backend implements."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from ..base import Backend


class CharacterRef(BaseModel):
    """A character shown in an image: who, how they look, and their portrait if one exists.

    Remote backends feed ``portrait`` in as a reference image (IP-Adapter, Flux Kontext...);
    the embedded backend draws a figure from ``name``, ``gender`` and ``look``.
    """

    name: str
    gender: str | None = None
    look: str = ""
    portrait: Path | None = None
    lora: str | None = None


class ImageRequest(BaseModel):
    """One picture to make."""

    kind: Literal["portrait", "scene"]
    prompt: str
    style: str = ""
    caption: str = ""
    characters: list[CharacterRef] = []
    width: int
    height: int
    seed: int = 0


class ImageBackend(Backend):
    """Turns a description into a picture."""

    @abstractmethod
    def generate(self, request: ImageRequest, out: Path) -> None:
        """Write a PNG of exactly ``request.width`` x ``request.height`` to ``out``."""
