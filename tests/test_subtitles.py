"""Subtitle cards: short, balanced, following the voice, in valid SRT and WebVTT."""

from __future__ import annotations

import re

from storybuild.subtitles import cards, to_srt, to_vtt
from storybuild.timeline import TimedLine, TimedScene, Timeline

LONG = "It swallowed the boats one by one, until only the tips of their masts showed above it."


def _timeline(*texts: str) -> Timeline:
    lines, start = [], 0.5
    for n, text in enumerate(texts, 1):
        end = start + len(text) / 15
        lines.append(TimedLine(id=f"{n:04d}", speaker="narrator", text=text, scene="s", start=start, end=end))
        start = end + 0.4
    return Timeline(sample_rate=48000, duration=start + 1, scenes=[TimedScene(id="s", start=0, end=start + 1)],
                    lines=lines, cues=[])


def test_short_line_is_one_card_timed_as_the_line():
    timeline = _timeline("Who rang it?")
    (card,) = cards(timeline)
    assert (card.start, card.end, card.text) == (round(timeline.lines[0].start, 3), round(timeline.lines[0].end, 3), "Who rang it?")


def test_long_line_splits_at_the_clause_into_cards_of_two_short_rows():
    timeline = _timeline(LONG)
    items = cards(timeline)
    assert len(items) == 2
    assert items[0].text.replace("\n", " ") == "It swallowed the boats one by one,"
    for card in items:
        rows = card.text.split("\n")
        assert len(rows) <= 2 and all(len(row) <= 42 for row in rows)
    assert " ".join(c.text.replace("\n", " ") for c in items) == LONG
    line = timeline.lines[0]
    assert items[0].start == round(line.start, 3) and items[-1].end == round(line.end, 3)
    assert items[0].end == items[1].start and line.start < items[0].end < line.end


def test_srt_and_vtt_formats():
    items = cards(_timeline("First.", "Second line here."))
    srt, vtt = to_srt(items), to_vtt(items)
    assert srt.startswith("1\n00:00:00,500 --> 00:00:00,900\nFirst.\n")
    assert re.search(r"^2\n00:00:01,300 --> 00:00:02,433\nSecond line here\.$", srt, re.MULTILINE)
    assert vtt.startswith("WEBVTT\n\n00:00:00.500 --> 00:00:00.900\nFirst.\n")
