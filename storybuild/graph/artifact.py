"""One artifact task: its definition (recipe, inputs, targets) and the action that makes it.

Every stage describes its artifacts as ``Artifact``s; this module turns each into a doit task
dict and runs it the same way: work out the generation request, derive the cache key from the
recipe, the inputs' content and the tools' identities, link the result from the cache or generate
it into temp files, keep it in the cache, and rename it into place. The recipe digest is the
task's one up-to-date check (``RecipeUnchanged``; doit keeps one key for it), so a changed
backend, option, text or seed makes exactly that task stale.

A task that fails keeps its last good targets: atomic writes leave no half file, and doit knows
the task is stale, so it runs again next time; until a new result replaces them, the old files are
what downstream tasks and the user have. Every failure becomes a doit failure naming stage, story
and item; ``STORYBUILD_DEBUG=1`` adds the traceback.
"""

from __future__ import annotations

import inspect
import json
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed

from .. import progress
from ..backends.context import JobContext, job_context
from ..errors import CacheError, StorybuildError
from ..store import journal
from ..store.atomic import temp_path
from ..store.cache import ArtifactCache
from ..store.hashing import digest, file_digest
from ..store.orphans import sweep_once
from ..store.tools import identities, stage_tools
from . import settled

Request = dict[str, Any]
Plan = Callable[[], Request]
Build = Callable[[Request, dict[str, Path]], None]


@dataclass
class Runtime:
    """What every action shares: the cache, the journal and the state folder for job records."""

    cache: ArtifactCache
    journal: Path
    state_dir: Path | None = None

    @property
    def state(self) -> Path:
        """Where durable job records live: ``state_dir``, else the journal's folder."""
        return Path(self.state_dir) if self.state_dir is not None else Path(self.journal).parent


@dataclass
class Artifact:
    """The definition of one artifact task.

    ``recipe`` is everything known at graph time that shapes the result; ``plan`` adds what is
    only known once the dependencies exist (a voice from cast.json, a duration from the timeline)
    and returns the request handed to ``build``. ``inputs`` are the files ``build`` reads as data:
    their content goes into the cache key. ``deps`` are further files that make the task stale.
    ``after`` names tasks that must be built first without making this one stale (the thumbnail
    and portraits come with ``final_mp4`` but do not change it). ``tools`` names the tools whose
    identity enters the cache key; by default the stage's (``store.tools.stage_tools``).
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
    tools: tuple[str, ...] | None = None

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
        return values.get(self.KEY) == self.digest and targets_intact(values.get("targets"))


def target_states(targets: dict[str, Path]) -> dict[str, list[Any]]:
    """Each placed target's identity and digest, saved with the task's values (see ``targets_intact``)."""
    states = {}
    for path in targets.values():
        name = path.as_posix()
        ident, content = settled.identity(path), file_digest(path)
        settled.observe(name, ident, content)
        states[name] = [*ident, content]
    return states


def targets_intact(states: dict[str, list[Any]] | None) -> bool:
    """Whether every target still holds the bytes the task made.

    doit only checks that a target exists. A target whose size, mtime, ctime and inode are as saved
    is taken as is (a same-size rewrite with the mtime put back still moves the ctime); otherwise
    its digest decides, so a touched or copied-back file is intact and a truncated one is not.
    """
    if not states:
        return True  # saved before targets were recorded: doit's own existence check stands
    for name, state in states.items():
        ident = settled.identity(name)
        if ident == settled.MISSING:
            return False
        if list(ident) != state[:4]:
            if ident[0] != state[0] or file_digest(name) != state[4]:
                return False
        settled.observe(name, ident, state[4])
    return True


# Which recipe value names the backend serving a stage, so its class can declare its tools.
_CAPABILITY = {"tts": "tts", "sfx": "sfx", "music": "sfx", "character": "image", "scene": "image",
               "thumbnail": "image", "animate": "animate"}
# Bump when what goes into a cache key changes shape.
_KEY_FORMAT = 2


def tools_of(artifact: Artifact) -> tuple[str, ...]:
    """The tools whose identities go into ``artifact``'s cache key."""
    if artifact.tools is not None:
        return artifact.tools
    capability = _CAPABILITY.get(artifact.stage)
    backend = None
    chosen = artifact.recipe.get(capability) if capability else None
    if isinstance(chosen, str) and chosen:
        from ..backends import backend_class

        try:
            backend = backend_class(capability, chosen.split()[0])
        except StorybuildError:
            backend = None
    return stage_tools(artifact.stage, backend)


