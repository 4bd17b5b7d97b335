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
_PAUSES = frozenset(",.;:!?")


class Card(BaseModel):
    """One subtitle on screen."""

    start: float
    end: float
    text: str


def _balanced(words: list[str], groups: int) -> list[list[str]]:
    """Split ``words`` into ``groups`` runs of near-equal length, in order.

    A run may end a little early after a word that closes a clause (``,`` ``.`` ``;``...), since a
    card that ends where the voice pauses reads better than one cut mid-phrase.
    """
    total = sum(len(word) + 1 for word in words)
    runs: list[list[str]] = [[]]
    used = 0
    for word in words:
        if runs[-1] and len(runs) < groups:
            due = total * len(runs) / groups
            pause = runs[-1][-1][-1] in _PAUSES and used >= 0.7 * due
            if used >= due or pause:
                runs.append([])
        runs[-1].append(word)
        used += len(word) + 1
    return runs


def _wrap(text: str, width: int) -> list[str]:
    """Wrap ``text`` into as few rows as ``width`` allows, of even length (no one-word last row)."""
    needed = max(1, -(-len(text) // width))
    even = min(width, -(-len(text) // needed) + 6)
    rows = textwrap.wrap(text, even)
    return rows if len(rows) <= needed else textwrap.wrap(text, width)


def _split(text: str, width: int, rows: int) -> list[str]:
    """The fewest cards of at most ``rows`` rows that hold ``text``, balanced in length."""
    words = text.split()
    groups = max(1, -(-len(text) // (width * rows)))
    while True:
        runs = _balanced(words, groups)
        wrapped = [_wrap(" ".join(run), width) for run in runs]
        if all(len(card) <= rows for card in wrapped) or groups >= len(words):
            return ["\n".join(card) for card in wrapped if card]
        groups += 1


def cards(
    timeline: Timeline, width: int = ROW_WIDTH, rows: int = ROWS_PER_CARD,
    word_starts: dict[str, list[float | None]] | None = None,
) -> list[Card]:
    """The subtitle cards for every line of ``timeline``.

    With ``word_starts`` (per line id, when each word of its text began, seconds from the line's
    start: ``storybuild.wer.token_starts`` on its transcript), a card changes when its first word
    is heard; without, or for a word not heard, cards share the line in proportion to their length.
    """
    result: list[Card] = []
    for line in timeline.lines:
        groups = _split(line.text, width, rows) or [line.text]
        total = sum(len(group) for group in groups) or 1
        heard = (word_starts or {}).get(line.id) or []
        start, first_word = line.start, 0
        for number, group in enumerate(groups):
            end = line.end if number == len(groups) - 1 else start + (line.end - line.start) * len(group) / total
            first_word += len(group.split())
            if number < len(groups) - 1 and first_word < len(heard) and heard[first_word] is not None:
                end = min(max(line.start + heard[first_word], start + 0.3), line.end - 0.3)
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
