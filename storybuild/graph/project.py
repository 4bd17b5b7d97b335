"""The project as the task generators see it: settings, and every story parsed or failed.

It is loaded once per process and shared by every stage's generator. doit creates all tasks on
every run, even a no-op one, so this is start-up cost: it reads each story's text and small toml
files and nothing from build/.

Folders in the settings are relative to the project root, whatever the current directory: files
are opened through ``Project.path``, while task paths stay root-relative because doit runs from
the root (the dodo file's folder) and keys its state on them.

A story that ``storybuild check`` would reject is broken here too, for the same reason: every
check that needs no build (text, settings, backend options, voices, language, characters) runs
when the story loads, and any exception while loading one story is that story's error only.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..backends import backend_class
from ..config import (
    DEFAULT_BACKENDS, PROJECT_FILE, ConfigError, ProjectConfig, Settings, key_line, suggestion,
)
from ..errors import StorybuildError
from ..layout import StoryLayout
from ..seeds import read_seeds
from ..store.cache import ArtifactCache
from ..store.gc import parse_size
from ..store.hashing import canonical_json, digest
from ..story import Story, parse_story
from ..voices import is_sample_spec, resolve
from .artifact import Runtime
from .settled import Settled, doit_run

CAPABILITIES = tuple(DEFAULT_BACKENDS)


@dataclass
class StoryEntry:
    """One story folder: its parse, settings and paths, or the error that stops it."""

    slug: str
    layout: StoryLayout
    story: Story | None = None
    settings: Settings | None = None
    seeds: dict[str, dict[str, int]] = field(default_factory=dict)
    recipes: dict[str, dict[str, Any]] = field(default_factory=dict)
    recipe_ids: dict[str, str] = field(default_factory=dict)
    error: StorybuildError | None = None
    artifacts: dict[str, list[Any]] | None = None  # stage -> its Artifacts, made once (graph.stage)

    def seed(self, stage: str, item: str) -> int:
        """The seed of ``stage``'s ``item``: the project seed plus any reroll."""
        base = self.settings.seed if self.settings else 0
        return base + int(self.seeds.get(stage, {}).get(item, 0))

    def fail(self, exc: BaseException, stage: str | None = None) -> StorybuildError:
        """Make ``exc`` this story's error (a StorybuildError naming the story) and return it."""
        if not isinstance(exc, StorybuildError):
            wrapped = StorybuildError(f"{type(exc).__name__}: {exc}", stage=stage, story=self.slug)
            wrapped.__cause__ = exc
            exc = wrapped
        exc.story = exc.story or self.slug
        exc.stage = exc.stage or stage
        self.error = exc
        return exc


