"""A build stage: one doit basename whose subtasks are one artifact each.

Nikola's shape: each stage yields its group task first (its doc is the line ``doit list`` shows),
then one subtask per story and item. ``doit <stage>:<story>`` names one story's part of a stage:
for per-item stages (tts, sfx, scene...) it is a subtask without actions that depends on every item.

A story's artifacts for every stage are made at once, the first time any stage asks: an exception
while making them is that story's error, and the story builds nothing, instead of one stage's
tasks failing while others run. A story that cannot be built gets, in every stage, one subtask
that depends on ``validate:<story>``; that task fails once with the story's error, and every
other story builds as usual.
"""

from __future__ import annotations

import json
import os
import posixpath
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed

from ..store.hashing import digest
from .artifact import Artifact, RecipeUnchanged
from .project import Project, StoryEntry, load_project

ArtifactMaker = Callable[[Project, StoryEntry], Iterable[Artifact]]

# Every stage, by name, in the order they were declared: a story's tasks are made for all at once.
STAGES: dict[str, Stage] = {}


class Stage:
    """A doit task creator for one stage of the build."""

    def __init__(self, name: str, doc: str, artifacts: ArtifactMaker) -> None:
        self.name = name
        self.doc = doc
        self.artifacts = artifacts
        STAGES[name] = self

    def create_doit_tasks(self) -> Iterator[dict[str, Any]]:
        """The group task, then a subtask per artifact (or per broken story)."""
        project = load_project()
        # The group's clean removes what no current task of this stage makes (see ``orphans``).
        yield {"name": None, "doc": self.doc, "clean": [(_clean_orphans, [self.name])]}
        settled = project.settled()
        for slug in project.slugs:
            if settled.skips(slug):
                continue  # nothing of it changed since a run that left it built: no task to check
            entry = project.entry(slug)
            made = story_artifacts(project, entry)
            if made is None:
                yield {
                    "name": entry.slug, "actions": None, "task_dep": [f"validate:{entry.slug}"],
                    "doc": f"{entry.slug} cannot be built: see validate:{entry.slug}",
                }
                continue
            artifacts = made[self.name]
            # A story with warnings shows them (validate:<story>) before its first task runs.
            shown = [f"validate:{entry.slug}"] if entry.story.warnings else []
            for artifact in artifacts:
                task = artifact.task()
                task["task_dep"] += shown
                yield task
            if all(artifact.item != entry.slug for artifact in artifacts):
                yield {
                    "name": entry.slug, "actions": None,
                    "task_dep": [f"{self.name}:{artifact.item}" for artifact in artifacts],
                    "doc": f"every {self.name} item of {entry.slug}",
                }


def story_artifacts(project: Project, entry: StoryEntry) -> dict[str, list[Artifact]] | None:
    """Every stage's artifacts of ``entry``, made once; None when the story cannot be built."""
    if entry.error is None and entry.artifacts is None:
        made: dict[str, list[Artifact]] = {}
        for name, stage in STAGES.items():
            try:
                made[name] = list(stage.artifacts(project, entry))
            except Exception as exc:  # noqa: BLE001 - any failure here is this story's alone
                entry.fail(exc, stage=name)
                return None
        entry.artifacts = made
        project.settled().note(entry)
    return entry.artifacts if entry.error is None else None


def _is_temp(name: str) -> bool:
    # store.atomic's temp names: leave them to its sweep, which knows whether their writer lives.
    return name.startswith(".") and ".tmp" in name


def _listed(manifest: Path) -> Iterator[str]:
    """The ``"file"`` entries of a JSON target (names beside it): what a task makes when their number is known late."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("file"), str):
                yield item["file"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def orphans(project: Project, entry: StoryEntry, stage: str | None = None) -> list[Path]:
    """Files in ``entry``'s build folder that no current task makes (temp files excepted).

    A task's files are its targets, and the files its JSON targets list as ``{"file": name}``
    (sfx/inferred.json lists the implied sounds, whose number only the task knows). With
    ``stage``, only the folders that hold that stage's items alone (``lines/``, ``scenes/``): the
    files directly in ``build/<story>/`` belong to several stages, so only ``storybuild prune``
    judges them.
    """
    made = story_artifacts(project, entry)
    if made is None:
        return []
    declared = [target for artifacts in made.values() for a in artifacts for target in a.targets.values()]
    listed = [
        posixpath.join(posixpath.dirname(target), file)
        for target in declared if target.endswith(".json") for file in _listed(project.path(target))
    ]
    targets = {os.path.normpath(project.path(target)) for target in declared + listed}
    if stage is None:
        folders, recurse = [project.path(entry.layout.dir)], True
    else:
        def folders_of(names: Iterable[str]) -> set[str]:
            return {os.path.dirname(t) for n in names for a in made[n] for t in a.targets.values()}

        mine = folders_of([stage]) - folders_of(n for n in made if n != stage) - {entry.layout.dir}
        folders, recurse = [project.path(folder) for folder in sorted(mine)], False
    found = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            if not recurse:
                dirnames.clear()
            for name in sorted(filenames):
                path = os.path.normpath(os.path.join(dirpath, name))
                if not _is_temp(name) and path not in targets:
                    found.append(Path(path))
    return found


def _clean_orphans(stage: str, dryrun: bool = False) -> None:
    """doit clean action of a stage's group task: remove its items that no story makes any more."""
    project = load_project()
    for entry in project.buildable:
        for path in orphans(project, entry, stage):
            print(f"{stage} - {'would remove' if dryrun else 'removing'} orphan '{path.relative_to(project.root)}'")
            if not dryrun:
                path.unlink(missing_ok=True)


def _fail(message: str) -> TaskFailed:
    return TaskFailed(message)


def _warn(warnings: list[str]) -> None:
    print("\n".join(f"warning: {warning}" for warning in warnings), file=sys.stderr)


def error_message(entry: StoryEntry) -> str:
    """A broken story's error as ``validate`` and ``storybuild check`` show it."""
    error = entry.error
    if error is None:
        return ""
    return f"while making the {error.stage} tasks: {error}" if error.stage else str(error)


class Validate:
    """The ``validate`` stage: a failing task per story that cannot be built, warnings shown once."""

    name = "validate"
    doc = "Report stories whose text or settings have errors (they build nothing), and warnings"

    def create_doit_tasks(self) -> Iterator[dict[str, Any]]:
        """The group task, then a failing subtask per broken story and one per story with warnings."""
        project = load_project()
        yield {"name": None, "doc": self.doc}
        settled = project.settled()
        for slug in project.slugs:
            if settled.skips(slug):
                continue  # a settled story has no error, and its warnings were shown when they appeared
            entry = project.entry(slug)
            story_artifacts(project, entry)
            if entry.error is not None:
                yield {
                    "name": entry.slug, "actions": [(_fail, [error_message(entry)])], "uptodate": [False],
                    "doc": f"{entry.slug} cannot be built",
                }
            elif entry.story.warnings:
                # Shown when they first appear (or change), not on every run.
                yield {
                    "name": entry.slug, "actions": [(_warn, [entry.story.warnings])],
                    "uptodate": [RecipeUnchanged(digest(entry.story.warnings))],
                    "doc": f"warnings about {entry.slug}",
                }
