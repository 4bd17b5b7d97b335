"""The publishing stages: ``shorts`` cuts vertical clips, ``publish`` puts a story on YouTube.

Neither is a default target: ``doit shorts`` and ``doit publish`` run only when asked. A publish
task is stale when anything it sends changes (final.mp4, metadata, thumbnail, captions, the
``[youtube]`` settings); when it runs, it compares the files with youtube.json and calls only the
endpoints whose part changed (``publish.publisher``). Its record is never cleaned: it is the only
proof of what the channel holds, and it is not in the artifact cache, since a record copied from
elsewhere would claim a video this channel may not have.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed

from .. import progress
from ..story.model import Scene
from .artifact import Artifact, Request, failure_message
from .project import Project, StoryEntry
from .stage import Stage

SHORTS_RULES = 1  # the cutting and drawing rules of publish.shorts; bump when they change


def short_scenes(entry: StoryEntry) -> list[Scene]:
    """The scenes cut into Shorts: the first ``youtube.shorts_count`` that have spoken lines."""
    spoken = [scene for scene in entry.story.scenes if scene.lines]
    return spoken[: entry.settings.youtube.shorts_count]


def short_path(entry: StoryEntry, scene_id: str, suffix: str = ".mp4") -> str:
    """build/<story>/shorts/<scene>.mp4 (or its record, with ``.youtube.json``)."""
    entry.layout.scene_png(scene_id)  # checks the id is a safe file name
    return posixpath.join(entry.layout.dir, "shorts", f"{scene_id}{suffix}")


def shorts_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """shorts/<scene>.mp4: a 1080x1920 clip of each chosen scene, captions and title burned in."""
    layout, settings = entry.layout, entry.settings.youtube
    for scene in short_scenes(entry):

        def build(request: Request, out: dict[str, Path], scene_id: str = scene.id) -> None:
            from ..publish.shorts import cut_short

            cut_short(
                scene_id=scene_id, title=request["title"], timeline=project.path(layout.timeline),
                picture=project.path(layout.scene_png(scene_id)), audio=project.path(layout.final_wav),
                seconds=request["seconds"], out=out["short.mp4"],
            )

        yield Artifact(
            stage="shorts", item=f"{entry.slug}/{scene.id}", targets={"short.mp4": short_path(entry, scene.id)},
            recipe={"rules": SHORTS_RULES, "title": entry.story.title, "seconds": settings.shorts_seconds,
                    "scene": scene.id},
            plan=lambda: {"title": entry.story.title, "seconds": settings.shorts_seconds},
            build=build, runtime=project.runtime,
            inputs=[layout.timeline, layout.scene_png(scene.id), layout.final_wav],
            tools=("ffmpeg", "fonts", "pillow"), title=f"the Short of scene {scene.id}",
        )


@dataclass
class PublishTask(Artifact):
    """An artifact whose action talks to YouTube: no cache, and a record that ``doit clean`` keeps."""

    def task(self) -> dict[str, Any]:
        """The doit subtask: the publish action instead of the cached build."""
        task = super().task()
        task["actions"] = [(_act, [self])]
        task["clean"] = []
        return task


def _act(artifact: Artifact) -> dict[str, Any] | TaskFailed:
    """Publish, and turn any failure into a doit failure naming the story."""
    try:
        artifact.build({}, {})
    except Exception as exc:  # noqa: BLE001 - every failure becomes a doit failure naming the task
        return TaskFailed(failure_message(artifact, exc))
    return {}


@dataclass
class Publication:
    """One video a story publishes: the story's final.mp4, or one of its Shorts."""

    item: str
    video: str
    record: str
    main: bool


def publications(entry: StoryEntry) -> list[Publication]:
    """What ``entry`` publishes: final.mp4, and the Shorts when ``youtube.shorts`` is on."""
    layout = entry.layout
    made = [Publication(entry.slug, layout.final_mp4, posixpath.join(layout.dir, "youtube.json"), True)]
    if entry.settings.youtube.shorts:
        made += [Publication(f"{entry.slug}/{scene.id}", short_path(entry, scene.id),
                             short_path(entry, scene.id, ".youtube.json"), False) for scene in short_scenes(entry)]
    return made


def release(project: Project, entry: StoryEntry, publication: Publication):
    """The ``Release`` of ``publication``, read from the built files (they must exist)."""
    from ..publish.publisher import Release
    from ..publish.record import state_path
    from ..publish.release import video_resource

    layout, settings = entry.layout, entry.settings.youtube
    extra = {"thumbnail": project.path(layout.thumbnail), "captions": project.path(layout.srt),
             "playlist": settings.playlist} if publication.main else {}
    return Release(
        item=publication.item, video=project.path(publication.video), record=project.path(publication.record),
        state=state_path(project.runtime.state, publication.item),
        resource=video_resource(project.path(layout.metadata), project.path(layout.description), settings,
                                entry.story.language, title_suffix="" if publication.main else " #Shorts"),
        language=settings.language or entry.story.language, **extra,
    )


def publish_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """youtube.json: final.mp4 uploaded once, then kept in step; the Shorts too with ``youtube.shorts``."""
    layout, settings = entry.layout, entry.settings.youtube
    for publication in publications(entry):

        def build(request: Request, out: dict[str, Path], publication: Publication = publication) -> None:
            from ..publish.publisher import publish
            from ..publish.session import open_api

            api = open_api(settings, project.runtime.state)
            task = f"publish:{publication.item}"
            publish(release(project, entry, publication), api, settings, api.ledger, progress.warn,
                    lambda done, total: progress.update(task, f"uploaded {done * 100 // max(total, 1)}%"))

        files = [layout.thumbnail, layout.srt] if publication.main else []
        yield PublishTask(
            stage="publish", item=publication.item, targets={"youtube.json": publication.record},
            recipe={"youtube": settings.model_dump(mode="json"), "language": entry.story.language},
            build=build, runtime=project.runtime,
            deps=[publication.video, layout.metadata, layout.description, *files],
            title=f"publish {publication.item} on YouTube",
        )


shorts = Stage("shorts", "Cut vertical Shorts, captions and title burned in (shorts/<scene>.mp4)", shorts_artifacts)
publish = Stage("publish", "Upload to YouTube once and keep it in step (youtube.json); never a default", publish_artifacts)

__all__ = ["Publication", "publications", "publish", "publish_artifacts", "release", "short_scenes", "shorts",
           "shorts_artifacts"]