def cache_key(artifact: Artifact, request: Request, tools: dict[str, str] | None = None) -> str:
    """The cache key: recipe, request, the inputs' content and the tools' identities; never a path.

    A request value naming a file stands for that file's content, so a renamed story or a moved
    build folder finds every artifact it made before.
    """
    digests = {os.path.normpath(p): file_digest(p) for p in artifact.inputs}
    inputs = list(digests.values())
    return digest({
        "key": _KEY_FORMAT, "stage": artifact.stage, "recipe": artifact.recipe,
        "request": _by_content(request, digests), "inputs": inputs,
        "tools": tools or {},
    })


def _by_content(value: Any, digests: dict[str, str]) -> Any:
    """``value`` with every path of an existing file replaced by that file's digest.

    Inputs are hashed already; another file a request names (a listing of sounds, a portrait a
    stage did not declare) is hashed here, so no story folder name ever reaches a key.
    """
    if isinstance(value, dict):
        return {k: _by_content(v, digests) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_by_content(v, digests) for v in value]
    if isinstance(value, Path) or (isinstance(value, str) and ("/" in value or os.sep in value)):
        path = os.path.normpath(value)
        if path not in digests and os.path.isfile(path):
            digests[path] = file_digest(path)
        if path in digests:
            return f"xxh3:{digests[path]}"
    return value


def run(artifact: Artifact) -> dict[str, Any] | TaskFailed:
    """The doit action: reuse from the cache or generate, then place the targets atomically."""
    started = time.monotonic()
    task = f"{artifact.stage}:{artifact.item}"
    targets = {name: Path(path) for name, path in artifact.targets.items()}
    try:
        for folder in {path.parent for path in targets.values()}:
            sweep_once(folder)
        request = artifact.plan() if artifact.plan else {}
        tools = identities(tools_of(artifact))
        key = cache_key(artifact, request, tools)
        context = JobContext(
            stage=artifact.stage, item=artifact.item, key=key, state_dir=artifact.runtime.state,
            progress=lambda status: progress.update(task, status), cache=artifact.runtime.cache,
        )
        with job_context(context):
            cache = artifact.runtime.cache
            if cache.fetch(key, targets, warn=progress.warn):
                outcome = "reused"
            elif os.environ.get("STORYBUILD_CACHE_ONLY"):  # `storybuild cache pull`: fetch, never make
                raise CacheError("not in the local or the shared cache (pulling only: nothing is generated)")
            else:
                _generate(artifact, request, key, targets, tools)
                outcome = "generated"
    except Exception as exc:  # noqa: BLE001 - every failure becomes a doit failure naming the task
        return TaskFailed(failure_message(artifact, exc))
    finally:
        progress.update(task, "")
    seconds = round(time.monotonic() - started, 3)
    journal.append(
        artifact.runtime.journal,
        {"stage": artifact.stage, "item": artifact.item, "outcome": outcome, "key": key, "seconds": seconds},
    )
    # Saved by doit beside the recipe digest, so `storybuild explain` can name the field that changed.
    return {"outcome": outcome, "seconds": seconds, "key": key, "recipe": _plain(artifact.recipe),
            "targets": target_states(targets)}


def _plain(recipe: dict[str, Any]) -> dict[str, Any]:
    """``recipe`` as JSON gives it back (paths as strings), the form doit's DB stores."""
    return json.loads(json.dumps(recipe, default=str))


def failure_message(artifact: Artifact, exc: Exception) -> str:
    """What the user reads when ``artifact``'s task fails with ``exc``: where, what, and what to do."""
    story = artifact.item.partition("/")[0]
    if isinstance(exc, StorybuildError):
        error = exc
    elif isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        error = StorybuildError(f"{exc.strerror or exc}{where}", file=exc.filename)
    else:
        error = StorybuildError(
            f"unexpected {type(exc).__name__}: {exc} (a bug in storybuild or a backend; "
            "run again with STORYBUILD_DEBUG=1 to see where, and report it)"
        )
    for name, value in (("stage", artifact.stage), ("story", story), ("item", artifact.item)):
        if getattr(error, name, None) is None:
            setattr(error, name, value)
    message = error.located()
    if os.environ.get("STORYBUILD_DEBUG", "") not in ("", "0"):
        message += "\n" + "".join(traceback.format_exception(exc)).rstrip()
    return message


def _generate(artifact: Artifact, request: Request, key: str, targets: dict[str, Path], tools: dict[str, str]) -> None:
    temps = {name: temp_path(path) for name, path in targets.items()}
    try:
        for path in temps.values():
            path.parent.mkdir(parents=True, exist_ok=True)
        artifact.build(request, temps)
        missing = [name for name, path in temps.items() if not path.is_file()]
        if missing:
            raise StorybuildError(f"the build produced no {', '.join(missing)}")
        about = {"stage": artifact.stage, "item": artifact.item, "recipe": artifact.recipe, "tools": tools}
        artifact.runtime.cache.store(key, temps, about, warn=progress.warn)
        for name, path in temps.items():
            path.replace(targets[name])
    finally:
        for path in temps.values():
            path.unlink(missing_ok=True)
