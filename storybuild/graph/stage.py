"""A build stage: one doit basename whose subtasks are one artifact each.

Nikola's shape: each stage yields its group task first (its doc is the line ``doit list`` shows),
then one subtask per story and item. A story that cannot be built gets, in every stage, one
subtask that depends on ``validate:<story>``; that task fails once with the story's error, and
every other story builds as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from doit.exceptions import TaskFailed

from .artifact import Artifact
from .project import Project, StoryEntry, load_project

ArtifactMaker = Callable[[Project, StoryEntry], Iterable[Artifact]]


class Stage:
    """A doit task creator for one stage of the build."""

    def __init__(self, name: str, doc: str, artifacts: ArtifactMaker) -> None:
        self.name = name
        self.doc = doc
        self.artifacts = artifacts

    def create_doit_tasks(self) -> Iterator[dict[str, Any]]:
        """The group task, then a subtask per artifact (or per broken story)."""
        project = load_project()
        yield {"name": None, "doc": self.doc}
        for entry in project.stories:
            if entry.error is not None:
                yield {"name": entry.slug, "actions": None, "task_dep": [f"validate:{entry.slug}"]}
                continue
            for artifact in self.artifacts(project, entry):
                yield artifact.task()


def _fail(message: str) -> TaskFailed:
    return TaskFailed(message)


class Validate:
    """The ``validate`` stage: one failing task per story that does not parse or configure."""

    name = "validate"
    doc = "Report stories whose text or settings have errors (they build nothing)"

    def create_doit_tasks(self) -> Iterator[dict[str, Any]]:
        """The group task, then one always-failing subtask per broken story."""
        project = load_project()
        yield {"name": None, "doc": self.doc}
        for entry in project.broken:
            yield {"name": entry.slug, "actions": [(_fail, [str(entry.error)])], "uptodate": [False]}
