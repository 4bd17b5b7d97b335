"""The listening stages: transcribe (what each line's audio says) and quality (how far that is from the script).

Every line is transcribed by its own task (``transcripts/NNNN.json``): its recipe is the
transcriber (backend, version, model) and the story's language, its input is the line's wav, so it
is cached like every artifact and an edit re-hears one line. ``quality.json`` scores each line's
word error rate against its script text (``storybuild.wer``), worst first, and flags those above
``quality.max_wer``. The retakes that re-voice flagged lines live in ``graph/retakes.py``.
"""

from __future__ import annotations

import posixpath
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from ..backends import backend_class
from ..backends.transcribe import TranscribeBackend, Transcript
from ..backends.transcribe.settings import QualitySettings
from ..store.atomic import json_text
from ..store.hashing import digest
from ..story.model import Line
from ..wer import align, normalize
from .artifact import Artifact, Request
from .project import Project, StoryEntry

__all__ = [
    "LineScore", "QualityReport", "line_word_starts", "quality_artifacts", "quality_path", "report_table", "score_line",
    "transcribe_artifact", "transcribe_artifacts", "transcriber", "transcriber_recipe", "transcript_path",
]

# Bump when what a score means changes (normalization rules, the report's shape).
SCORING = 1


def transcript_path(entry: StoryEntry, line_id: str) -> str:
    """``build/<story>/transcripts/NNNN.json``: what was heard in one line, with word timings."""
    return posixpath.join(posixpath.dirname(posixpath.dirname(entry.layout.line_wav(line_id))), "transcripts", f"{line_id}.json")


def quality_path(entry: StoryEntry) -> str:
    """``build/<story>/quality.json``: every line's score, worst first."""
    return posixpath.join(entry.layout.dir, "quality.json")


def _quality(entry: StoryEntry, quality: QualitySettings | None) -> QualitySettings:
    return quality if quality is not None else entry.settings.quality  # type: ignore[attr-defined]


def transcriber_recipe(quality: QualitySettings) -> str:
    """The transcriber as one recipe value: name, version and the digest of its full recipe (model included)."""
    recipe = backend_class("transcribe", quality.backend).recipe(quality.options)
    return f"{recipe['backend']} {recipe['version']} {digest(recipe)}"


_TRANSCRIBERS: dict[str, TranscribeBackend] = {}
_TRANSCRIBERS_LOCK = threading.Lock()


def transcriber(quality: QualitySettings) -> TranscribeBackend:
    """The transcribe backend for ``quality``: one instance per recipe per process, so a model loads once."""
    key = transcriber_recipe(quality)
    with _TRANSCRIBERS_LOCK:
        if key not in _TRANSCRIBERS:
            _TRANSCRIBERS[key] = backend_class("transcribe", quality.backend)(quality.options)
        return _TRANSCRIBERS[key]


def transcribe_artifact(
    project: Project, entry: StoryEntry, line: Line, quality: QualitySettings | None = None
) -> Artifact:
    """The task that transcribes one line's wav into transcripts/NNNN.json."""
    quality = _quality(entry, quality)
    language = entry.story.language

    def build(request: Request, out: dict[str, Path]) -> None:
        heard = transcriber(quality).transcribe(Path(entry.layout.line_wav(line.id)), language)
        out["transcript.json"].write_text(json_text(heard.model_dump(mode="json")), encoding="utf-8")

    return Artifact(
        stage="transcribe", item=f"{entry.slug}/{line.id}",
        targets={"transcript.json": transcript_path(entry, line.id)},
        recipe={"transcribe": transcriber_recipe(quality), "language": language},
        build=build, runtime=project.runtime, inputs=[entry.layout.line_wav(line.id)],
        title=f"hear {line.speaker}: {line.text[:40]}", tools=(),
    )


def transcribe_artifacts(project: Project, entry: StoryEntry, quality: QualitySettings | None = None) -> Iterator[Artifact]:
    """One transcription task per spoken line."""
    for line in entry.story.lines:
        yield transcribe_artifact(project, entry, line, quality)


class LineScore(BaseModel):
    """How one line's audio compares with its script."""

    id: str
    speaker: str
    text: str
    heard: str
    words: int
    errors: int
    wer: float
    flagged: bool


