"""What a parsed story is: scenes made of spoken lines and sound cues, and who speaks them.

The parser builds these; everything downstream reads them. Ids here become file names, so the
parser guarantees they are safe (no separators, no ``..``); ``storybuild.layout`` checks again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Union

from pydantic import BaseModel, Field

Gender = Literal["male", "female"]

NARRATOR = "narrator"
OPENING_SCENE = "opening"


class Character(BaseModel):
    """A speaker as the story names it; cast.json adds voice and look."""

    name: str
    gender: Gender | None = None
    first_line: int = Field(description="source line where the character first speaks")


class Line(BaseModel):
    """One spoken line: what is read aloud, by whom, with how it should sound."""

    kind: Literal["line"] = "line"
    index: int = Field(description="1-based position among the story's spoken lines")
    speaker: str
    text: str = Field(description="what is read aloud: no stage directions, no cues")
    hints: list[str] = Field(default_factory=list, description="stage directions, never read aloud")
    lineno: int
    scene: str

    @property
    def id(self) -> str:
        """The line's file-name id, e.g. ``0007``."""
        return f"{self.index:04d}"


class Cue(BaseModel):
    """A sound-effect cue, between lines or inside one."""

    kind: Literal["cue"] = "cue"
    index: int = Field(description="1-based position among the story's cues")
    text: str
    lineno: int
    scene: str
    anchor: Literal["between", "inline"]
    line: int = Field(
        description="inline: index of the line holding the cue; between: index of the spoken "
        "line before it (0 when none is)"
    )
    position: float = Field(0.0, description="inline: fraction of the line's text before the cue")

    @property
    def id(self) -> str:
        """The cue's file-name id, e.g. ``003``."""
        return f"{self.index:03d}"


Item = Union[Line, Cue]


def scene_title(scene_id: str) -> str:
    """A scene id as a title: ``lamp_room`` -> ``Lamp room``."""
    text = scene_id.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


class Scene(BaseModel):
    """A stretch of the story in one place; the unit of images and clips."""

    id: str
    description: str
    lineno: int
    items: list[Item] = Field(default_factory=list)

    @property
    def title(self) -> str:
        """The id as a chapter title: ``lamp_room`` -> ``Lamp room``."""
        return scene_title(self.id)

    @property
    def lines(self) -> list[Line]:
        """The scene's spoken lines, in order."""
        return [item for item in self.items if isinstance(item, Line)]

    @property
    def cues(self) -> list[Cue]:
        """The scene's cues, in order."""
        return [item for item in self.items if isinstance(item, Cue)]

    @property
    def speakers(self) -> list[str]:
        """Characters who speak in this scene (narrator excluded), in order of first line."""
        seen: dict[str, None] = {}
        for line in self.lines:
            if line.speaker != NARRATOR:
                seen.setdefault(line.speaker)
        return list(seen)


class Story(BaseModel):
    """A whole parsed story.txt."""

    slug: str
    path: Path
    title: str
    style: str = ""
    language: str = "en"
    scenes: list[Scene]
    characters: list[Character] = Field(description="every speaker, in order of first line")
    header_lines: dict[str, int] = Field(default_factory=dict, description="header key -> its source line")
    warnings: list[str] = Field(
        default_factory=list, description="``file:line:col: message`` for what parsed but looks unintended"
    )

    @property
    def lines(self) -> list[Line]:
        """Every spoken line, in order."""
        return [line for scene in self.scenes for line in scene.lines]

    @property
    def cues(self) -> list[Cue]:
        """Every cue, in order."""
        return [cue for scene in self.scenes for cue in scene.cues]

    def character(self, name: str) -> Character:
        """The character called ``name``; KeyError if nobody is."""
        for character in self.characters:
            if character.name == name:
                return character
        raise KeyError(name)
