"""Settled stories: a run leaves out what its stamp says still holds, and nothing else.

Each test builds for real, changes one thing on disk, and checks what the next `doit` did from
the journal (what was made) and the summary (how many stories were left out unchecked).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sys

import numpy as np
import pytest
import soundfile as sf

from storybuild.store.hashing import file_digest


def settled(result) -> int:
    """How many stories the run left out, from its summary line."""
    found = re.search(r"(\d+) settled stor(?:y|ies) not checked", result.stdout)
    return int(found.group(1)) if found else 0


def made(project, mark: int) -> list[str]:
    """``stage:item`` of every artifact made (generated or from the cache) since ``mark``."""
    return sorted(f"{r['stage']}:{r['item']}" for r in project.records()[mark:])


@pytest.fixture
def two(project):
    """tiny and twin, built to final.wav. Twin's lines differ, so no target of one is a link to the other's
    (identical artifacts share one cache entry: damage to one would be damage to both)."""
    project.add_story("tiny")
    shutil.copytree(project.root / "stories" / "tiny", project.root / "stories" / "twin")
    story = project.story("twin")
    text = re.sub(r"^([^#(\n][^\n]*?)([.?])$", r"\1, twice\2", story.read_text(), flags=re.M)
    story.write_text(text.replace("title: The Small Bell", "title: The Other Bell"))
    project.doit("final_wav")
    return project


def rewrite_same_size(path, restore_mtime: bool = True) -> None:
    """Other bytes at the same size, with the old mtime put back: only the ctime tells."""
    before = os.stat(path)
    data = bytearray(path.read_bytes())
    data[-2:] = bytes(b ^ 0xFF for b in data[-2:])
    os.chmod(path, 0o644)
    with open(path, "r+b") as handle:  # in place: same inode
        handle.write(bytes(data))
    if restore_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)


def test_a_noop_leaves_every_settled_story_out(two):
    mark = two.mark()
    result = two.doit("final_wav")
    assert settled(result) == 2 and "nothing to do, 0 tasks up to date" in result.stdout
    assert two.records()[mark:] == []


def test_editing_one_story_does_not_make_the_other_storys_tasks(two):
    story = two.story("twin")
    story.write_text(story.read_text().replace("The bell rang once, twice.", "The old bell rang once, twice."))
    mark = two.mark()
    result = two.doit("final_wav")
    assert settled(result) == 1  # tiny was left out: its tasks were never created
    assert made(two, mark) and all(item.split(":")[1].startswith("twin") for item in made(two, mark))
    assert "tts:twin/0001" in made(two, mark)
    built = int(re.search(r"(\d+) built", result.stdout).group(1))
    uptodate = int(re.search(r"(\d+) up to date", result.stdout).group(1))
    # Only twin's tasks were checked: as many as a run that names twin alone checks.
    alone = two.doit("final_wav:twin")
    assert built + uptodate == int(re.search(r"(\d+) tasks up to date", alone.stdout).group(1))
    # twin's sounds came back from the cache, linked again to the entries tiny's sounds are links
    # to (their ctime moved); tiny's stamp still holds: their bytes are the ones it recorded.
    assert any(item.startswith("sfx:twin/") for item in made(two, mark))
    assert os.stat(two.build / "tiny" / "sfx" / "001.wav").st_ino == os.stat(two.build / "twin" / "sfx" / "001.wav").st_ino
    assert settled(two.doit("final_wav")) == 2


@pytest.mark.parametrize("damage", ["delete", "truncate", "same size, mtime restored"])
def test_a_damaged_target_of_a_settled_story_is_made_again(two, damage):
    target = two.build / "twin" / "lines" / "0002.wav"
    good = file_digest(target)
    if damage == "delete":
        target.unlink()
    elif damage == "truncate":
        os.chmod(target, 0o644)
        os.truncate(target, 100)
    else:
        rewrite_same_size(target)
    assert not target.exists() or file_digest(target) != good
    mark = two.mark()
    result = two.doit("final_wav")
    assert made(two, mark) == ["tts:twin/0002"]  # that target only: the voice comes out the same
    assert file_digest(target) == good
    assert settled(result) == 1  # tiny was not checked
    assert settled(two.doit("final_wav")) == 2  # and twin is settled again


def test_a_damaged_final_target_is_made_again(two):
    target = two.build / "tiny" / "final.wav"
    good = file_digest(target)
    rewrite_same_size(target)
    mark = two.mark()
    assert settled(two.doit("final_wav")) == 1
    assert made(two, mark) == ["final_wav:tiny"]
    assert file_digest(target) == good


@pytest.mark.parametrize("what", ["story.txt", "a target"])
def test_a_touched_file_rebuilds_nothing(two, what):
    path = two.story("tiny") if what == "story.txt" else two.build / "tiny" / "narration.wav"
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 5_000_000_000))
    mark = two.mark()
    result = two.doit("final_wav")
    assert two.records()[mark:] == [] and "nothing to do" in result.stdout
    assert settled(result) == 1  # the touched story was checked, and found up to date
    assert settled(two.doit("final_wav")) == 2  # and is settled again, under its new mtime


def test_a_project_setting_rebuilds_exactly_what_reads_it(two):
    (two.root / "storybuild.toml").write_text("[audio]\nline_pause = 0.5\n")
    mark = two.mark()
    result = two.doit("final_wav")
    assert settled(result) == 0
    stages = {item.split(":")[0] for item in made(two, mark)}
    assert "tts" not in stages and "narration" in stages and "final_wav" in stages
    assert {item.split(":")[1] for item in made(two, mark) if item.startswith("narration")} == {"tiny", "twin"}


def test_a_backend_option_rebuilds_the_voices(two):
    (two.root / "storybuild.toml").write_text('[tts]\nbackend = "espeak"\n[tts.options]\nrate = 150\n')
    mark = two.mark()
    two.doit("final_wav")
    voiced = [item for item in made(two, mark) if item.startswith("tts:")]
    assert len(voiced) == 2 * 6  # every line of both stories


def _voice(path, hz: float) -> None:
    """A voiced-sounding sample: a buzzy tone at ``hz`` with syllable-like gaps."""
    rate = 24000
    t = np.arange(int(rate * 2.0)) / rate
    tone = sum(np.sin(2 * np.pi * hz * k * t) / k for k in range(1, 6))
    envelope = (np.sin(2 * np.pi * 3 * t) > -0.3).astype(float)
    sf.write(path, 0.3 * tone * envelope, rate, subtype="PCM_16")


def test_a_changed_voice_file_revoices_exactly_that_characters_lines(project):
    project.add_story("tiny")
    folder = project.root / "stories" / "tiny"
    (folder / "voices").mkdir()
    _voice(folder / "voices" / "ada.wav", 210)
    (folder / "story.toml").write_text('[characters.ada]\nvoice = "ada.wav"\n')
    project.doit("final_wav")
    assert settled(project.doit("final_wav")) == 1
    _voice(folder / "voices" / "ada.wav", 95)  # a low voice now: another espeak variant
    mark = project.mark()
    project.doit("final_wav")
    voiced = [item for item in made(project, mark) if item.startswith("tts:")]
    assert voiced == ["tts:tiny/0002", "tts:tiny/0004"]  # ada's two lines


def test_a_changed_workflow_template_is_seen_through_the_stamp(two):
    (two.root / "workflows").mkdir()
    template = two.root / "workflows" / "mine.json"
    template.write_text("{}")
    assert settled(two.doit("final_wav")) == 0  # a new template: every story is checked again
    assert settled(two.doit("final_wav")) == 2
    template.write_text('{"1": {}}')
    mark = two.mark()
    result = two.doit("final_wav")
    assert settled(result) == 0 and two.records()[mark:] == []  # checked; nothing here reads it


def _doit_as_version(project, version: str, backend_version: str | None = None, *args: str):
    """``doit`` in a process where storybuild (and optionally espeak's backend) claims another version."""
    import subprocess

    patch = f"import storybuild; storybuild.__version__ = {version!r}\n"
    if backend_version:
        patch += ("from storybuild.backends.tts.espeak import EspeakTTS\n"
                  f"EspeakTTS.version = {backend_version!r}\n")
    code = patch + "import sys\nfrom doit.doit_cmd import DoitMain\nfrom doit.cmd_base import DodoTaskLoader\n" \
        "sys.exit(DoitMain(DodoTaskLoader()).run(sys.argv[1:]))\n"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=project.root, env=project.env(),
                          capture_output=True, text=True, timeout=600, check=True)


