"""The story questions asked of a real model on an OpenAI-compatible server (LM Studio by default).

Each question is a packaged prompt template (``storybuild/prompts``, overridable from the
project's prompts folder) and a strict answer schema; ``question_identity`` is the template's
digest, so stages re-ask a question when its prompt changes. The effective model name is part of
the recipe (switching model re-asks everything, switching back reuses); the server's URL, key and
timeouts are connection settings and are not.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...config import ServerSettings
from ...errors import BackendUnavailable, ConfigError
from ...prompts import PromptTemplate, language_name, load_template
from ...story.model import NARRATOR, Scene, Story
from .interface import (
    QUESTIONS,
    Age,
    CastGuess,
    InferredCue,
    LLMBackend,
    Metadata,
    ScenePrompt,
    TimeOfDay,
    VisibleCharacter,
    Weather,
)

__all__ = ["OpenAILLM"]

_checked: set[tuple[str, str]] = set()  # (server, model) pairs found serving, once per process
_failed: dict[tuple[str, str], str] = {}  # why not: a build with the server down fails fast
_check_lock = threading.Lock()


class _Answer(BaseModel):
    """A strict answer schema: every field required, nothing extra, as ``strict`` JSON Schema wants."""

    model_config = ConfigDict(extra="forbid")


class _Character(_Answer):
    name: str
    gender: Literal["male", "female", "unknown"]
    age: Age
    look: str
    voice: str


class _CastAnswer(_Answer):
    characters: list[_Character]


class _Visible(_Answer):
    name: str
    position: Literal["left", "center", "right", "background"]


class _SceneAnswer(_Answer):
    prompt: str
    setting: Literal["indoor", "outdoor"]
    place: str
    props: list[str]
    time_of_day: TimeOfDay | None
    weather: Weather | None
    characters: list[_Visible]
    camera: str


class _Cue(_Answer):
    line: str
    position: float = Field(ge=0, le=1)
    duration: float = Field(gt=0, le=20)
    text: str


class _CuesAnswer(_Answer):
    cues: list[_Cue]


class _MetadataAnswer(_Answer):
    title: str
    description: str
    tags: list[str]
    category: str
    thumbnail_caption: str


_SCHEMAS: dict[str, type[_Answer]] = {
    "cast": _CastAnswer, "scene_prompt": _SceneAnswer, "infer_cues": _CuesAnswer, "metadata": _MetadataAnswer,
}


class OpenAIOptions(BaseModel):
    """How the model is asked. ``model`` empty: ``[servers] llm_model`` / ``LM_STUDIO_MODEL``."""

    model_config = ConfigDict(extra="forbid")

    model: str = ""
    temperature: float = Field(0.2, ge=0, le=2)
    seed: int = Field(0, description="sent with every request: the same seed usually gives the same answer")
    max_tokens: int = Field(4096, ge=16)
    think: bool = Field(True, description="False appends Qwen3's /no_think: faster, no reasoning")
    retries: int = Field(2, ge=0, le=10, description="asks again with the validation error this many times")
    prompts_dir: str = Field("prompts", description="the project's template overrides, relative to its root")


# Options that change how often or from where a question is asked, never what its answer is.
_NOT_RECIPE = ("retries", "prompts_dir")


def _effective_model(options: OpenAIOptions, servers: ServerSettings | None) -> str:
    model = options.model or (servers.llm_model if servers is not None else os.environ.get("LM_STUDIO_MODEL", ""))
    if not model:
        raise ConfigError(
            'the openai language-model backend needs a model: set [llm] options = { model = "qwen/qwen3-14b" } '
            "in storybuild.toml, or LM_STUDIO_MODEL"
        )
    return model


def _script(story: Story) -> str:
    """The story as the model reads it: scene headers, then ``[speaker] text`` lines."""
    rows = []
    for scene in story.scenes:
        rows.append(f"({scene.id}) {scene.description}")
        rows.extend(f"[{line.speaker}] {line.text}" for line in scene.lines)
    return "\n".join(rows)


def _own_title(story: Story) -> str:
    """The story's ``title:`` header, or "" when its title is the slug made readable."""
    from_slug = " ".join(word.capitalize() for word in story.slug.split("-") if word)
    return "" if story.title == from_slug else story.title


