"""End to end on real doit: transcribe and quality as stages, cached; retakes once tts can call them.

The first group runs now, on a project whose dodo.py declares the two stages from
``storybuild.graph.quality`` with explicit settings. The second group needs the integration
(``quality`` a stage of ``storybuild.graph``, ``[quality]`` and ``tts.retakes`` settings, the tts
stage's retake hook, ``SpeechRequest.seed``): it skips until then, and fails under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

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
DODO_NOW = """import sys
sys.path.insert(0, {here!r})
from functools import partial
from storybuild.backends.registry import BUILTIN
BUILTIN["tts"]["flaky"] = "flaky_tts:FlakyTTS"
from storybuild.graph import *  # noqa
from storybuild.graph import doit_config
from storybuild.graph import stage as _stage
from storybuild.graph.quality import quality_artifacts, transcribe_artifacts
from storybuild.backends.transcribe.settings import QualitySettings
_q = QualitySettings(max_wer=0.5)
transcribe = _stage.Stage("transcribe", "Hear every line", partial(transcribe_artifacts, quality=_q))
quality = _stage.Stage("quality", "Score every line", partial(quality_artifacts, quality=_q))
DOIT_CONFIG = doit_config()
"""
DODO_INTEGRATED = """import sys
sys.path.insert(0, {here!r})
from storybuild.backends.registry import BUILTIN
BUILTIN["tts"]["flaky"] = "flaky_tts:FlakyTTS"
from storybuild.graph import *  # noqa
from storybuild.graph import doit_config
DOIT_CONFIG = doit_config()
"""


def integrated() -> bool:
    import storybuild.graph  # noqa: F401 - declares the stages
    from storybuild.graph.stage import STAGES

    # Not hasattr(storybuild.graph, "quality"): importing the quality module sets that attribute.
    return "quality" in STAGES and "transcribe" in STAGES


def make_project(project, dodo: str, settings: str = "") -> None:
    need("faster_whisper", "pip install 'storybuild[transcribe]'")
    folder = project.root / "stories" / "listening"
    folder.mkdir(parents=True)
    (folder / "story.txt").write_text(STORY)
    (folder / "story.toml").write_text(STORY_TOML)
    (project.root / "dodo.py").write_text(dodo.format(here=str(HERE)))
    (project.root / "storybuild.toml").write_text('[tts]\nbackend = "flaky"\n' + settings)


def test_quality_flags_the_wrong_line_and_a_second_run_hears_nothing(project) -> None:
    if integrated():
        pytest.skip("covered by the integrated tests below")
    make_project(project, DODO_NOW)
    first = project.doit("quality")
    report = json.loads((project.build / "listening" / "quality.json").read_text())
    worst = report["lines"][0]
    assert worst["id"] == "0002" and worst["flagged"] and "kitchen fire" in worst["heard"].lower()
    assert [line["flagged"] for line in report["lines"][1:]] == [False, False]
    assert report["flagged"] == 1 and 0 < report["wer"] < 0.5
    assert "heard:" in first.stderr and "kitchen fire" in first.stderr.lower()
    transcript = json.loads((project.build / "listening" / "transcripts" / "0001.json").read_text())
    assert transcript["words"][0]["start"] < transcript["words"][-1]["end"]
    assert sorted(project.generated("transcribe")) == ["listening/0001", "listening/0002", "listening/0003"]

    mark = project.mark()
    project.doit("quality")
    assert project.records()[mark:] == []  # no task ran: no model loaded, nothing heard


# ---- after integration ------------------------------------------------------------------------

def _integrated_or_fail() -> None:
    if not integrated():
        if os.environ.get("CI") == "true":
            pytest.fail("the quality stage is not registered in storybuild.graph (see the lead's integration notes)")
        pytest.skip("the quality stage is not integrated into storybuild.graph yet")


def test_retakes_keep_the_better_take_and_a_rebuild_does_nothing_nor_hears_anything(project) -> None:
    _integrated_or_fail()
    make_project(project, DODO_INTEGRATED, "retakes = 2\n[quality]\nmax_wer = 0.5\n")
    project.doit("quality")
    report = json.loads((project.build / "listening" / "quality.json").read_text())
    assert report["flagged"] == 0, report
    assert read_toml(project.root / "stories" / "listening" / "seeds.toml")["tts"] == {"0002": 1}
    assert project.generated("transcribe") == []  # the retake's transcripts were cached: none heard twice
    assert sorted(project.reused("transcribe")) == ["listening/0001", "listening/0002", "listening/0003"]

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
