"""doit shorts: vertical clips of whole lines, reframed, captions and title burned in, published with records."""

from __future__ import annotations

import numpy as np
import pytest

from storybuild.media.probe import probe
from storybuild.publish.shorts import HEIGHT, WIDTH, choose_cut
from storybuild.timeline import Timeline, TimedLine, TimedScene


def _between_words(timeline: Timeline, start: float, end: float) -> None:
    for line in timeline.lines:
        inside, outside = start <= line.start and line.end <= end, line.end <= start or line.start >= end
        assert inside or outside, f"the cut {start:.2f}-{end:.2f} splits line {line.id} ({line.start}-{line.end})"


def _frame(path, seconds: float) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time >= seconds:
                return frame.to_ndarray(format="rgb24").astype(np.int16)
    raise AssertionError(f"no frame at {seconds} s in {path}")


def test_shorts_are_vertical_whole_lines_with_captions_burned_in(site) -> None:
    site.doit("shorts")
    timeline = Timeline.load(site.build / "timeline.json")
    shorts = sorted((site.build / "shorts").glob("*.mp4"))
    assert [p.stem for p in shorts] == sorted(s.id for s in timeline.scenes)  # every scene of tiny has lines
    for path in shorts:
        info = probe(path)
        [video] = [s for s in info.streams if s.type == "video"]
        assert (video.width, video.height) == (WIDTH, HEIGHT)
        assert any(s.type == "audio" for s in info.streams)
        cut = choose_cut(timeline, path.stem, 60.0)
        assert info.duration <= 60.0 and info.duration == pytest.approx(cut.duration, abs=0.1)
        _between_words(timeline, cut.start, cut.end)
    # During a line its caption covers the lower band; the picture elsewhere barely moves in that time.
    path = site.build / "shorts" / "yard.mp4"
    cut = choose_cut(timeline, "yard", 60.0)
    first = cut.lines[0]
    quiet, spoken = _frame(path, max(0.0, first.start - cut.start - 0.35)), _frame(path, first.start - cut.start + 0.2)
    band = slice(int(HEIGHT * 0.70), int(HEIGHT * 0.82))

    def white(frame: np.ndarray) -> int:  # the captions' letters are white; the storybook picture's are not
        return int((frame[band] > 240).all(axis=2).sum())

    assert white(spoken) > white(quiet) + 2000, (white(spoken), white(quiet))
    assert white(quiet) < 500

    # Published too, with youtube.shorts: one video and one record each, beside the story's own.
    site.settings({"shorts": True})
    site.doit("publish")
    assert len(site.fake.videos) == 4
    ids = set()
    for scene in ("yard", "barn", "hill"):
        record = site.record(f"shorts/{scene}.youtube.json")["video"]
        video = site.fake.videos[record["id"]]
        assert video["snippet"]["title"].endswith("#Shorts")
        assert site.fake.content[record["id"]] == (site.build / "shorts" / f"{scene}.mp4").read_bytes()
        ids.add(record["id"])
    assert site.record()["video"]["id"] not in ids and len(ids) == 3
    calls = dict(site.fake.calls)
    site.doit("publish")
    assert dict(site.fake.calls) == calls


def test_a_long_scene_is_cut_after_the_last_whole_line_that_fits() -> None:
    lines = [TimedLine(id=f"{i:04d}", speaker="narrator", text="word " * 5, scene="long",
                       start=1.0 + i * 7.0, end=6.5 + i * 7.0) for i in range(14)]
    timeline = Timeline(sample_rate=48000, duration=100.0, scenes=[TimedScene(id="long", start=0.0, end=100.0)],
                        lines=lines, cues=[])
    cut = choose_cut(timeline, "long", 60.0)
    assert cut.duration <= 60.0 and len(cut.lines) == 8  # line 8 ends at 55.5 (+0.5); line 9 would end at 62.5
    _between_words(timeline, cut.start, cut.end)
