"""Retakes: a line whose audio fails the listening check is voiced again with a new seed, the best take kept.

With ``tts.retakes = N`` the tts task of a line voices it, transcribes the take and scores it
(``graph.quality``); a take over ``quality.max_wer`` is voiced again with the next seed, up to N
more times, and the take with the lowest word error rate wins (the first of equals). The winner's
seed is recorded in ``stories/<s>/seeds.toml`` (``[tts] "0007" = 2``), like a reroll, and:

* the winner goes into the cache under the key the next run computes from that seed as well as
  under this run's, so a rebuild, a ``doit forget`` or a deleted wav links it back without voicing;
* the winner's transcript goes into the cache under its transcribe task's key, so the quality
  stage that follows hears nothing again.

The seed is in the request (the cache key), not in the recipe (doit's up-to-date check): recording
it does not make the task stale, so a rebuild runs nothing and never re-listens to settle it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from ..backends.transcribe import Transcript
from ..backends.transcribe.settings import QualitySettings
from ..seeds import record_seed
from ..store.atomic import json_text, temp_path
from ..store.tools import identities
from ..story.model import Line
from .artifact import Artifact, Request, cache_key, tools_of
from .project import Project, StoryEntry
from .quality import SCORING, LineScore, _quality, score_line, transcribe_artifact, transcriber

__all__ = ["Take", "best_take", "with_retakes"]

Speak = Callable[[int, Path], None]
Hear = Callable[[Path], Transcript]


@dataclasses.dataclass
class Take:
    """One voicing of a line: its seed, file, what was heard and its score."""

    seed: int
    path: Path
    heard: Transcript
    score: LineScore


def best_take(speak: Speak, hear: Hear, line: Line, first_seed: int, retakes: int, max_wer: float, beside: Path) -> tuple[Take, list[Take]]:
    """Voice ``line`` from ``first_seed`` until a take passes or ``retakes`` more were tried; the best and all.

    Takes are written next to ``beside`` as temp files; the caller owns the winner's file, the
    others are removed here.
    """
    takes: list[Take] = []
    written: list[Path] = []
    try:
        for seed in range(first_seed, first_seed + retakes + 1):
            written.append(temp_path(beside))
            speak(seed, written[-1])
            heard = hear(written[-1])
            takes.append(Take(seed, written[-1], heard, score_line(line, heard, max_wer)))
            if not takes[-1].score.flagged:
                break
        best = min(takes, key=lambda take: take.score.wer)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    for path in written:
        if path != best.path:
            path.unlink(missing_ok=True)
    return best, takes


def with_retakes(
    project: Project, entry: StoryEntry, line: Line, artifact: Artifact, retakes: int,
    quality: QualitySettings | None = None,
) -> Artifact:
    """``artifact`` (a line's tts task) made to listen to its take and voice it again while it fails.

    Each take is ``artifact``'s own build, handed the request with the take's ``seed`` and a temp
    file as ``line.wav``: whichever backend voices the line, and however, stays the tts stage's.
    """
    quality = _quality(entry, quality)
    check = transcribe_artifact(project, entry, line, quality)
    base_plan, base_build, base_seed = artifact.plan, artifact.build, entry.settings.seed
    seeds_toml = project.path(entry.layout.seeds_toml)
    language = entry.story.language

    def plan() -> Request:
        return {**(base_plan() if base_plan else {}), "seed": entry.seed("tts", line.id)}

    def build(request: Request, out: dict[str, Path]) -> None:
        target = out["line.wav"]
        best, _ = best_take(
            lambda seed, path: base_build({**request, "seed": seed}, {"line.wav": path}),
            lambda path: transcriber(quality).transcribe(path, language),
            line, request["seed"], retakes, quality.max_wer, target,
        )
        os.replace(best.path, target)
        _keep_transcript(check, target, best.heard)
        if best.seed != request["seed"]:
            _keep_as_seed(retaking, request, best.seed, target)
            record_seed(seeds_toml, "tts", line.id, best.seed - base_seed)

    retaking = dataclasses.replace(
        artifact, plan=plan, build=build,
        recipe={**artifact.recipe, "retakes": retakes, "check": [check.recipe["transcribe"], quality.max_wer, SCORING]},
    )
    return retaking


def _keep_transcript(check: Artifact, wav: Path, heard: Transcript) -> None:
    """Cache the winner's transcript under the key its transcribe task will compute, so it is not heard twice."""
    probe = dataclasses.replace(check, inputs=[str(wav)])
    key = cache_key(probe, {}, identities(tools_of(probe)))
    path = temp_path(wav.with_suffix(".json"))
    try:
        path.write_text(json_text(heard.model_dump(mode="json")), encoding="utf-8")
        check.runtime.cache.store(key, {"transcript.json": path}, {"stage": check.stage, "item": check.item})
    finally:
        path.unlink(missing_ok=True)


def _keep_as_seed(artifact: Artifact, request: Request, seed: int, wav: Path) -> None:
    """Cache the winner under the key every later run makes: its seed is in their recipe and request."""
    settled = {**request, "seed": seed}
    later = dataclasses.replace(artifact, recipe={**artifact.recipe, "seed": seed})
    key = cache_key(later, settled, identities(tools_of(later)))
    artifact.runtime.cache.store(key, {"line.wav": wav}, {"stage": artifact.stage, "item": artifact.item, "seed": seed})