class Project:
    """Settings, stories and shared runtime of the project rooted at ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._backends: dict[str, Any] = {}
        self._recipes: dict[tuple[str, str, str], tuple[dict, str]] = {}
        self._lock = threading.Lock()
        self._entries: dict[str, StoryEntry] = {}
        self._settled: Settled | None = None
        self._settled_key: int | None = None
        self.error: StorybuildError | None = None
        try:
            self.config: ProjectConfig | None = ProjectConfig(self.root)
            self.settings = self.config.settings
            _use_ffmpeg(self.settings.video.ffmpeg)
            _configure_services(self.root, self.settings)
        except StorybuildError as exc:
            self.config, self.settings, self.error = None, Settings(), exc
        self.runtime = Runtime(
            cache=ArtifactCache(self.path(self.settings.cache_path), shared=_shared_cache(self.settings),
                                max_size=parse_size(getattr(self.settings.cache, "max_size", None))),
            journal=self.path(self.settings.state_dir) / "log.jsonl",
        )

    def path(self, relative: str | Path) -> Path:
        """A settings or task path as a file path: relative ones are under the project root."""
        return self.root / relative

    @cached_property
    def slugs(self) -> list[str]:
        """The name of every folder of the stories directory that holds a story.txt, sorted."""
        stories_dir = self.path(self.settings.stories_dir)
        try:
            return sorted(
                entry.name
                for entry in os.scandir(stories_dir)
                if entry.is_dir() and os.path.isfile(os.path.join(entry.path, "story.txt"))
            )
        except FileNotFoundError:
            return []

    @property
    def stories(self) -> list[StoryEntry]:
        """Every story, parsed (or failed), sorted by slug."""
        return [self.entry(slug) for slug in self.slugs]

    def entry(self, slug: str) -> StoryEntry:
        """The story ``slug``, parsed once on first use."""
        found = self._entries.get(slug)
        if found is None:
            found = self._entries[slug] = self._load(slug)
        return found

    def settled(self) -> Settled:
        """The settled-story stamps for the ``doit run`` creating tasks now (inactive under any other command)."""
        run = doit_run()
        key = run.key if run else None
        if self._settled is None or self._settled_key != key:
            from .stage import STAGES

            if self._settled is not None:
                self._settled.close()
            self._settled, self._settled_key = Settled(self, run, STAGES), key
        return self._settled

    def _load(self, slug: str) -> StoryEntry:
        layout = StoryLayout(slug, str(self.settings.stories_dir), str(self.settings.build_dir))
        entry = StoryEntry(slug=slug, layout=layout)
        if self.error is not None:
            entry.error = self.error
            return entry
        try:
            entry.story = parse_story(self.path(layout.story_txt), slug, shown=layout.story_txt)
            entry.settings = self.config.for_story(self.path(layout.story_toml))
            entry.seeds = read_seeds(self.path(layout.seeds_toml), layout.seeds_toml)
            for capability in CAPABILITIES:
                recipe, recipe_id = self._backend_recipe(capability, entry.settings, layout)
                entry.recipes[capability], entry.recipe_ids[capability] = recipe, recipe_id
            self._check_story(entry)
        except Exception as exc:  # noqa: BLE001 - one story's failure, whatever it is, is that story's only
            entry.fail(exc)
        return entry

    def _backend_recipe(self, capability: str, settings: Settings, layout: StoryLayout) -> tuple[dict, str]:
        """The validated recipe of a backend choice, shared by every story that makes the same one."""
        choice = getattr(settings, capability)
        # The connection settings reach recipe() for the rare backend whose output depends on one
        # (an LLM model named only in servers.llm_model), so the key holds that one too.
        key = (capability, choice.backend, canonical_json(choice.options), settings.servers.llm_model)
        if key not in self._recipes:
            try:
                recipe = backend_class(capability, choice.backend).recipe(choice.options, servers=settings.servers)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                sources = f"{PROJECT_FILE} or {layout.story_toml}"
                raise ConfigError(
                    f"{sources}: [{capability}] options of {choice.backend!r}: {problems}", file=layout.story_toml
                ) from exc
            self._recipes[key] = (recipe, f"{recipe['backend']} {recipe['version']} {digest(recipe)}")
        return self._recipes[key]

    def _check_story(self, entry: StoryEntry) -> None:
        """What the build would reject later, found now: unknown characters, voices, language."""
        story, settings, layout = entry.story, entry.settings, entry.layout
        speakers = [c.name for c in story.characters]
        tts = self.backend(entry, "tts")
        for name, spec in settings.characters.items():
            file, line = self._setting_source(layout, ("characters", name))
            where = f"{file}:{line}" if line else file
            if name not in speakers:
                raise ConfigError(
                    f"{where}: [characters.{name}]: {name} never speaks in {layout.story_txt}"
                    f"{suggestion(name, speakers)} (speakers: {', '.join(speakers)})", file=file, line=line,
                )
            if spec.voice:
                self._check_voice(layout, tts, name, spec.voice)
            speaker = backend_class("tts", "piper") if (spec.voice or "").startswith("piper:") else type(tts)
            unsupported = [k for k in ("rate", "pitch", "volume") if getattr(spec, k) is not None and k not in speaker.controls]
            if unsupported:
                raise ConfigError(
                    f"{where}: characters.{name}: the {speaker.name} TTS backend cannot set {', '.join(unsupported)}"
                    f" (it honours {', '.join(sorted(speaker.controls)) or 'none of rate, pitch, volume'})",
                    file=file, line=line,
                )
        languages = getattr(tts, "languages", None)
        if callable(languages):
            known = {code.lower() for code in languages() or ()}
            if known and story.language.strip().lower().replace("_", "-") not in known:
                line = story.header_lines.get("language", 1)
                raise ConfigError(
                    f"{layout.story_txt}:{line}: language: {story.language!r} is not a language of the "
                    f"{settings.tts.backend} TTS backend{suggestion(story.language.lower(), sorted(known))}"
                    f" (it speaks {', '.join(sorted(known)[:12])}{', ...' if len(known) > 12 else ''})",
                    file=layout.story_txt, line=line,
                )

    def _check_voice(self, layout: StoryLayout, tts: Any, name: str, voice: str) -> None:
        file, line = self._setting_source(layout, ("characters", name, "voice"))
        where = f"{file}:{line}" if line else file
        if voice.startswith("piper:") and getattr(tts, "name", "") != "piper":
            tts = backend_class("tts", "piper")()
            voice_check = tts.check() or [tts.check_voice(voice, None)]
            if voice_check[0]:
                raise ConfigError(f"{where}: characters.{name}.voice: {voice_check[0]}", file=file, line=line)
            return
        if is_sample_spec(voice) and ("/" in voice or "\\" in voice):
            try:
                sample = resolve(voice, self.path(layout.source_dir), self.root).path
            except ConfigError as exc:
                raise ConfigError(f"{where}: characters.{name}.voice = {voice!r}: {exc}", file=file, line=line) from exc
            problem = tts.check_voice(voice, sample)
            if problem:
                raise ConfigError(f"{where}: characters.{name}.voice: {problem}", file=file, line=line)
            return
        if "/" in voice or "\\" in voice or voice in (".", "..") or "\0" in voice:
            raise ConfigError(
                f"{where}: characters.{name}.voice = {voice!r}: expected a voice name of the TTS backend or"
                f" the name of a file in {layout.source_dir}/voices/ (e.g. {Path(voice).name!r})",
                file=file, line=line,
            )
        sample = self.path(layout.voice_sample(voice))
        check_voice = getattr(tts, "check_voice", None)
        problem = check_voice(voice, sample if sample.is_file() else None) if callable(check_voice) else None
        if problem:
            raise ConfigError(f"{where}: characters.{name}.voice: {problem}", file=file, line=line)

    def _setting_source(self, layout: StoryLayout, loc: tuple[str, ...]) -> tuple[str, int | None]:
        """Which settings file sets ``loc`` for this story, and on which line."""
        for shown in (layout.story_toml, PROJECT_FILE):
            path = self.path(shown)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            line = key_line(text, loc)
            if line:
                return shown, line
        return layout.story_toml, None

    def backend_recipe(self, entry: StoryEntry, capability: str) -> str:
        """The backend ``entry`` uses for ``capability`` as one recipe value: name, version, digest.

        A short string rather than the options dict keeps thousands of per-line recipes cheap to
        digest at every start-up; the digest still changes with any option.
        """
        return entry.recipe_ids[capability]

    def backend_options(self, entry: StoryEntry, capability: str) -> dict[str, Any]:
        """The validated options of the backend ``entry`` uses for ``capability``."""
        return entry.recipes[capability]["options"]

    def backend(self, entry: StoryEntry, capability: str) -> Any:
        """The backend ``entry`` uses for ``capability``: one instance per recipe and servers."""
        recipe, servers = entry.recipes[capability], entry.settings.servers
        key = digest({"recipe": recipe, "servers": servers.model_dump(mode="json")})
        with self._lock:
            if key not in self._backends:
                choice = getattr(entry.settings, capability)
                cls = backend_class(capability, choice.backend)
                self._backends[key] = cls(choice.options, servers=servers)
            return self._backends[key]

    @property
    def buildable(self) -> list[StoryEntry]:
        """The stories that parsed and whose settings are valid."""
        return [entry for entry in self.stories if entry.error is None]

    @property
    def broken(self) -> list[StoryEntry]:
        """The stories that cannot be built, with their errors."""
        return [entry for entry in self.stories if entry.error is not None]


def _shared_cache(settings: Settings) -> Any:
    """The remote cache of ``cache.remote``, opened only when a task first needs it; None if unset."""
    if not settings.cache.remote:
        return None
    from ..store.remote import SharedCache

    cache = settings.cache
    return SharedCache(cache.remote, cache.remote_mode, endpoint=cache.endpoint, region=cache.region)


def _configure_services(root: Path, settings: Settings) -> None:
    """Tell the process's services how to start ComfyUI or the model server (``[services.*]``)."""
    from ..services import services

    services.configure({
        name: spec if spec.cwd is None or spec.cwd.is_absolute() else spec.model_copy(update={"cwd": root / spec.cwd})
        for name, spec in settings.services.items()
    })


def _use_ffmpeg(choice: str) -> None:
    """Select the ffmpeg binary every media operation runs (``video.ffmpeg``)."""
    from ..media import ffmpeg

    use = getattr(ffmpeg, "use_ffmpeg", None)  # being added beside ffmpeg_exe
    if use is None:
        return
    try:
        use(choice)
    except StorybuildError as exc:
        raise ConfigError(f"{PROJECT_FILE}: video.ffmpeg: {exc}", file=PROJECT_FILE) from exc


_projects: dict[Path, Project] = {}


def loaded_projects() -> list[Project]:
    """The projects this process has loaded (one, under doit)."""
    return list(_projects.values())


def load_project(root: str | Path = ".") -> Project:
    """The project at ``root``, loaded once per process (under doit, "." is the dodo file's folder)."""
    key = Path(root).resolve()
    if key not in _projects:
        _projects[key] = Project(key)
    return _projects[key]
