"""Shared fixtures: a throwaway storybuild project and a way to run doit on it for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

sys.path.insert(0, str(Path(__file__).resolve().parent))


class Project:
    """A project folder with its own stories, cache and doit state."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.build = root / "build"
        self.journal = root / ".storybuild" / "log.jsonl"

    def story(self, slug: str) -> Path:
        """The story.txt of ``slug``."""
        return self.root / "stories" / slug / "story.txt"

    def add_story(self, slug: str, source: Path | None = None) -> Path:
        """Copy a story folder (default: tests/data/<slug>) into the project."""
        source = source or DATA / slug
        shutil.copytree(source, self.root / "stories" / slug)
        return self.story(slug)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COMFYUI_", "LM_STUDIO_"))}
        env["STORYBUILD_CACHE_DIR"] = str(self.root / ".storybuild" / "cache")
        return env

    def doit(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run ``doit`` in the project, as a user would, and return what it printed."""
        result = subprocess.run(
            [sys.executable, "-m", "doit", *args], cwd=self.root, env=self.env(),
            capture_output=True, text=True, timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"doit {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def storybuild(self, *args: str) -> subprocess.CompletedProcess:
        """Run the ``storybuild`` command in the project."""
        return subprocess.run(
            [sys.executable, "-m", "storybuild.cli", *args], cwd=self.root, env=self.env(),
            capture_output=True, text=True, timeout=120,
        )

    def records(self) -> list[dict]:
        """Every journal record so far."""
        from storybuild.store import journal

        return journal.read(self.journal)

    def mark(self) -> int:
        """A bookmark in the journal; pass it to ``generated`` to count what came after."""
        return len(self.records())

    def generated(self, stage: str, since: int = 0) -> list[str]:
        """Items of ``stage`` generated (not reused) since the bookmark ``since``."""
        return [r["item"] for r in self.records()[since:] if r["stage"] == stage and r["outcome"] == "generated"]

    def reused(self, stage: str, since: int = 0) -> list[str]:
        """Items of ``stage`` reused from the cache since the bookmark ``since``."""
        return [r["item"] for r in self.records()[since:] if r["stage"] == stage and r["outcome"] == "reused"]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """An empty project with the repository's dodo.py."""
    root = tmp_path / "project"
    (root / "stories").mkdir(parents=True)
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    return Project(root)


@pytest.fixture(scope="module")
def built_tiny(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A project holding the tiny story, built once to final.mp4 for every test of a module."""
    root = tmp_path_factory.mktemp("built") / "project"
    (root / "stories").mkdir(parents=True)
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    built = Project(root)
    built.add_story("tiny")
    built.doit("final_mp4")
    return built
