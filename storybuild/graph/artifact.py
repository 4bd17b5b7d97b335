"""One artifact task: its definition (recipe, inputs, targets) and the action that makes it.

Every stage describes its artifacts as ``Artifact``s; this module turns each into a doit task
dict and runs it the same way: work out the generation request, derive the cache key from the
recipe and the inputs' content, link the result from the cache or generate it into temp files,
keep it in the cache, and rename it into place. The recipe digest is the task's one up-to-date
check (``RecipeUnchanged``; doit keeps one key for it), so a changed backend, option, text or seed
makes exactly that task stale.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed

from ..errors import StorybuildError
from ..store import journal
from ..store.atomic import temp_path
from ..store.cache import ArtifactCache
from ..store.hashing import digest, file_digest

Request = dict[str, Any]
Plan = Callable[[], Request]
Build = Callable[[Request, dict[str, Path]], None]


@dataclass
class Runtime:
    """What every action shares: the cache and the journal."""

    cache: ArtifactCache
    journal: Path


@dataclass
class Artifact:
    """The definition of one artifact task.

    ``recipe`` is everything known at graph time that shapes the result; ``plan`` adds what is
    only known once the dependencies exist (a voice from cast.json, a duration from the timeline)
    and returns the request handed to ``build``. ``inputs`` are the files ``build`` reads as data:
    their content goes into the cache key. ``deps`` are further files that make the task stale.
    ``after`` names tasks that must be built first without making this one stale (the thumbnail
    and portraits come with ``final_mp4`` but do not change it).
    """

    stage: str
    item: str
    targets: dict[str, str]
    recipe: dict[str, Any]
    build: Build
    runtime: Runtime
    plan: Plan | None = None
    inputs: list[str] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    title: str = ""

    def task(self) -> dict[str, Any]:
        """The doit subtask dict."""
        # Paths come from StoryLayout, already normalized (doit tells ``./x`` from ``x``); this runs
        # for every task on every start-up, so it does not normalize them again.
        return {
            "name": self.item,
            "actions": [(run, [self])],
            "file_dep": sorted({*self.inputs, *self.deps}),
            "targets": list(self.targets.values()),
            "uptodate": [RecipeUnchanged(digest(self.recipe))],
            "task_dep": list(self.after),
            "clean": True,
            "doc": self.title,
        }


class RecipeUnchanged:
    """doit uptodate check: the recipe digest equals the one saved at the last success.

    doit's own ``config_changed`` does the same, but doit calls ``inspect.signature`` on every
    uptodate callable on every run; a precomputed ``__signature__`` makes that free, which is a
    tenth of a no-op run over thousands of tasks.
    """

    __signature__ = inspect.Signature(
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in ("task", "values")]
    )
    KEY = "_config_changed"

    def __init__(self, recipe_digest: str) -> None:
        self.digest = recipe_digest

    def configure_task(self, task: Any) -> None:
        """Save the digest with the task's values when it succeeds."""
        task.value_savers.append(lambda: {self.KEY: self.digest})

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        return values.get(self.KEY) == self.digest


def cache_key(artifact: Artifact, request: Request) -> str:
    """The cache key: the recipe, the request and the inputs' content."""
    inputs = {p: file_digest(p) for p in artifact.inputs}
    return digest({"stage": artifact.stage, "recipe": artifact.recipe, "request": request, "inputs": inputs})


def run(artifact: Artifact) -> dict[str, Any] | TaskFailed:
    """The doit action: reuse from the cache or generate, then place the targets atomically."""
    started = time.monotonic()
    try:
        request = artifact.plan() if artifact.plan else {}
        key = cache_key(artifact, request)
        targets = {name: Path(path) for name, path in artifact.targets.items()}
        cache = artifact.runtime.cache
        if cache.fetch(key, targets):
            outcome = "reused"
        else:
            _generate(artifact, request, key, targets)
            outcome = "generated"
    except StorybuildError as exc:
        _remove_stale(artifact)
        return TaskFailed(str(exc))
    except OSError as exc:
        _remove_stale(artifact)
        where = f" ({exc.filename})" if exc.filename else ""
        return TaskFailed(f"{exc.strerror or exc}{where}")
    seconds = round(time.monotonic() - started, 3)
    journal.append(
        artifact.runtime.journal,
        {"stage": artifact.stage, "item": artifact.item, "outcome": outcome, "key": key, "seconds": seconds},
    )
    return {"outcome": outcome, "seconds": seconds}


def _remove_stale(artifact: Artifact) -> None:
    """A failed task's old targets no longer match its recipe: remove them, never leave them."""
    for path in artifact.targets.values():
        Path(path).unlink(missing_ok=True)


def _generate(artifact: Artifact, request: Request, key: str, targets: dict[str, Path]) -> None:
    temps = {name: temp_path(path) for name, path in targets.items()}
    try:
        for path in temps.values():
            path.parent.mkdir(parents=True, exist_ok=True)
        artifact.build(request, temps)
        missing = [name for name, path in temps.items() if not path.is_file()]
        if missing:
            raise StorybuildError(f"the build produced no {', '.join(missing)}")
        artifact.runtime.cache.store(key, temps)
        for name, path in temps.items():
            path.replace(targets[name])
    finally:
        for path in temps.values():
            path.unlink(missing_ok=True)
