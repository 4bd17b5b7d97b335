"""Publishing rules: chapters from the timeline by YouTube's rules, tags within 500 characters."""

from __future__ import annotations

from storybuild.backends.llm import Metadata
from storybuild.metadata import chapters, fit_tags, publish, tags_length, timestamp
from storybuild.timeline import TimedScene, Timeline


def test_timestamps_read_as_youtube_reads_them() -> None:
    assert [timestamp(t) for t in (0, 9.9, 61, 3600, 3725.5)] == ["0:00", "0:09", "1:01", "1:00:00", "1:02:05"]


def test_short_scenes_merge_into_the_chapter_before() -> None:
    spans = [(0.4, 12, "Harbor"), (12, 15, "Gate"), (15, 30, "Stairs"), (30, 33, "Landing"), (33, 50, "Lamp room")]
    found, note = chapters(spans)
    assert note == ""
    assert [(c.start, c.title) for c in found] == [(0.0, "Harbor"), (15, "Stairs"), (33, "Lamp room")]


def test_a_short_opening_merges_forward_and_a_short_end_backward() -> None:
    found, _ = chapters([(0, 4, "Cold open"), (4, 20, "A"), (20, 35, "B"), (35, 50, "C"), (50, 53, "Coda")])
    starts = [c.start for c in found]
    assert starts[0] == 0.0 and len(found) == 3
    ends = starts[1:] + [53]
    assert all(end - start >= 10 for start, end in zip(starts, ends))


def test_too_short_a_story_has_no_chapters_and_says_why() -> None:
    found, note = chapters([(0, 5, "A"), (5, 9, "B"), (9, 14, "C")])
    assert found == [] and "no chapters" in note and "3 chapters of at least 10 s" in note
    found, note = chapters([(0, 20, "A"), (20, 40, "B")])
    assert found == [] and note


def test_tags_count_commas_and_the_quotes_around_spaces() -> None:
    assert tags_length(["a", "b c"]) == len('a,"b c"')
    many = [f"tag number {i}" for i in range(100)]
    kept = fit_tags(many)
    assert tags_length(kept) <= 500 < tags_length(kept + [many[len(kept)]])
    assert fit_tags(["Story", "story", "<b>bold</b>", "", "x" * 101, "a,b"]) == ["Story", "bbold/b", "a b"]


def test_publish_puts_chapters_in_the_description() -> None:
    timeline = Timeline(sample_rate=48000, duration=45.0, lines=[], cues=[], scenes=[
        TimedScene(id="harbor", start=0.0, end=15.0), TimedScene(id="stairs", start=15.0, end=30.0),
        TimedScene(id="lamp_room", start=30.0, end=45.0)])
    answer = Metadata(title="Model title", description="A hook.", tags=["lighthouse", "fog story"])
    titles = {"harbor": "Harbor", "stairs": "Stairs", "lamp_room": "Lamp room"}
    published = publish(answer, timeline, titles, "The Lamp at Gull Point", "en")
    assert published.title == "The Lamp at Gull Point"
    assert published.description == "A hook.\n\nChapters:\n0:00 Harbor\n0:15 Stairs\n0:30 Lamp room\n"
    assert publish(answer, timeline, titles, "", "fr").title == "Model title"
