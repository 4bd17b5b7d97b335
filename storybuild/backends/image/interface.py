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


class Placement(BaseModel):
    """Where a character stands in a scene picture."""

    name: str
    position: Literal["left", "center", "right", "background"] = "center"


class SceneFacts(BaseModel):
    """What a scene's picture must show, read from its description (the scene_prompt answer).

    A backend that draws rather than prompts (the embedded storybook) composes from these; a
    diffusion backend may ignore them, since ``prompt`` says the same in words.
    """

    setting: Literal["indoor", "outdoor"]
    place: str = ""
    props: list[str] = []
    time_of_day: str | None = None
    weather: str | None = None
    characters: list[Placement] = []


class ImageRequest(BaseModel):
    """One picture to make."""

    kind: Literal["portrait", "scene"]
    prompt: str
    style: str = ""
    caption: str = ""
    characters: list[CharacterRef] = []
    scene: SceneFacts | None = None
    width: int
    height: int
    seed: int = 0


class ImageBackend(Backend):
    """Turns a description into a picture."""

    @abstractmethod
    def generate(self, request: ImageRequest, out: Path) -> None:
        """Write a PNG of exactly ``request.width`` x ``request.height`` to ``out``."""