class OpenAILLM(LLMBackend):
    """Answers story questions with a model on an OpenAI-compatible chat server."""

    name = "openai"
    version = "1"  # bump when an answer schema or how answers are read changes: every answer is asked again
    Options = OpenAIOptions

    def __init__(self, options: Any = None, *, servers: ServerSettings | None = None) -> None:
        super().__init__(options, servers=servers if servers is not None else ServerSettings())
        self.model = _effective_model(self.options, self.servers)
        self._templates: dict[str, PromptTemplate] = {}
        self._lock = threading.Lock()
        self._client = None

    @classmethod
    def recipe(cls, options: dict[str, Any], servers: ServerSettings | None = None) -> dict[str, Any]:
        """Name, version, the options that shape answers and the effective model (never the URL or key)."""
        validated = cls.Options.model_validate(options)
        shaping = validated.model_dump(mode="json", exclude=set(_NOT_RECIPE))
        shaping["model"] = _effective_model(validated, servers)
        return {"backend": cls.name, "version": cls.version, "options": shaping}

    # -- prompts ----------------------------------------------------------------------------------

    def template(self, question: str) -> PromptTemplate:
        """The template in use for ``question``: the project's override, else the packaged one."""
        if question not in QUESTIONS:
            raise ConfigError(f"no language-model question named {question!r}; known: {', '.join(QUESTIONS)}")
        with self._lock:
            if question not in self._templates:
                self._templates[question] = load_template(question, self.options.prompts_dir)
            return self._templates[question]

    def question_identity(self, question: str) -> str:
        """The template's digest and the prompt format version: editing a prompt re-asks its question."""
        return self.template(question).identity

    # -- the server ---------------------------------------------------------------------------------

    def client(self) -> Any:
        """The chat client for the configured server, made once."""
        from ...clients.openai_compat import ChatClient

        with self._lock:
            if self._client is None:
                servers = self.servers
                key = os.environ.get(servers.llm_api_key_env) or os.environ.get("OPENAI_API_KEY") or None
                self._client = ChatClient(
                    servers.llm_url, api_key=key, timeout=servers.llm_timeout,
                    max_in_flight=servers.llm_max_in_flight,
                )
            return self._client

    def check(self) -> list[str]:
        """The server answers and lists the model; problems as sentences saying what to do."""
        try:
            self._ready()
        except BackendUnavailable as exc:
            return [str(exc)]
        return []

    def _ready(self) -> None:
        """Ask the server for its models before the first question, once per process and server."""
        client = self.client()
        key = (client.base_url, self.model)
        with _check_lock:
            if key in _checked:
                return
            if key not in _failed:
                try:
                    loaded = client.models(self.model)
                except BackendUnavailable as exc:
                    _failed[key] = str(exc)
                else:
                    if self.model in loaded:
                        _checked.add(key)
                        return
                    _failed[key] = (
                        f"model {self.model} is not loaded on {client.base_url}; loaded: "
                        f"{', '.join(loaded) or 'none'}; run `lms load {self.model}` or set [llm] options.model"
                    )
            # a new error each time: the task that raises it fills in its own stage and item
            raise BackendUnavailable(_failed[key], service=client.base_url)

    def _ask(self, question: str, schema: type[_Answer], **values: str) -> Any:
        from ...services import services

        services.ensure("llm")  # started on demand when [services.llm] says how; else a no-op
        self._ready()
        messages = self.template(question).messages(**values)
        if not self.options.think:
            messages[-1] = {**messages[-1], "content": messages[-1]["content"] + " /no_think"}
        return self.client().ask(
            self.model, messages, schema, name=question, attempts=self.options.retries + 1,
            temperature=self.options.temperature, max_tokens=self.options.max_tokens,
            seed=self.options.seed,
        )

    # -- the questions ------------------------------------------------------------------------------

    def guess_cast(self, story: Story, names: list[str]) -> list[CastGuess]:
        """Gender, age, look and voice of each of ``names``, read from the whole script."""
        if not names:
            return []
        answer = self._ask(
            "cast", _CastAnswer, title=story.title, language=language_name(story.language),
            script=_script(story), names=", ".join(names),
        )
        said = {entry.name.casefold(): entry for entry in answer.characters}
        guesses = []
        for name in names:  # the model's list may be reordered, renamed or short: map by name
            entry = said.get(name.casefold())
            if entry is None:
                guesses.append(CastGuess(name=name))
                continue
            gender = entry.gender if entry.gender != "unknown" else None
            guesses.append(CastGuess(name=name, gender=gender, age=entry.age, look=entry.look, voice=entry.voice))
        return guesses

    def scene_prompt(self, story: Story, scene: Scene, style: str) -> ScenePrompt:
        """The scene's picture: the model's prompt and the places, props and people it names."""
        speakers = scene.speakers
        answer = self._ask(
            "scene_prompt", _SceneAnswer, description=scene.description, style=style or "(none given)",
            characters=", ".join(speakers) or "(none)", language=language_name(story.language),
        )
        known = {name.casefold(): name for name in speakers}
        visible = [
            VisibleCharacter(name=known[c.name.casefold()], position=c.position)
            for c in answer.characters if c.name.casefold() in known
        ]
        return ScenePrompt(**answer.model_dump(exclude={"characters"}), characters=visible)

    def infer_cues(self, story: Story) -> list[InferredCue]:
        """Sounds the lines imply, on lines that exist and hold no ``{cue}`` yet."""
        cued = {cue.line for cue in story.cues}
        lines = [f"{line.id} [{line.speaker}] {line.text}" for line in story.lines]
        answer = self._ask(
            "infer_cues", _CuesAnswer, language=language_name(story.language), lines="\n".join(lines),
            cued=", ".join(f"{index:04d}" for index in sorted(cued) if index) or "(none)",
        )
        free = {line.id for line in story.lines if line.index not in cued}
        return [InferredCue(**cue.model_dump()) for cue in answer.cues if cue.line in free]

    def metadata(self, story: Story) -> Metadata:
        """Title (the story's own when it has one), description with a hook, tags, caption."""
        own = _own_title(story)
        rule = f'exactly "{own}"' if own else "a short, inviting title for the story"
        characters = ", ".join(c.name for c in story.characters if c.name != NARRATOR) or "(only a narrator)"
        answer = self._ask(
            "metadata", _MetadataAnswer, title=story.title, language=language_name(story.language),
            script=_script(story), characters=characters, title_rule=rule,
        )
        fields = answer.model_dump()
        if own:
            fields["title"] = own
        return Metadata(**fields)
