"""The reading stages in a real doit build: answers kept per question, implied cues placed and made."""

from __future__ import annotations

import json
from pathlib import Path

import soundfile as sf

from conftest import REPO
from storybuild.metadata import tags_length

SOUNDS = """title: Night Visitors
style: soft pastel

(yard) A farmyard at dusk, a red barn, a gate.
Someone knocked at the gate, twice.
[ada] Who is there?
The old dog barked at the shadows.
[bo] Nobody. Go to sleep.
"""


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_metadata_chapters_come_from_the_timeline(project) -> None:
    project.add_story("lighthouse", REPO / "stories" / "lighthouse")
    project.doit("metadata")
    build = project.build / "lighthouse"
    meta = read_json(build / "metadata.json")
    scenes = read_json(build / "timeline.json")["scenes"]
    chapters = meta["chapters"]
    assert meta["title"] == "The Lamp at Gull Point" and meta["language"] == "en"
    assert len(chapters) >= 3 and chapters[0]["start"] == 0.0
    scene_starts = {round(s["start"], 3) for s in scenes}
    assert all(round(c["start"], 3) in scene_starts for c in chapters[1:])  # on scene boundaries, measured
    ends = [c["start"] for c in chapters[1:]] + [scenes[-1]["end"]]
    assert all(end - c["start"] >= 10 for c, end in zip(chapters, ends))
    description = (build / "description.txt").read_text(encoding="utf-8")
    assert "\nChapters:\n0:00 Harbor\n" in description
    tags = (build / "tags.txt").read_text(encoding="utf-8").strip().split(", ")
    assert tags == meta["tags"] and 0 < tags_length(tags) <= 500


def test_a_story_too_short_for_chapters_says_so(project) -> None:
    project.add_story("tiny")
    project.doit("metadata:tiny")
    meta = read_json(project.build / "tiny" / "metadata.json")
    assert meta["chapters"] == [] and "no chapters" in meta["chapters_note"]
    assert "Chapters:" not in (project.build / "tiny" / "description.txt").read_text(encoding="utf-8")


def test_editing_one_scene_asks_again_about_that_scene_only(project) -> None:
    story = project.add_story("tiny")
    project.doit("scene_prompt")
    original = story.read_text(encoding="utf-8")
    story.write_text(original.replace("a lamp on a hook", "snow at the window"), encoding="utf-8")
    mark = project.mark()
    project.doit("scene_prompt")
    assert project.generated("scene_prompt", mark) == ["tiny/barn"]
    barn = read_json(project.build / "tiny" / "prompts" / "barn.json")
    assert (barn["setting"], barn["place"], barn["weather"]) == ("indoor", "barn", "snow")
    story.write_text(original, encoding="utf-8")  # reverting asks nothing: the old answer is kept
    mark = project.mark()
    project.doit("scene_prompt")
    assert project.generated("scene_prompt", mark) == [] and project.reused("scene_prompt", mark) == ["tiny/barn"]


def test_implied_cues_are_placed_inside_their_line_and_made(project) -> None:
    story = project.story("night")
    story.parent.mkdir(parents=True)
    story.write_text(SOUNDS, encoding="utf-8")
    project.doit("final_wav")
    build = project.build / "night"
    asked = read_json(build / "cues.json")
    assert [(c["line"], c["text"]) for c in asked] == [("0001", "a knock at the door"), ("0003", "a dog barking")]
    lines = {line["id"]: line for line in read_json(build / "timeline.json")["lines"]}
    planned = {c["id"]: c for c in read_json(build / "sfx_plan.json")["cues"]}
    assert set(planned) == {"i0001-1", "i0003-1"}
    for cue in asked:
        line, placed = lines[cue["line"]], planned[f"i{cue['line']}-1"]
        assert placed["inferred"] and line["start"] <= placed["start"] <= line["end"]
        assert abs(placed["start"] - (line["start"] + cue["position"] * (line["end"] - line["start"]))) < 0.002
        info = sf.info(str(build / "sfx" / f"i{cue['line']}-1.wav"))
        assert abs(info.frames / info.samplerate - placed["duration"]) < 0.01
    listed = read_json(build / "sfx" / "inferred.json")["sounds"]
    assert [s["id"] for s in listed] == ["i0001-1", "i0003-1"]
    assert sorted(project.generated("sfx")) == ["night/i0001-1", "night/i0003-1", "night/inferred"]

    # A line after them changes: the plan is the same, nothing about them runs.
    story.write_text(SOUNDS.replace("Go to sleep.", "Go back to sleep."), encoding="utf-8")
    mark = project.mark()
    project.doit("final_wav")
    assert project.generated("sfx", mark) == [] and project.reused("sfx", mark) == []
    assert project.generated("cues", mark) == []  # the rules' cue question reads no dialogue
    # A line before one changes: it moves in time, the task reruns, and links both sounds unchanged.
    story.write_text(SOUNDS.replace("Who is there?", "Who is there, at this hour of the night?"), encoding="utf-8")
    mark = project.mark()
    project.doit("final_wav")
    assert project.generated("sfx", mark) == []
    assert sorted(project.reused("sfx", mark)) == ["night/i0001-1", "night/i0003-1", "night/inferred"]

    # One line's sound changes: exactly that sound is made again, and the old file goes.
    story.write_text(SOUNDS.replace("The old dog barked", "The old bell rang"), encoding="utf-8")
    mark = project.mark()
    project.doit("final_wav")
    assert [i for i in project.generated("sfx", mark) if "/i0" in i] == ["night/i0003-1"]
    assert project.generated("cues", mark) == ["night"]  # a narrated line: asked again
    assert read_json(build / "sfx_plan.json")["cues"][-1]["text"] == "a bell ringing"


def test_implied_cues_can_be_turned_off(project) -> None:
    story = project.story("night")
    story.parent.mkdir(parents=True)
    story.write_text(SOUNDS, encoding="utf-8")
    (story.parent / "story.toml").write_text("[audio]\ninfer_cues = false\n", encoding="utf-8")
    listing = project.doit("list", "--all", "--quiet").stdout.split()
    assert "sfx:night/inferred" not in listing
    project.doit("final_wav")
    assert read_json(project.build / "night" / "sfx_plan.json")["cues"] == []
    assert not (project.build / "night" / "cues.json").exists()
