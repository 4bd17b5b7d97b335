"""`storybuild changed`: exactly the stories whose build inputs differ from a git ref."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from storybuild.changes import changed_stories

STORY = "title: {title}\n\n(room) A small room.\n[mara] Hello there.\nThe end.\n"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding a project of three stories, one using a shared workflow."""
    root = tmp_path / "repo"
    for slug in ("alpha", "beta", "gamma"):
        (root / "stories" / slug).mkdir(parents=True)
        (root / "stories" / slug / "story.txt").write_text(STORY.format(title=slug), encoding="utf-8")
    (root / "workflows").mkdir()
    (root / "workflows" / "scene.json").write_text('{"1": {"class_type": "SaveImage", "inputs": {}}}')
    (root / "workflows" / "scene.params.json").write_text('{"output": "1"}')
    (root / "stories" / "beta" / "story.toml").write_text(
        '[image]\nbackend = "comfyui"\noptions = { workflow = "workflows/scene.json" }\n'
    )
    (root / "stories" / "gamma" / "voices").mkdir()
    (root / "stories" / "gamma" / "voices" / "mara.wav").write_bytes(b"RIFF fake")
    (root / "storybuild.toml").write_text("seed = 0\n")
    _git(root, "init", "-q")
    _git(root, "-c", "user.email=t@t", "-c", "user.name=t", "add", "-A")
    _git(root, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "start")
    return root


def test_nothing_changed_is_empty(repo: Path) -> None:
    (repo / "README.md").write_text("docs only\n")
    assert changed_stories(repo, "HEAD") == []


def test_one_story_edited(repo: Path) -> None:
    (repo / "stories" / "alpha" / "story.txt").write_text(STORY.format(title="alpha 2"), encoding="utf-8")
    assert changed_stories(repo, "HEAD") == ["alpha"]


def test_shared_template_names_its_users_only(repo: Path) -> None:
    (repo / "workflows" / "scene.json").write_text('{"1": {"class_type": "SaveImage", "inputs": {"x": 1}}}')
    assert changed_stories(repo, "HEAD") == ["beta"]


def test_template_map_counts_too(repo: Path) -> None:
    (repo / "workflows" / "scene.params.json").write_text('{"output": "1", "seed": ["1", "seed"]}')
    assert changed_stories(repo, "HEAD") == ["beta"]


def test_voice_file(repo: Path) -> None:
    (repo / "stories" / "gamma" / "voices" / "mara.wav").write_bytes(b"RIFF other")
    assert changed_stories(repo, "HEAD") == ["gamma"]


def test_project_setting_names_every_story_but_one_that_overrides_it(repo: Path) -> None:
    (repo / "stories" / "gamma" / "story.toml").write_text('[video]\nfps = 24\n')
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "gamma pins fps")
    (repo / "storybuild.toml").write_text("seed = 0\n[video]\nfps = 30\n")
    assert changed_stories(repo, "HEAD") == ["alpha", "beta"]


def test_server_address_is_not_an_input(repo: Path) -> None:
    (repo / "storybuild.toml").write_text('seed = 0\n[servers]\ncomfyui_url = "http://gpu2:8188"\n')
    assert changed_stories(repo, "HEAD") == []


def test_new_and_removed_stories(repo: Path) -> None:
    (repo / "stories" / "delta").mkdir()
    (repo / "stories" / "delta" / "story.txt").write_text(STORY.format(title="d"), encoding="utf-8")
    assert changed_stories(repo, "HEAD") == ["delta"]


def test_older_ref(repo: Path) -> None:
    (repo / "stories" / "beta" / "story.txt").write_text(STORY.format(title="beta 2"), encoding="utf-8")
    _git(repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "beta")
    assert changed_stories(repo, "HEAD") == []
    assert changed_stories(repo, "HEAD~1") == ["beta"]


def test_unknown_ref_is_a_clear_error(repo: Path) -> None:
    from storybuild.errors import ConfigError

    with pytest.raises(ConfigError, match="no-such-ref"):
        changed_stories(repo, "no-such-ref")


def test_against_the_empty_tree_every_story_is_new(repo: Path) -> None:
    empty = _git(repo, "hash-object", "-t", "tree", "/dev/null").strip()
    assert changed_stories(repo, empty) == ["alpha", "beta", "gamma"]


def test_the_command_prints_a_matrix(repo: Path) -> None:
    import json
    import sys

    (repo / "stories" / "beta" / "story.txt").write_text(STORY.format(title="beta 3"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "storybuild.cli", "--root", str(repo), "changed", "--since", "HEAD",
                           "--format", "matrix"], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {"story": ["beta"], "any": True}