def test_a_new_package_version_checks_every_story_and_rebuilds_what_its_recipes_change(two):
    mark = two.mark()
    result = _doit_as_version(two, "9.9.9", None, "final_wav")
    assert settled(result) == 0 and two.records()[mark:] == []  # checked, nothing changed
    result = _doit_as_version(two, "9.9.10", "espeak-next", "final_wav")
    voiced = [item for item in made(two, mark) if item.startswith("tts:")]
    assert settled(result) == 0 and len(voiced) == 12  # the backend's version is in every voice's recipe


def test_list_info_clean_and_forget_say_the_same_with_stamps(two, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(two.root, bare)
    with sqlite3.connect(bare / ".storybuild" / "doit.sqlite3") as conn:
        conn.execute("DROP TABLE settled")
    with sqlite3.connect(two.root / ".storybuild" / "doit.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM settled").fetchone()[0] == 2

    def said(root, *args):
        import subprocess

        out = subprocess.run([sys.executable, "-m", "doit", *args], cwd=root, env=two.env(),
                             capture_output=True, text=True, timeout=300)
        return out.returncode, out.stdout.replace(str(root), "ROOT")

    for args in (["list", "--all"], ["list", "--all", "--status"], ["info", "tts:tiny/0001"],
                 ["clean", "-n", "tts"], ["clean", "-n", "final_wav"], ["clean", "-n", "scene"],
                 ["forget", "tts:twin/0002"], ["list", "--status", "tts"], ["clean", "tts:tiny/0003"],
                 ["list", "--status", "tts"]):
        assert said(two.root, *args) == said(bare, *args), args


def test_forget_and_ignore_drop_the_stamp(two):
    two.doit("forget", "tts:twin/0003")
    mark = two.mark()
    result = two.doit("final_wav")
    assert settled(result) == 1  # twin is checked again; tiny is not
    assert made(two, mark) == ["tts:twin/0003"]  # doit forgot it: it runs (from the cache)
    assert settled(two.doit("final_wav")) == 2
    two.doit("ignore", "narration:tiny")
    assert settled(two.doit("final_wav")) == 1


def test_clean_then_build_remakes_what_clean_removed(two):
    two.doit("clean", "tts:tiny/0001")
    assert not (two.build / "tiny" / "lines" / "0001.wav").exists()
    mark = two.mark()
    two.doit("final_wav")
    assert made(two, mark) == ["tts:tiny/0001"]


def test_always_and_named_stories_are_never_left_out(two):
    mark = two.mark()
    assert settled(two.doit("-a", "final_wav")) == 0
    assert len(two.records()[mark:]) > 20  # -a: every task ran (from the cache)
    result = two.doit("final_wav:tiny")
    assert settled(result) == 0 and "nothing to do" in result.stdout
    assert int(re.search(r"(\d+) tasks up to date", result.stdout).group(1)) > 10  # tiny's tasks, checked
    result = two.doit("tts:tiny/0001")
    assert "nothing to do" in result.stdout and settled(result) == 0


def test_a_stage_the_last_run_did_not_reach_is_checked_then_settled_too(two):
    mark = two.mark()
    result = two.doit("subtitles")  # final_wav does not need the subtitles: never built
    assert settled(result) == 0
    assert [i for i in made(two, mark) if i.startswith("subtitles:")] == ["subtitles:tiny", "subtitles:twin"]
    assert settled(two.doit("subtitles")) == 2
    # That run built only subtitles and changed no file final_wav reads: both stages stay settled.
    assert settled(two.doit("final_wav")) == 2
    story = two.story("tiny")
    story.write_text(story.read_text().replace("Nobody answered.", "Nobody answered at all."))
    two.doit("subtitles")  # rebuilt tiny's voices and subtitles, not its mix
    assert settled(two.doit("final_wav")) == 1  # so tiny's final_wav is checked (and made) again
