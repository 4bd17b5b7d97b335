"""Which stories a commit changed: the input digest of every story, at a git ref and now.

A story's input digest covers everything its build reads that is not itself built: the files of
its folder (story.txt, story.toml, seeds.toml, voices/), its effective settings (the project's
storybuild.toml with its story.toml laid over, so a project setting the story overrides does not
count), the workflow templates and maps its backends name, the prompt templates a model backend
reads from the project, and the storybuild version. Paths are never guessed: a change to a shared
template names exactly the stories whose settings point at it.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from .config import ProjectConfig
from .errors import ConfigError, StorybuildError
from .store.hashing import digest, file_digest

__all__ = ["changed_stories", "story_digests"]

_CAPABILITIES = ("llm", "tts", "sfx", "image", "animate", "transcribe")
# Where things live and how to reach servers shape no artifact's bytes.
_NOT_INPUTS = {"stories_dir", "build_dir", "state_dir", "cache_dir", "servers"}


def _folder_files(folder: Path, root: Path) -> dict[str, str]:
    """Every file under ``folder`` by its path relative to ``root``, with its digest."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            found[path.relative_to(root).as_posix()] = file_digest(path)
    return found


def _referenced_files(settings: dict[str, Any], root: Path) -> dict[str, str]:
    """Files that backend options name (workflow templates and their maps, prompt folders)."""
    found: dict[str, str] = {}
    for capability in _CAPABILITIES:
        options = (settings.get(capability) or {}).get("options") or {}
        for value in options.values():
            if not isinstance(value, str) or not value:
                continue
            path = root / value
            if path.is_file():
                found[value] = file_digest(path)
                mapping = path.with_name(path.stem + ".params.json")
                if mapping.is_file():
                    found[mapping.relative_to(root).as_posix()] = file_digest(mapping)
            elif path.is_dir() and not value.startswith("."):
                found.update(_folder_files(path, root))
        if (settings.get(capability) or {}).get("backend") not in (None, "rules") and capability == "llm":
            prompts = root / str(options.get("prompts_dir", "prompts"))
            if prompts.is_dir():
                found.update(_folder_files(prompts, root))
    return found


def _version(root: Path) -> str:
    """The storybuild version a tree builds with: its own source, a pin, or the one installed."""
    source = root / "storybuild" / "__init__.py"
    if source.is_file():
        match = re.search(r'__version__\s*=\s*"([^"]+)"', source.read_text(encoding="utf-8"))
        if match:
            return match.group(1)
    for name in ("requirements.txt", "pyproject.toml"):
        path = root / name
        if path.is_file():
            match = re.search(r"storybuild\s*==\s*([\w.]+)", path.read_text(encoding="utf-8"))
            if match:
                return match.group(1)
    from . import __version__

    return __version__


def story_digests(root: Path) -> dict[str, str]:
    """Every story of the project at ``root`` by slug, with its input digest.

    A story whose settings do not load still gets a digest (of its files and the error), so a
    fix to it is a change.
    """
    config = ProjectConfig(root)
    settings = config.settings
    stories_dir = root / settings.stories_dir
    version = _version(root)
    digests = {}
    if not stories_dir.is_dir():
        return digests
    for entry in sorted(os.scandir(stories_dir), key=lambda e: e.name):
        if not (entry.is_dir() and os.path.isfile(os.path.join(entry.path, "story.txt"))):
            continue
        folder = Path(entry.path)
        try:
            effective: Any = config.for_story(folder / "story.toml").model_dump(mode="json", exclude=_NOT_INPUTS)
        except StorybuildError as exc:
            effective = {"error": str(exc)}
        referenced = _referenced_files(effective, root) if "error" not in effective else {}
        digests[entry.name] = digest(
            {"files": _folder_files(folder, folder), "settings": effective, "referenced": referenced,
             "version": version}
        )
    return digests


def _tree_at(ref: str, repo: Path, into: Path) -> Path:
    """Extract the project as it was at ``ref`` into ``into``; the project's folder in it."""
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        archive = subprocess.run(
            ["git", "archive", "--format=tar", ref], cwd=top, capture_output=True, check=True
        ).stdout
    except FileNotFoundError as exc:
        raise ConfigError("storybuild changed needs git on PATH") from exc
    except subprocess.CalledProcessError as exc:
        message = (exc.stderr or b"").decode("utf-8", "replace").strip() if isinstance(exc.stderr, bytes) else exc.stderr
        raise ConfigError(f"git cannot show {ref!r} in {repo}: {message}") from exc
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / Path(repo).resolve().relative_to(Path(top).resolve())


def changed_stories(root: Path, since: str) -> list[str]:
    """Slugs of the stories whose inputs differ between git ref ``since`` and the work tree."""
    now = story_digests(root)
    with tempfile.TemporaryDirectory(prefix="storybuild-changed-") as tmp:
        then = story_digests(_tree_at(since, root, Path(tmp)))
    return sorted(slug for slug, value in now.items() if then.get(slug) != value)


def format_changed(slugs: list[str], style: str) -> str:
    """The changed stories as ``lines`` (one slug a line) or a CI ``matrix`` (JSON, never invalid).

    GitHub Actions rejects a matrix built from an empty list, so the matrix form always has the
    ``story`` key and a separate ``any`` flag the workflow tests before fanning out.
    """
    import json

    if style == "matrix":
        return json.dumps({"story": slugs, "any": bool(slugs)})
    return "\n".join(slugs)
