"""Only stale artifacts rebuild: counted in real generations (the journal), not in tasks."""

from __future__ import annotations

import pytest


@pytest.fixture
def audio_built(project):
    project.add_story("tiny")
    project.doit("final_wav")
    return project


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_noop_run_executes_nothing(audio_built):
    mark = audio_built.mark()
    result = audio_built.doit("final_wav")
    assert "nothing to do" in result.stdout
    assert audio_built.records()[mark:] == []


def test_editing_one_line_voices_exactly_that_line(audio_built):
    story = audio_built.story("tiny")
    mark = audio_built.mark()
    cast = (audio_built.build / "tiny" / "cast.json").read_bytes()
    edit(story, "[male_bo] (quietly) Not me.", "[male_bo] (quietly) Not me, I promise.")
    audio_built.doit("final_wav")
    assert audio_built.generated("tts", mark) == ["tiny/0003"]
    assert audio_built.generated("narration", mark) == ["tiny"]
    assert audio_built.generated("final_wav", mark) == ["tiny"]
    # The rules read names, the narration's pronouns and the scene descriptions, not what a line
    # says: the cast is not asked again (a model, which reads the whole script, would be).
    assert audio_built.generated("cast", mark) == []
    assert audio_built.generated("cues", mark) == []  # nor the implied cues: the rules read narration only
    assert (audio_built.build / "tiny" / "cast.json").read_bytes() == cast


def test_inserting_a_line_at_the_top_voices_one_line(audio_built):
    story = audio_built.story("tiny")
    mark = audio_built.mark()
    edit(story, "The bell rang once.", "It was very early.\nThe bell rang once.")
    audio_built.doit("final_wav")
    assert audio_built.generated("tts", mark) == ["tiny/0001"]
    assert len(audio_built.reused("tts", mark)) == 6  # every old line moved one place down


def test_reverting_an_edit_voices_nothing(audio_built):
    story = audio_built.story("tiny")
    original = story.read_text(encoding="utf-8")
    edit(story, "Nobody answered.", "Nobody answered at all.")
    audio_built.doit("final_wav")
    mark = audio_built.mark()
    story.write_text(original, encoding="utf-8")
    audio_built.doit("final_wav")
    assert audio_built.generated("tts", mark) == []
    assert audio_built.reused("tts", mark) == ["tiny/0005"]
    assert audio_built.generated("narration", mark) == []  # the earlier narration is reused too


def test_changing_one_voice_regenerates_only_that_characters_lines(audio_built):
    toml = audio_built.root / "stories" / "tiny" / "story.toml"
    mark = audio_built.mark()
    toml.write_text(toml.read_text() + '\n[characters.bo]\nvoice = "m7"\n')
    audio_built.doit("final_wav")
    assert sorted(audio_built.generated("tts", mark)) == ["tiny/0003", "tiny/0006"]  # bo's two lines


def test_changing_a_pause_rebuilds_the_narration_not_the_voices(audio_built):
    (audio_built.root / "storybuild.toml").write_text("[audio]\nline_pause = 0.5\n")
    mark = audio_built.mark()
    audio_built.doit("final_wav")
    assert audio_built.generated("tts", mark) == []
    assert audio_built.generated("narration", mark) == ["tiny"]


def test_parallel_build_gives_identical_results(project, tmp_path):
    import hashlib
    import shutil

    project.add_story("tiny")
    project.doit("-n", "2", "-P", "thread", "final_wav")
    parallel = {p.relative_to(project.build): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in project.build.rglob("*") if p.is_file()}
    shutil.rmtree(project.build)
    shutil.rmtree(project.root / ".storybuild")
    project.doit("final_wav")
    serial = {p.relative_to(project.build): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in project.build.rglob("*") if p.is_file()}
    assert parallel == serial and len(serial) > 10


def test_clean_removes_a_stage_and_the_cache_rebuilds_it(audio_built):
    lines = audio_built.build / "tiny" / "lines"
    assert len(list(lines.glob("*.wav"))) == 6
    audio_built.doit("clean", "tts")
    assert list(lines.glob("*.wav")) == []
    assert (audio_built.build / "tiny" / "narration.wav").is_file()
    mark = audio_built.mark()
    audio_built.doit("final_wav")
    assert audio_built.generated("tts", mark) == []
    assert len(audio_built.reused("tts", mark)) == 6


def test_rerolling_a_line_voices_that_line_again_and_nothing_else_of_the_voices(audio_built):
    mark = audio_built.mark()
    done = audio_built.storybuild("reroll", "tts", "tiny/0002")
    assert done.returncode == 0, done.stderr
    audio_built.doit("final_wav")
    assert audio_built.generated("tts", mark) == ["tiny/0002"]
    assert audio_built.generated("cast", mark) == []
    assert audio_built.generated("cues", mark) == []  # nor the implied cues: the rules read narration only
    seeds = (audio_built.root / "stories" / "tiny" / "seeds.toml").read_text()
    assert '[tts]' in seeds and '"0002" = 1' in seeds
    (audio_built.root / "stories" / "tiny" / "seeds.toml").unlink()  # back as it was: from the cache
    mark = audio_built.mark()
    audio_built.doit("final_wav")
    assert audio_built.generated("tts", mark) == [] and audio_built.reused("tts", mark) == ["tiny/0002"]