class QualityReport(BaseModel):
    """quality.json: every line worst first, and the story's overall word error rate."""

    story: str
    max_wer: float
    transcriber: str
    wer: float
    score: float
    flagged: int
    lines: list[LineScore]

    @classmethod
    def load(cls, path: str | Path) -> QualityReport:
        """Read a quality.json."""
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))


def score_line(line: Line, heard: Transcript, max_wer: float) -> LineScore:
    """``line``'s word error rate against what was ``heard``, and whether it is over ``max_wer``."""
    alignment = align(normalize(line.text), normalize(heard.text))
    wer = round(alignment.wer, 4)
    return LineScore(
        id=line.id, speaker=line.speaker, text=line.text, heard=heard.text, words=len(alignment.reference),
        errors=alignment.errors, wer=wer, flagged=wer > max_wer,
    )


def report(entry: StoryEntry, transcripts: dict[str, Transcript], quality: QualitySettings) -> QualityReport:
    """The story's quality report from each line's transcript."""
    scores = [score_line(line, transcripts[line.id], quality.max_wer) for line in entry.story.lines]
    words, errors = sum(s.words for s in scores), sum(s.errors for s in scores)
    wer = round(errors / words, 4) if words else 0.0
    return QualityReport(
        story=entry.slug, max_wer=quality.max_wer, transcriber=quality.backend, wer=wer,
        score=round(max(0.0, 1 - wer), 4), flagged=sum(s.flagged for s in scores),
        lines=sorted(scores, key=lambda s: (-s.wer, s.id)),
    )


def report_table(quality: QualityReport) -> str:
    """The report as the table ``doit quality`` prints: worst lines first, flagged ones with what was heard."""
    rows = [f"quality of {quality.story}: word error rate {quality.wer:.1%} (score {quality.score:.1%}),"
            f" {quality.flagged} of {len(quality.lines)} lines over {quality.max_wer:.0%}",
            f"{'line':>6} {'WER':>6}  speaker     text"]
    for line in quality.lines:
        mark = "!" if line.flagged else " "
        rows.append(f"{mark}{line.id:>5} {line.wer:>6.1%}  {line.speaker[:10]:<10}  {line.text[:70]}")
        if line.flagged:
            rows.append(f"{'':>15}heard:      {line.heard[:70]}")
    return "\n".join(rows) + "\n"


def quality_artifacts(project: Project, entry: StoryEntry, quality: QualitySettings | None = None) -> Iterator[Artifact]:
    """quality.json: every line scored against its script, the table printed when it is made."""
    quality = _quality(entry, quality)
    paths = {line.id: transcript_path(entry, line.id) for line in entry.story.lines}

    def build(request: Request, out: dict[str, Path]) -> None:
        made = report(entry, {k: Transcript.load(v) for k, v in paths.items()}, quality)
        out["quality.json"].write_text(json_text(made.model_dump(mode="json")), encoding="utf-8")
        sys.stderr.write(report_table(made))

    yield Artifact(
        stage="quality", item=entry.slug, targets={"quality.json": quality_path(entry)},
        recipe={
            "scoring": SCORING, "max_wer": quality.max_wer, "transcriber": quality.backend,
            "lines": [[line.id, line.speaker, line.text] for line in entry.story.lines],
        },
        build=build, runtime=project.runtime, inputs=list(paths.values()),
        title=f"quality of {entry.story.title}", tools=(),
    )


def line_word_starts(text: str, transcript: str | Path, wav: str | Path) -> list[float | None]:
    """When each word of ``text`` began, in seconds from the line's start as the timeline places it.

    Whisper times words from the start of the wav; the narration cuts each line's leading silence
    (``trim_silence``, as ``timeline.assemble`` does), so that much is taken off. None marks a word
    the voice skipped. This is what word-timed subtitle cards need (``subtitles.word_timing``).
    """
    from ..media.audio import read_wav, to_mono, trim_silence
    from ..wer import token_starts

    heard = Transcript.load(transcript)
    data, rate = read_wav(wav)
    _, cut = trim_silence(to_mono(data), rate)
    lead = cut / rate
    starts = token_starts(text, [(word.text, word.start) for word in heard.words])
    return [None if start is None else round(max(0.0, start - lead), 3) for start in starts]
