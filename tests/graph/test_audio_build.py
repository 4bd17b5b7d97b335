"""A real audio build of the tiny story: decode every file and check it against the timeline."""

from __future__ import annotations

import json

import pyloudnorm
import pytest
import soundfile as sf

from storybuild.story import parse_story
from storybuild.subtitles import cards
from storybuild.timeline import Timeline


@pytest.fixture(scope="module")
def built(built_tiny):
    return built_tiny


def test_every_line_wav_decodes(built):
    story = parse_story(built.story("tiny"))
    for line in story.lines:
        info = sf.info(built.build / "tiny" / "lines" / f"{line.id}.wav")
        assert info.channels == 1 and info.samplerate == 22050
        assert 0.2 < info.duration < 10


def test_timeline_matches_narration_to_one_sample(built):
    timeline = Timeline.load(built.build / "tiny" / "timeline.json")
    info = sf.info(built.build / "tiny" / "narration.wav")
    assert info.samplerate == timeline.sample_rate == 48000
    assert abs(info.frames / info.samplerate - timeline.duration) <= 1 / info.samplerate
    assert [s.id for s in timeline.scenes] == ["yard", "barn", "hill"]
    assert timeline.scenes[0].start == 0 and timeline.scenes[-1].end == timeline.duration
    for before, after in zip(timeline.scenes, timeline.scenes[1:]):
        assert before.end == after.start
        assert (after.start * 24) == pytest.approx(round(after.start * 24), abs=1e-3), "scenes start on a frame"
    starts = [line.start for line in timeline.lines]
    assert starts == sorted(starts)
    for line in timeline.lines:
        assert line.end > line.start


def test_line_boundaries_hold_speech_and_pauses_hold_silence(built):
    timeline = Timeline.load(built.build / "tiny" / "timeline.json")
    data, rate = sf.read(built.build / "tiny" / "narration.wav")
    for line in timeline.lines:
        spoken = data[int(line.start * rate): int(line.end * rate)]
        assert abs(spoken).max() > 0.05
    for before, after in zip(timeline.lines, timeline.lines[1:]):
        gap = data[int(before.end * rate) + 10: int(after.start * rate) - 10]
        assert len(gap) == 0 or abs(gap).max() < 0.01


def test_cues_between_and_inside_lines_are_timed(built):
    timeline = Timeline.load(built.build / "tiny" / "timeline.json")
    lines = {line.id: line for line in timeline.lines}
    bell, door = timeline.cues
    assert lines["0002"].end <= bell.start <= lines["0003"].start
    assert lines["0004"].start < door.start < lines["0004"].end


def test_subtitles_follow_the_timeline(built):
    timeline = Timeline.load(built.build / "tiny" / "timeline.json")
    srt = (built.build / "tiny" / "story.srt").read_text(encoding="utf-8")
    vtt = (built.build / "tiny" / "story.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT")
    expected = cards(timeline)
    assert srt.count(" --> ") == len(expected) == vtt.count(" --> ")
    first = timeline.lines[0]
    stamp = f"{int(first.start // 60):02d}:{first.start % 60:06.3f}".replace(".", ",")
    assert f"00:{stamp} --> " in srt
    assert "Not me." in srt and "(quietly)" not in srt and "door" not in srt


def test_final_wav_is_stereo_and_at_the_loudness_target(built):
    data, rate = sf.read(built.build / "tiny" / "final.wav")
    narration = sf.info(built.build / "tiny" / "narration.wav")
    assert data.shape[1] == 2 and rate == 48000
    assert len(data) == narration.frames
    loudness = pyloudnorm.Meter(rate).integrated_loudness(data)
    assert abs(loudness - (-14.0)) <= 1.0
    assert abs(data).max() <= 10 ** (-1 / 20) + 1e-3


def test_cast_has_distinct_voices_and_genders(built):
    cast = json.loads((built.build / "tiny" / "cast.json").read_text())
    members = {m["name"]: m for m in cast["characters"]}
    assert set(members) == {"narrator", "ada", "bo"}
    assert members["ada"]["gender"] == "female" and members["bo"]["gender"] == "male"
    assert members["ada"]["look"] == "a small girl with a green scarf"
    voices = {(m["voice"]["name"], m["voice"]["pitch"]) for m in members.values()}
    assert len(voices) == 3
