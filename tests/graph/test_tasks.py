"""The task graph as doit sees it: stages, subtasks, docs, broken stories."""

from __future__ import annotations

import re


def test_doit_list_shows_every_stage_with_a_doc(project):
    project.add_story("tiny")
    listing = project.doit("list").stdout
    stages = dict(re.findall(r"^(\w+)\s+(.+)$", listing, re.MULTILINE))
    for stage in ("cast", "tts", "narration", "subtitles", "sfx_plan", "sfx", "final_wav", "soundtrack",
                  "character", "scene", "thumbnail", "animate", "video", "final_mp4", "validate"):
        assert stage in stages, listing
        assert len(stages[stage]) > 20


def test_subtasks_per_story_and_item(project):
    project.add_story("tiny")
    listing = project.doit("list", "--all", "--quiet").stdout.split()
    assert {"cast:tiny", "narration:tiny", "final_wav:tiny", "final_mp4:tiny"} <= set(listing)
    assert [t for t in listing if t.startswith("tts:")] == [f"tts:tiny/{n:04d}" for n in range(1, 7)]
    assert [t for t in listing if t.startswith("sfx:")] == ["sfx:tiny/001", "sfx:tiny/002"]
    assert sorted(t for t in listing if t.startswith("scene:")) == ["scene:tiny/barn", "scene:tiny/hill", "scene:tiny/yard"]
    assert sorted(t for t in listing if t.startswith("character:")) == ["character:tiny/ada", "character:tiny/bo"]


def test_broken_story_fails_with_file_line_column_and_others_build(project):
    project.add_story("tiny")
    broken = project.root / "stories" / "broken"
    broken.mkdir()
    (broken / "story.txt").write_text("title: Broken\n\n[mara Hello there.\n", encoding="utf-8")
    result = project.doit("final_wav", check=False)
    assert result.returncode != 0
    assert "stories/broken/story.txt:3:1:" in result.stdout + result.stderr
    assert (project.build / "tiny" / "final.wav").is_file()
    assert not (project.build / "broken").exists()


def test_bad_setting_names_file_and_key(project):
    project.add_story("tiny")
    (project.root / "stories" / "tiny" / "story.toml").write_text("[audio]\nline_pause = 'long'\n")
    result = project.doit("cast", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "stories/tiny/story.toml" in output and "audio.line_pause" in output


def test_unknown_backend_is_a_clear_error(project):
    project.add_story("tiny")
    (project.root / "storybuild.toml").write_text('[tts]\nbackend = "nope"\n')
    result = project.doit("tts", check=False)
    output = result.stdout + result.stderr
    assert "no tts backend named 'nope'" in output and "espeak" in output
