"""Word-timed subtitle cards in the real build: a card changes when its first word is heard.

Needs the integration (``[subtitles] word_timing``): skips until then, and fails under CI=true.
"""

from __future__ import annotations

import re

import pytest

from .conftest import need

LINE = ("The fog came in before dawn, as it always did at the end of October, and it swallowed "
        "the boats one by one until only the masts showed.")


def _clock(text: str) -> float:
    h, m, s, ms = map(int, re.split("[:,]", text))
    return h * 3600 + m * 60 + s + ms / 1000


def test_cards_break_on_the_heard_word(project) -> None:
    need("faster_whisper", "pip install 'storybuild[transcribe]'")
    from storybuild.graph.project import load_project
    from storybuild.graph.quality import line_word_starts, transcript_path
    from storybuild.timeline import Timeline

    folder = project.root / "stories" / "cards"
    folder.mkdir(parents=True)
    (folder / "story.txt").write_text(f"title: Cards\n{LINE}\n")
    (project.root / "storybuild.toml").write_text("[subtitles]\nword_timing = true\n")
    project.doit("subtitles")
    srt = (project.build / "cards" / "story.srt").read_text()
    times = re.findall(r"(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)\n(.+?)\n\n", srt + "\n", re.S)
    assert len(times) == 2
    first_card_words = len(times[0][2].split())
    entry = next(e for e in load_project(project.root).stories if e.slug == "cards")
    line = entry.story.lines[0]
    starts = line_word_starts(line.text, project.root / transcript_path(entry, line.id),
                              project.root / entry.layout.line_wav(line.id))
    spoken = Timeline.load(project.build / "cards" / "timeline.json").lines[0]
    assert _clock(times[1][0]) == pytest.approx(spoken.start + starts[first_card_words], abs=0.002)
    assert _clock(times[0][1]) == _clock(times[1][0])
