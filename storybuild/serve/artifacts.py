"""Which file under ``build/<story>/`` a request names, refusing every path that would leave it.

Refused before touching the disk: an unsafe story name, an empty or absolute path, a backslash,
a NUL, an empty, ``.`` or ``..`` segment (encoded slashes arrive here decoded, so ``..%2F`` is a
``..`` segment). Then the resolved file must still be inside the story's resolved build folder,
which refuses symlinks that point out of it, and the folder must be inside ``build/``.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import StorybuildError

__all__ = ["ArtifactRefused", "artifact_file", "check_scene", "check_slug"]

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")  # as stories/<slug>/ folders are named (STORY_FORMAT.md)
_SCENE = re.compile(r"[^\W_][\w.-]{0,47}")  # the parser's scene ids: no separator, no leading dot


class ArtifactRefused(StorybuildError):
    """A request for a path that is not a file of the story's build folder."""


def check_slug(slug: str) -> str:
    """``slug`` if it is a story name the parser accepts, else ArtifactRefused."""
    if not _SLUG.fullmatch(slug or ""):
        raise ArtifactRefused(f"{slug!r} is not a story name: lowercase letters, digits and '-'")
    return slug


def check_scene(scene: str) -> str:
    """``scene`` if it could be a scene id, else ArtifactRefused."""
    if not _SCENE.fullmatch(scene or "") or ".." in scene:
        raise ArtifactRefused(f"{scene!r} is not a scene id")
    return scene


def artifact_file(root: Path, build_dir: str | Path, story: str, path: str) -> Path:
    """The existing file ``path`` of ``story``'s build folder; ArtifactRefused or FileNotFoundError."""
    check_slug(story)
    if not path or path.startswith("/") or "\\" in path or "\0" in path:
        raise ArtifactRefused(f"refusing artifact path {path!r}")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise ArtifactRefused(f"refusing artifact path {path!r}: every segment must be a plain name")
    build = (Path(root) / build_dir).resolve()
    base = (build / story).resolve()
    if not base.is_relative_to(build):
        raise ArtifactRefused(f"build/{story} leads out of the build folder")
    target = (base / path).resolve()
    if not target.is_relative_to(base):
        raise ArtifactRefused(f"refusing {path!r}: it leads out of build/{story}/")
    if not target.is_file():
        raise FileNotFoundError(path)
    return target
