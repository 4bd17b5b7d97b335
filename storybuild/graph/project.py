"""The project as the task generators see it: settings, and every story parsed or failed.

It is loaded once per process and shared by every stage's generator. doit creates all tasks on
every run, even a no-op one, so this is start-up cost: it reads each story's text and small toml
files and nothing from build/.
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
from ..config import ConfigError, ProjectConfig, Settings, read_toml
from ..errors import StorybuildError
from ..layout import StoryLayout
from ..store.cache import ArtifactCache
from ..store.hashing import canonical_json, digest
from ..story import Story, parse_story
from .artifact import Runtime


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

    def seed(self, stage: str, item: str) -> int:
        """The seed of ``stage``'s ``item``: the project seed plus any reroll."""
        base = self.settings.seed if self.settings else 0
        return base + int(self.seeds.get(stage, {}).get(item, 0))


class Project:
    """Settings, stories and shared runtime of the project rooted at ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._backends: dict[str, Any] = {}
        self._recipes: dict[tuple[str, str, str], tuple[dict, str]] = {}
        self._lock = threading.Lock()
        self.error: StorybuildError | None = None
        try:
            self.config: ProjectConfig | None = ProjectConfig(root)
            self.settings = self.config.settings
        except ConfigError as exc:
            self.config, self.settings, self.error = None, Settings(), exc
        state = self.settings.state_dir
        self.runtime = Runtime(
            cache=ArtifactCache(self.settings.cache_path), journal=Path(state) / "log.jsonl"
        )

    @cached_property
    def stories(self) -> list[StoryEntry]:
        """Every folder of the stories directory that holds a story.txt, sorted by slug."""
        stories_dir = self.settings.stories_dir
        try:
            slugs = sorted(
                entry.name
                for entry in os.scandir(stories_dir)
                if entry.is_dir() and os.path.isfile(os.path.join(entry.path, "story.txt"))
            )
        except FileNotFoundError:
            return []
        return [self._load(slug) for slug in slugs]

    def _load(self, slug: str) -> StoryEntry:
        layout = StoryLayout(slug, str(self.settings.stories_dir), str(self.settings.build_dir))
        entry = StoryEntry(slug=slug, layout=layout)
        if self.error is not None:
            entry.error = self.error
            return entry
        try:
            entry.story = parse_story(layout.story_txt, slug)
            entry.settings = self.config.for_story(Path(layout.story_toml))
            entry.seeds = _read_seeds(Path(layout.seeds_toml))
            for capability in ("llm", "tts", "sfx", "image", "animate"):
                recipe, recipe_id = self._backend_recipe(capability, entry.settings, layout)
                entry.recipes[capability], entry.recipe_ids[capability] = recipe, recipe_id
        except StorybuildError as exc:
            entry.error = exc
        return entry

    def _backend_recipe(self, capability: str, settings: Settings, layout: StoryLayout) -> tuple[dict, str]:
        """The validated recipe of a backend choice, shared by every story that makes the same one."""
        choice = getattr(settings, capability)
        key = (capability, choice.backend, canonical_json(choice.options))
        if key not in self._recipes:
            try:
                recipe = backend_class(capability, choice.backend).recipe(choice.options)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                sources = f"{self.config.path} or {layout.story_toml}"
                raise ConfigError(f"{sources}: [{capability}] options of {choice.backend!r}: {problems}") from exc
            self._recipes[key] = (recipe, f"{recipe['backend']} {recipe['version']} {digest(recipe)}")
        return self._recipes[key]

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
        """The backend ``entry`` uses for ``capability``, one instance per distinct recipe."""
        recipe = entry.recipes[capability]
        key = digest(recipe)
        with self._lock:
            if key not in self._backends:
                choice = getattr(entry.settings, capability)
                self._backends[key] = backend_class(capability, choice.backend)(choice.options)
            return self._backends[key]

    @property
    def buildable(self) -> list[StoryEntry]:
        """The stories that parsed and whose settings are valid."""
        return [entry for entry in self.stories if entry.error is None]

    @property
    def broken(self) -> list[StoryEntry]:
        """The stories that cannot be built, with their errors."""
        return [entry for entry in self.stories if entry.error is not None]


def _read_seeds(path: Path) -> dict[str, dict[str, int]]:
    data = read_toml(path)
    seeds: dict[str, dict[str, int]] = {}
    for stage, items in data.items():
        if not isinstance(items, dict) or not all(isinstance(v, int) for v in items.values()):
            raise ConfigError(f"{path}: [{stage}] must map item names to whole numbers")
        seeds[stage] = dict(items)
    return seeds


_projects: dict[Path, Project] = {}


def load_project(root: str | Path = ".") -> Project:
    """The project at ``root``, loaded once per process."""
    key = Path(root).resolve()
    if key not in _projects:
        _projects[key] = Project(Path(root))
    return _projects[key]
