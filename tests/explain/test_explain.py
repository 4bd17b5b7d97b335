"""``storybuild explain`` names what changed: a line's text, a setting, a missing target."""

from __future__ import annotations

import pytest

from storybuild.store.hashing import digest


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    import shutil

    from conftest import REPO, Project

    project = Project(tmp_path_factory.mktemp("explain"))
    (project.root / "stories").mkdir()
    shutil.copy(REPO / "dodo.py", project.root)
    project.add_story("tiny")
    project.doit("final_wav")
    return project


def explain(project, task: str) -> str:
    result = project.storybuild("explain", task)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_up_to_date_task_says_so_and_how_it_last_ran(built):
    out = explain(built, "tts:tiny/0003")
    assert "tts:tiny/0003: up to date (last run generated" in out


def test_a_one_line_edit_names_the_text_and_its_digests(built):
    story = built.story("tiny")
    original = story.read_text(encoding="utf-8")
    story.write_text(original.replace("Not me.", "Not me, I promise."), encoding="utf-8")
    try:
        out = explain(built, "tts:tiny/0003")
        assert "would run" in out
        assert "recipe text:" in out
        assert digest("Not me.")[:12] in out and digest("Not me, I promise.")[:12] in out
        assert "Not me, I promise." in out
        # The mix waits for that line: explained through the narration that joins it.
        out = explain(built, "final_wav:tiny")
        assert "final_wav:tiny: runs if what it depends on makes a different file" in out
        assert "tts:tiny/0003: would run" in out
        assert "tts:tiny/0001: would run" not in out
        # The rules' cast reads no line's words: it is not stale, so it is not named.
        assert "cast:tiny: would run" not in out
    finally:
        story.write_text(original, encoding="utf-8")


def test_a_settings_edit_names_the_option(built):
    toml = built.root / "storybuild.toml"
    toml.write_text("[audio]\nline_pause = 0.5\n")
    try:
        out = explain(built, "narration:tiny")
        assert "recipe audio.line_pause:" in out and "-> 0.5" in out
    finally:
        toml.unlink()


def test_a_deleted_target_and_a_changed_file(built):
    wav = built.build / "tiny" / "lines" / "0002.wav"
    saved = wav.read_bytes()
    wav.unlink()
    try:
        out = explain(built, "tts:tiny/0002")
        assert "target missing: build/tiny/lines/0002.wav" in out
    finally:
        wav.write_bytes(saved)
    narration = built.build / "tiny" / "narration.wav"
    saved = narration.read_bytes()
    narration.unlink()
    narration.write_bytes(saved[:-2] + b"\x01\x02")
    out = explain(built, "final_wav:tiny")
    assert "file changed: build/tiny/narration.wav (xxh3" in out


def test_never_built_and_unknown_tasks(built):
    assert "never built" in explain(built, "scene:tiny/yard")
    result = built.storybuild("explain", "scene:tiny/nowhere")
    assert result.returncode == 1 and "no item" in result.stderr


def test_a_changed_target_is_named_with_its_digests(built):
    import os

    target = built.build / "tiny" / "lines" / "0002.wav"
    data = target.read_bytes()
    os.chmod(target, 0o644)
    target.unlink()  # a hard link into the cache: replaced, not written through
    target.write_bytes(data[:-4] + b"\0\0\0\1")
    out = explain(built, "tts:tiny/0002")
    assert "tts:tiny/0002: would run" in out and "target changed since it was made: build/tiny/lines/0002.wav" in out
    built.doit("final_wav")
    assert target.read_bytes() == data


def test_the_build_says_why_each_task_runs_when_asked(built):
    story = built.story("tiny")
    original = story.read_text(encoding="utf-8")
    story.write_text(original.replace("Nobody answered.", "Nobody answered, not one."), encoding="utf-8")
    try:
        env = {**built.env(), "STORYBUILD_EXPLAIN": "1"}
        import subprocess
        import sys

        out = subprocess.run([sys.executable, "-m", "doit", "final_wav"], cwd=built.root, env=env,
                             capture_output=True, text=True, timeout=300, check=True).stdout
        assert "tts       tiny/0005  runs because:" in out
        assert '- recipe text: "Nobody answered." (xxh3 ' in out and '-> "Nobody answered, not one."' in out
        assert "narration tiny  runs because:" in out and "file changed: build/tiny/lines/0005.wav" in out
        assert "runs because" not in built.doit("final_wav").stdout  # without it, nothing extra
    finally:
        story.write_text(original, encoding="utf-8")
        built.doit("final_wav")
