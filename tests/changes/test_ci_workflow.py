"""`storybuild ci github`: the workflow parses and runs the right commands (it cannot run here)."""

from __future__ import annotations

import re
import subprocess

import yaml

from storybuild.ci import PINNED, github_workflow


def test_workflow_is_valid_yaml_with_the_two_jobs() -> None:
    flow = yaml.safe_load(github_workflow())
    assert set(flow["jobs"]) == {"changes", "build"}
    build = flow["jobs"]["build"]
    assert build["needs"] == "changes"
    assert "needs.changes.outputs.any == 'true'" in build["if"]  # an empty matrix never fans out
    assert build["strategy"]["matrix"]["story"].startswith("${{ fromJSON(")


def test_commands_are_changed_doit_and_cache_push() -> None:
    text = github_workflow()
    assert 'storybuild changed --since "$BASE" --format matrix' in text
    assert 'doit -n 2 "final_mp4:${{ matrix.story }}"' in text
    assert 'storybuild cache push --story "${{ matrix.story }}"' in text


def test_every_action_is_pinned_by_a_full_sha() -> None:
    uses = re.findall(r"uses: (\S+)", github_workflow())
    assert uses
    for use in uses:
        action, _, ref = use.partition("@")
        assert action in PINNED and re.fullmatch(r"[0-9a-f]{40}", ref), use


def test_forks_get_a_read_only_cache() -> None:
    env = yaml.safe_load(github_workflow())["jobs"]["build"]["env"]
    mode = env["STORYBUILD_CACHE_REMOTE_MODE"]
    assert "head.repo.fork" in mode and "'read'" in mode


def test_first_push_base_is_the_empty_tree_git_can_archive(tmp_path) -> None:
    """The fallback base the workflow uses on a first push is a tree git archives as empty."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    empty = subprocess.run(["git", "hash-object", "-t", "tree", "/dev/null"], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout.strip()
    archive = subprocess.run(["git", "archive", "--format=tar", empty], cwd=tmp_path, capture_output=True, check=True)
    assert archive.stdout  # a valid (empty) tar, not an error


def test_the_command_writes_the_workflow_once(tmp_path) -> None:
    import sys

    command = [sys.executable, "-m", "storybuild.cli", "--root", str(tmp_path), "ci", "github"]
    first = subprocess.run(command, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    written = tmp_path / ".github" / "workflows" / "storybuild.yml"
    assert yaml.safe_load(written.read_text())["name"] == "storybuild"
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode == 1 and "--force" in again.stdout
