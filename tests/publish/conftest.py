"""Fixtures for publishing: the tiny story built once per session, a fake YouTube, and a doit runner."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from servers.youtube import FakeYouTube

from storybuild.store.hashing import file_digest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"

DODO = """\
from storybuild.graph import *  # noqa: F401,F403
from storybuild.graph import doit_config
from storybuild.graph.publish import publish, shorts  # noqa: F401

DOIT_CONFIG = doit_config()
"""


class Site:
    """A built project wired to a fake YouTube: settings, token file and environment."""

    def __init__(self, root: Path, fake: FakeYouTube, home: Path) -> None:
        self.root, self.fake, self.home = root, fake, home
        self.token = home / "storybuild" / "youtube" / "default.json"
        self.build = root / "build" / "tiny"
        self.settings({})

    def settings(self, youtube: dict, story: dict | None = None) -> None:
        """Write storybuild.toml's [youtube] table (the fake's endpoint, 256 KiB chunks, short waits always)."""
        values = {"api_endpoint": self.fake.url, "chunk_kib": 256, "retry_seconds": 0.05, **youtube}
        lines = ["[youtube]"] + [f"{key} = {json.dumps(value)}" for key, value in values.items() if value is not None]
        (self.root / "storybuild.toml").write_text("\n".join(lines) + "\n")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COMFYUI_", "LM_STUDIO_", "STORYBUILD_"))}
        env.update(
            STORYBUILD_CACHE_DIR=str(self.root / ".storybuild" / "cache"), XDG_CONFIG_HOME=str(self.home),
            SSL_CERT_FILE=str(self.fake.ca_file), REQUESTS_CA_BUNDLE=str(self.fake.ca_file),
        )
        return env

    def popen(self, *args: str) -> subprocess.Popen:
        """Start ``doit`` in the project, in its own process group."""
        return subprocess.Popen(
            [sys.executable, "-m", "doit", *args], cwd=self.root, env=self.env(), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )

    def replace_built(self, task: str, path: Path, data: bytes) -> None:
        """Put ``data`` in place of build file ``path`` as if ``task`` had made it, as a rebuild with new output does.

        The build makes again any target that is not what its task recorded making, so the record
        in doit's DB is updated with the new file's identity and digest, as the task itself would.
        """
        path.unlink()  # build files are hard links into the cache: never write through them
        path.write_bytes(data)
        stat, name = path.stat(), path.relative_to(self.root).as_posix()
        with sqlite3.connect(self.root / ".storybuild" / "doit.sqlite3") as conn:
            state = json.loads(conn.execute("SELECT task_data FROM doit WHERE task_id = ?", (task,)).fetchone()[0])
            state["_values_:"]["targets"][name] = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino,
                                                   file_digest(path)]
            conn.execute("UPDATE doit SET task_data = ? WHERE task_id = ?", (json.dumps(state), task))

    def doit(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run ``doit`` to the end; what it printed."""
        result = subprocess.run([sys.executable, "-m", "doit", *args], cwd=self.root, env=self.env(),
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"doit {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def command(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run ``python -m storybuild.publish.commands`` in the project."""
        return subprocess.run([sys.executable, "-m", "storybuild.publish.commands", *args], cwd=self.root,
                              env=self.env(), capture_output=True, text=True, timeout=timeout)

    def record(self, name: str = "youtube.json") -> dict:
        """The publish record."""
        return json.loads((self.build / name).read_text())


@pytest.fixture(scope="session")
def built_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny story built once (final.mp4, metadata, subtitles, thumbnail), for every test to copy."""
    root = tmp_path_factory.mktemp("published") / "project"
    (root / "stories").mkdir(parents=True)
    shutil.copytree(DATA / "tiny", root / "stories" / "tiny")
    (root / "dodo.py").write_text(DODO)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMFYUI_", "LM_STUDIO_", "STORYBUILD_"))}
    env["STORYBUILD_CACHE_DIR"] = str(root / ".storybuild" / "cache")
    result = subprocess.run([sys.executable, "-m", "doit", "final_mp4", "metadata", "subtitles", "thumbnail"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture
def fake(tmp_path: Path):
    """A fake YouTube on 127.0.0.1, HTTPS with its own certificate authority."""
    with FakeYouTube(tmp_path) as server:
        yield server


@pytest.fixture
def site(built_once: Path, fake: FakeYouTube, tmp_path: Path) -> Site:
    """A copy of the built project, logged in to the fake (token file 0600 in a private config folder)."""
    root = tmp_path / "project"
    shutil.copytree(built_once, root, symlinks=True)
    made = Site(root, fake, tmp_path / "config")
    from storybuild.publish.auth import save_token

    save_token(made.token, fake.login())
    return made
