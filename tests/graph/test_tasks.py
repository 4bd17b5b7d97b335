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
    assert [t for t in listing if t.startswith("tts:")] == ["tts:tiny"] + [f"tts:tiny/{n:04d}" for n in range(1, 7)]
    assert [t for t in listing if re.fullmatch(r"sfx:tiny/\d+", t)] == ["sfx:tiny/001", "sfx:tiny/002"]
    assert sorted(t for t in listing if t.startswith("scene:")) == [
        "scene:tiny", "scene:tiny/barn", "scene:tiny/hill", "scene:tiny/yard"]
    assert sorted(t for t in listing if t.startswith("character:")) == [
        "character:tiny", "character:tiny/ada", "character:tiny/bo"]


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


def test_stage_colon_story_builds_that_storys_items_only(project):
    project.add_story("tiny")
    project.add_story("other", project.root / "stories" / "tiny")
    result = project.doit("tts:tiny")
    assert "Invalid parameter" not in result.stdout + result.stderr
    assert sorted(project.generated("tts")) == [f"tiny/{n:04d}" for n in range(1, 7)]
    assert project.generated("narration") == []
    assert not (project.build / "other").exists()
    mark = project.mark()
    project.doit("tts:other/0002")
    assert project.reused("tts", mark) + project.generated("tts", mark) == ["other/0002"]


def test_a_bad_voice_in_one_story_breaks_only_that_story(project):
    project.add_story("tiny")
    bad = project.root / "stories" / "greta"
    project.add_story("greta", project.root / "stories" / "tiny")
    (bad / "story.toml").write_text('[characters.ada]\nlook = "tall"\nvoice = "voices/greta.wav"\n')
    listing = project.doit("list", "--all", "--quiet")
    assert "Traceback" not in listing.stderr and "validate:greta" in listing.stdout.split()
    result = project.doit("narration", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output
    assert "stories/greta/story.toml:3: characters.ada.voice = 'voices/greta.wav'" in output
    assert (project.build / "tiny" / "narration.wav").is_file(), output
    assert not (project.build / "greta").exists()


def test_any_error_while_making_one_storys_tasks_is_that_storys(project):
    project.add_story("tiny")
    project.add_story("odd", project.root / "stories" / "tiny")
    (project.root / "dodo.py").write_text(
        "from storybuild.graph import *\n"
        "from storybuild.graph import doit_config\n"
        "import storybuild.graph.stage as stages\n\n\n"
        "def _odd(project, entry):\n"
        "    if entry.slug == 'odd':\n"
        "        raise KeyError('no such thing')\n"
        "    return []\n\n\n"
        "extra = stages.Stage('extra', 'a stage of this project that fails for one story', _odd)\n"
        "DOIT_CONFIG = doit_config()\n"
    )
    result = project.doit("narration", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output
    assert "while making the extra tasks: KeyError: 'no such thing'" in output
    assert (project.build / "tiny" / "narration.wav").is_file() and not (project.build / "odd").exists()
    for task in ("cast:odd", "validate:odd", "tts:odd", "extra:odd"):
        info = project.doit("info", task, check=False)
        assert "Traceback" not in info.stdout + info.stderr and "validate:odd" in info.stdout


def test_check_and_build_reject_the_same_settings(project):
    project.add_story("tiny")
    story_toml = project.root / "stories" / "tiny" / "story.toml"
    cases = {
        '[characters.greta]\nlook = "old"\n': "stories/tiny/story.toml:1: [characters.greta]: greta never speaks",
        "[tts]\noptions = { rate = 9000 }\n": "[tts] options of 'espeak': rate",
        '[characters.ada]\nvoice = "zz9"\n': "stories/tiny/story.toml:2: characters.ada.voice: espeak has no voice 'zz9'",
    }
    story = project.story("tiny")
    original = story.read_text(encoding="utf-8")
    for text, message in cases.items():
        story_toml.write_text(text)
        check = project.storybuild("check")
        assert check.returncode == 1 and message in check.stdout, check.stdout
        build = project.doit("cast", check=False)
        assert build.returncode != 0 and message in build.stdout + build.stderr
    story_toml.unlink()
    story.write_text(original.replace("style:", "language: french\nstyle:"), encoding="utf-8")
    check = project.storybuild("check")
    assert check.returncode == 1 and "stories/tiny/story.txt:3: language: 'french' is not a language" in check.stdout
    assert "language: 'french'" in project.doit("cast", check=False).stdout


def test_warnings_show_once_in_the_build(project):
    project.add_story("tiny")
    story = project.story("tiny")
    story.write_text("author: me\n" + story.read_text(encoding="utf-8"), encoding="utf-8")
    first = project.doit("cast")
    assert "stories/tiny/story.txt:1:1: 'author:' is not a header" in first.stderr
    again = project.doit("cast")
    assert "author" not in again.stdout + again.stderr


def test_doit_from_another_directory_uses_the_projects_folders(project, tmp_path):
    project.add_story("tiny")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "stories").mkdir(parents=True)  # a decoy: the root's stories must be the ones used
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "doit", "-f", str(project.root / "dodo.py"), "cast"],
        cwd=elsewhere, env=project.env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (project.build / "tiny" / "cast.json").is_file()
    assert not (elsewhere / "build").exists() and not (elsewhere / ".storybuild").exists()


def test_clean_of_a_stage_removes_its_orphans(project):
    project.add_story("tiny")
    project.doit("tts")
    lines = project.build / "tiny" / "lines"
    orphan = lines / "0042.wav"
    orphan.write_bytes((lines / "0001.wav").read_bytes())
    project.doit("clean", "tts")
    assert not orphan.exists() and list(lines.glob("*.wav")) == []
    assert (project.build / "tiny" / "cast.json").is_file(), "a stage's clean touches its own folder only"
