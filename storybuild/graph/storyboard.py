"""The ``storyboard`` stage: ``build/<story>/storyboard.html``, the review page without a server.

It shows what ``final_mp4`` makes (pictures, clips, lines, sounds, portraits, the video), so it
depends on those files; each link carries the file's digest, so a browser never shows a stale
picture after a reroll, and the page is rewritten exactly when something it shows changes.
A ``quality.json`` (a transcription check), when one exists, enters the recipe: it is no task's
target, so reading its digest when the tasks are made is how adding or changing it rewrites the page.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path

from ..store.hashing import digest, file_digest
from .artifact import Artifact, Request
from .project import Project, StoryEntry
from .stage import Stage

__all__ = ["storyboard", "storyboard_artifacts"]

_RENDERER = 1  # bump when the page's markup changes


def storyboard_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """One static storyboard page per story."""
    from ..serve.storyboard import STATIC, artifacts_of

    layout = entry.layout
    shown = [posixpath.join(layout.dir, path) for path in artifacts_of(project, entry)]
    quality = posixpath.join(layout.dir, "quality.json")
    made = [path for path in shown if path != quality]
    target = posixpath.join(layout.dir, "storyboard.html")

    def build(request: Request, out: dict[str, Path]) -> None:
        from ..serve.storyboard import render

        def link(path: str) -> str:
            file = project.path(layout.dir) / path
            return f"{path}?v={file_digest(file)[:12]}" if file.is_file() else path

        html = render(project, entry, link, live=False)
        out["storyboard.html"].write_text(html, encoding="utf-8")

    yield Artifact(
        stage="storyboard", item=entry.slug, targets={"storyboard.html": target},
        recipe={"story": digest(entry.story.model_dump(mode="json", exclude={"path"})), "renderer": _RENDERER,
                "css": file_digest(STATIC / "storyboard.css"),
                "quality": file_digest(project.path(quality)) if project.path(quality).is_file() else None},
        build=build, runtime=project.runtime, inputs=made, title=f"storyboard of {entry.slug}",
        tools=(),
    )


storyboard = Stage("storyboard", "Write a review page of every artifact (storyboard.html)", storyboard_artifacts)
