"""Publishing metadata by the platform's rules: chapters from the timeline, tags within their limit.

The model writes the words (title, hook, tags); the numbers never come from it. Chapters follow
YouTube's rules: the first at 0:00, at least three, each at least 10 s long. Scenes shorter than
that are merged into the chapter before them (the opening into the one after); when the story
cannot give three such chapters, there are none, and metadata.json says why. Tags fit YouTube's
500 characters, counted as YouTube counts them: the commas between tags, and the quotes it adds
around a tag that contains a space.
"""

from __future__ import annotations

from pydantic import BaseModel

from .backends.llm import Metadata
from .timeline import Timeline

MIN_CHAPTERS = 3
MIN_CHAPTER_SECONDS = 10.0
TAGS_LIMIT = 500
TAG_LIMIT = 100
DESCRIPTION_LIMIT = 5000


class Chapter(BaseModel):
    """One chapter: where it starts, and its title."""

    start: float
    title: str


class Published(BaseModel):
    """metadata.json: what the platform shows beside the video."""

    title: str
    description: str
    tags: list[str]
    category: str
    thumbnail_caption: str
    language: str
    chapters: list[Chapter]
    chapters_note: str = ""


def timestamp(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``, as YouTube reads chapter times."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def chapters(spans: list[tuple[float, float, str]]) -> tuple[list[Chapter], str]:
    """Chapters from scene spans (start, end, title); none, with the reason, if rules cannot be met."""
    merged: list[list] = []  # [start, end, title]
    for start, end, title in spans:
        if merged and (end - start < MIN_CHAPTER_SECONDS or merged[-1][1] - merged[-1][0] < MIN_CHAPTER_SECONDS):
            merged[-1][1] = end  # a short scene joins the chapter before; a short opening takes the next
        else:
            merged.append([start, end, title])
    if len(merged) < MIN_CHAPTERS or merged[-1][1] - merged[-1][0] < MIN_CHAPTER_SECONDS:
        total = spans[-1][1] - spans[0][0] if spans else 0.0
        note = (f"no chapters: {len(spans)} scene(s) over {total:.1f} s cannot make {MIN_CHAPTERS} chapters "
                f"of at least {MIN_CHAPTER_SECONDS:.0f} s each")
        return [], note
    merged[0][0] = 0.0
    return [Chapter(start=round(start, 3), title=title) for start, _, title in merged], ""


def tags_length(tags: list[str]) -> int:
    """The length YouTube counts for ``tags``: commas between them, quotes around those with spaces."""
    return len(",".join(f'"{tag}"' if " " in tag else tag for tag in tags))


def fit_tags(tags: list[str]) -> list[str]:
    """``tags`` cleaned and deduplicated, in order, keeping each one that still fits the limit."""
    kept: list[str] = []
    seen: set[str] = set()
    for raw in tags:
        tag = " ".join(raw.replace("<", "").replace(">", "").replace(",", " ").split())
        if not tag or len(tag) > TAG_LIMIT or tag.lower() in seen:
            continue
        if tags_length([*kept, tag]) <= TAGS_LIMIT:
            kept.append(tag)
            seen.add(tag.lower())
    return kept


def description_text(answer: Metadata, found: list[Chapter], note: str) -> str:
    """The description: the model's text, then the chapter list (or nothing if there are none)."""
    text = answer.description.replace("<", "").replace(">", "").strip()
    if found:
        listing = "\n".join(f"{timestamp(ch.start)} {ch.title}" for ch in found)
        text = f"{text}\n\nChapters:\n{listing}"
    return text[:DESCRIPTION_LIMIT].rstrip() + "\n"


def publish(answer: Metadata, timeline: Timeline, titles: dict[str, str], story_title: str,
            language: str) -> Published:
    """metadata.json's content: the model's answer checked against the platform's rules."""
    spans = [(scene.start, scene.end, titles.get(scene.id, scene.id)) for scene in timeline.scenes]
    found, note = chapters(spans)
    return Published(
        title=(story_title or answer.title).strip()[:100], description=description_text(answer, found, note),
        tags=fit_tags(answer.tags), category=answer.category, thumbnail_caption=answer.thumbnail_caption,
        language=language, chapters=found, chapters_note=note,
    )
