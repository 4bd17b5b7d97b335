"""End to end on real doit: transcribe and quality as stages, cached, and retakes in the tts stage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


from storybuild.config import read_toml

from .conftest import need

HERE = Path(__file__).resolve().parent
STORY = """title: Listening
(harbor) A small harbor before dawn.
The fog came in before dawn, as it always did at the end of October.
[mara] Father, wake up. The lamp on the point is out.
[elias] Look for yourself. There is nothing on the point. Nothing at all.
"""
STORY_TOML = """[characters.mara]
voice = "m3"
[characters.elias]
voice = "m1"
"""
DODO_INTEGRATED = """import sys
sys.path.insert(0, {here!r})
from storybuild.backends.registry import BUILTIN
BUILTIN["tts"]["flaky"] = "flaky_tts:FlakyTTS"
from storybuild.graph import *  # noqa
from storybuild.graph import doit_config
DOIT_CONFIG = doit_config()
"""


def make_project(project, dodo: str, settings: str = "") -> None:
    need("faster_whisper", "pip install 'storybuild[transcribe]'")
    folder = project.root / "stories" / "listening"
    folder.mkdir(parents=True)
    (folder / "story.txt").write_text(STORY)
    (folder / "story.toml").write_text(STORY_TOML)
    (project.root / "dodo.py").write_text(dodo.format(here=str(HERE)))
    (project.root / "storybuild.toml").write_text('[tts]\nbackend = "flaky"\n' + settings)


def test_retakes_keep_the_better_take_and_a_rebuild_does_nothing_nor_hears_anything(project) -> None:
    make_project(project, DODO_INTEGRATED, "retakes = 2\n[quality]\nmax_wer = 0.5\n")
    project.doit("quality")
    report = json.loads((project.build / "listening" / "quality.json").read_text())
    assert report["flagged"] == 0, report
    assert read_toml(project.root / "stories" / "listening" / "seeds.toml")["tts"] == {"0002": 1}
    assert project.generated("transcribe") == []  # the retake's transcripts were cached: none heard twice
    assert sorted(project.reused("transcribe")) == ["listening/0001", "listening/0002", "listening/0003"]

    # The winning seed is now in line 0002's recipe (like a reroll): the next build links the winner
    # from the cache, voicing and hearing nothing; the one after does nothing at all.
    mark = project.mark()
    project.doit("quality")
    assert [(r["stage"], r["item"], r["outcome"]) for r in project.records()[mark:]] == [
        ("tts", "listening/0002", "reused")
    ]
    mark = project.mark()
    project.doit("quality")
    assert project.records()[mark:] == []
    (project.build / "listening" / "lines" / "0002.wav").unlink()
    project.doit("quality")
    assert project.generated("tts", mark) == [] and project.reused("tts", mark) == ["listening/0002"]
    assert project.generated("transcribe", mark) == []

    # The transcribe stage is cached like every artifact: its files come back, no model runs.
    shutil.rmtree(project.build / "listening" / "transcripts")
    mark = project.mark()
    project.doit("quality")
    assert project.generated("transcribe", mark) == []
    assert len(project.reused("transcribe", mark)) == 3
