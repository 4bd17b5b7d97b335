"""The language-model interface: the story-reading questions a backend answers.

It is question-shaped rather than a raw chat call so the embedded backend can answer the same
questions with deterministic rules, and a remote backend with prompts against a real model. Every
answer is a pydantic model, so a remote backend validates what the model said at the boundary and
a stage writes it as a build artifact (asked once, kept until its recipe changes).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Literal

from pydantic import BaseModel, Field

from ...story.model import Scene, Story
from ..base import Backend

Age = Literal["child", "teen", "young adult", "adult", "elderly", ""]
TimeOfDay = Literal["dawn", "morning", "day", "afternoon", "dusk", "evening", "night"]
Weather = Literal["clear", "cloudy", "rain", "snow", "fog", "storm", "wind"]

#: The questions a stage asks, by the name it passes to ``question_identity``.
QUESTIONS = ("cast", "scene_prompt", "infer_cues", "metadata")


class CastGuess(BaseModel):
    """What a backend infers about a character the story does not describe."""

    name: str
    gender: Literal["male", "female"] | None = None
    age: str = Field("", description='"child", "teen", "young adult", "adult", "elderly" or ""')
    look: str = Field("", description="a vivid appearance, the same in every portrait")
    voice: str = Field("", description="a voice description, e.g. 'warm, low, unhurried'")


class VisibleCharacter(BaseModel):
    """A character seen in a scene picture, and where."""

    name: str
    position: Literal["left", "center", "right", "background"] = "center"


class ScenePrompt(BaseModel):
    """A scene description read as a picture: the prompt plus the facts an image needs."""

    prompt: str = Field(description="the expanded image prompt, style included")
    setting: Literal["indoor", "outdoor"]
    place: str = Field(description="the kind of place: bakery, harbor, forest, ...")
    props: list[str] = []
    time_of_day: TimeOfDay | None = None
    weather: Weather | None = None
    characters: list[VisibleCharacter] = []
    camera: str = Field("static", description="a camera move for animation: static, zoom in, pan left, ...")


class InferredCue(BaseModel):
    """A sound the text implies without a ``{...}`` cue."""

    line: str = Field(description='the line id, e.g. "0007"')
    position: float = Field(0.5, ge=0, le=1, description="where inside the line, 0 = its start")
    duration: float = Field(2.0, gt=0, le=20, description="seconds")
    text: str = Field(description="what the sound is, as a cue would say it")


class Metadata(BaseModel):
    """What a video platform shows beside the video; chapters are added from the timeline."""

    title: str
    description: str
    tags: list[str]
    category: str = "Film & Animation"
    thumbnail_caption: str = ""


class LLMBackend(Backend):
    """Reads a story and answers questions about it."""

    @abstractmethod
    def guess_cast(self, story: Story, names: list[str]) -> list[CastGuess]:
        """Gender, age, look and voice for each of ``names`` that the story and settings leave open."""

    @abstractmethod
    def scene_prompt(self, story: Story, scene: Scene, style: str) -> ScenePrompt:
        """The picture of ``scene`` in ``style``: prompt, place, props, time, weather, camera.

        The answer may depend on the scene's description, ``style``, who speaks in the scene and
        the story's language only: that is the question's recipe, so editing another scene does
        not ask it again.
        """

    @abstractmethod
    def infer_cues(self, story: Story) -> list[InferredCue]:
        """Sounds the text implies, placed on its spoken lines (explicit cues excluded)."""

    @abstractmethod
    def metadata(self, story: Story) -> Metadata:
        """Title, description, tags, category and thumbnail caption, in the story's language."""

    def cast_reads(self, story: Story) -> Any:
        """What of ``story`` the cast answer depends on: the cast task's recipe holds it.

        A model reads the whole script (what characters say and what is said of them), so by
        default that is what counts; a backend that reads less says so, and edits elsewhere then
        leave the cast alone.
        """
        return [[s.id, s.description, [[ln.speaker, ln.text] for ln in s.lines]] for s in story.scenes]

    def cues_reads(self, story: Story) -> Any:
        """What of ``story`` the implied-cues answer depends on: the cues task's recipe holds it.

        A model reads every line (id, speaker, text) and which lines hold a ``{cue}``; a backend
        that reads less says so, and edits elsewhere then leave cues.json alone.
        """
        return [[line.id, line.speaker, line.text] for line in story.lines] + [
            ["cue", cue.line] for cue in story.cues
        ]

    def question_identity(self, question: str) -> str:
        """What in the backend shapes ``question``'s answer beyond its recipe (e.g. a prompt hash).

        Stages put it into the recipe of the artifact that asks ``question``, so editing one
        prompt template re-asks only that question.
        """
        return ""
