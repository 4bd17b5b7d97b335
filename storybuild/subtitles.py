"""Subtitles (SubRip and WebVTT) from the timeline.

A long line is split at word boundaries into cards of at most two rows, each card timed in
proportion to its share of the line's characters, so cards follow the voice rather than sitting
on screen for twenty seconds.
"""

from __future__ import annotations

import textwrap

from pydantic import BaseModel

from .timeline import Timeline

ROW_WIDTH = 42
ROWS_PER_CARD = 2


class Card(BaseModel):
    """One subtitle on screen."""

    start: float
    end: float
    text: str


def cards(timeline: Timeline, width: int = ROW_WIDTH, rows: int = ROWS_PER_CARD) -> list[Card]:
    """The subtitle cards for every line of ``timeline``."""
    result: list[Card] = []
    for line in timeline.lines:
        wrapped = textwrap.wrap(line.text, width) or [line.text]
        groups = ["\n".join(wrapped[i : i + rows]) for i in range(0, len(wrapped), rows)]
        total = sum(len(group) for group in groups) or 1
        start = line.start
        for number, group in enumerate(groups):
            end = line.end if number == len(groups) - 1 else start + (line.end - line.start) * len(group) / total
            result.append(Card(start=round(start, 3), end=round(end, 3), text=group))
            start = end
    return result


def _clock(seconds: float, separator: str) -> str:
    millis = int(round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(items: list[Card]) -> str:
    """SubRip text."""
    blocks = [
        f"{n}\n{_clock(card.start, ',')} --> {_clock(card.end, ',')}\n{card.text}\n"
        for n, card in enumerate(items, 1)
    ]
    return "\n".join(blocks)


def to_vtt(items: list[Card]) -> str:
    """WebVTT text."""
    blocks = [f"{_clock(card.start, '.')} --> {_clock(card.end, '.')}\n{card.text}\n" for card in items]
    return "WEBVTT\n\n" + "\n".join(blocks)
