"""The voice stages: cast, tts, narration, subtitles.

Each function yields the ``Artifact``s of one story; ``storybuild.graph`` wraps them as stages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from ..backends import backend_class
from ..backends.tts import SpeechRequest, TTSBackend, Voice
from ..backends.tts.piper import PREFIX as PIPER_PREFIX
from ..cast import Cast, build_cast
from ..layout import StoryLayout
from ..store.atomic import json_text
from ..story.model import Cue, Line
from ..subtitles import cards, to_srt, to_vtt
from ..voices import is_sample_spec, library, resolve
from .artifact import Artifact, Request
from .project import Project, StoryEntry
from .quality import line_word_starts, transcript_path
from .reading import question_recipe


def cast_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """cast.json: every character with gender, look and voice."""
    story, settings, layout = entry.story, entry.settings, entry.layout
    recipe = {
        "characters": [[c.name, c.gender] for c in story.characters],
        "overrides": {k: v.model_dump() for k, v in sorted(settings.characters.items())},
        "language": story.language,
        **question_recipe(project, entry, "cast"),
        # What the answer depends on: a model reads the whole script, the rules far less.
        "reads": project.backend(entry, "llm").cast_reads(story),
        "tts": project.backend_recipe(entry, "tts"),
    }
    voices_dir = Path(layout.source_dir) / "voices"
    # The library is listed at graph time (a folder walk): a sample added or changed recasts.
    samples = [
        sample.model_copy(update={"path": Path(os.path.relpath(sample.path, project.root))})
        for sample in library(project.path(voices_dir), project.path("voices"))
    ]
    recipe["samples"] = [[s.key, project.path(s.path).stat().st_size, s.transcript] for s in samples]

    def build(request: Request, out: dict[str, Path]) -> None:
        cast = build_cast(
            story, settings.characters, project.backend(entry, "llm"), project.backend(entry, "tts"), voices_dir,
            samples, Path("."),
        )
        out["cast.json"].write_text(json_text(cast.model_dump(mode="json")), encoding="utf-8")

    yield Artifact(
        stage="cast", item=entry.slug, targets={"cast.json": layout.cast}, recipe=recipe,
        build=build, runtime=project.runtime, title=f"cast of {story.title}",
    )


def tts_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """One wav per spoken line, in the speaker's voice from cast.json; listened to when retakes are on."""
    story, layout = entry.story, entry.layout
    backend_recipe = project.backend_recipe(entry, "tts")
    samples = {
        name: sample for name, spec in entry.settings.characters.items()
        if spec.voice and (sample := _pinned_sample(project, entry, spec.voice))
    }
    piper_voiced = {
        name for name, spec in entry.settings.characters.items()
        if spec.voice and spec.voice.startswith(PIPER_PREFIX) and entry.settings.tts.backend != "piper"
    }
    retakes = entry.settings.tts.retakes
    for line in story.lines:
        recipe = {
            "tts": _piper_recipe() if line.speaker in piper_voiced else backend_recipe, "text": line.text,
            "hints": line.hints, "language": story.language, "speaker": line.speaker,
            "seed": entry.seed("tts", line.id),  # a reroll (or a retake that won) voices the line anew
        }
        artifact = Artifact(
            stage="tts", item=f"{entry.slug}/{line.id}", targets={"line.wav": layout.line_wav(line.id)},
            recipe=recipe, plan=_speech_plan(layout, line, story.language, entry.seed("tts", line.id)),
            build=_speech_build(project, entry), runtime=project.runtime,
            inputs=_sample_files(project, samples.get(line.speaker)), deps=[layout.cast],
            title=f"{line.speaker}: {line.text[:40]}",
        )
        if retakes:
            from .retakes import with_retakes

            artifact = with_retakes(project, entry, line, artifact, retakes)
        yield artifact


def _pinned_sample(project: Project, entry: StoryEntry, spec: str) -> str | None:
    """The root-relative path of the sample a story.toml voice names, or None for a backend voice name."""
    if is_sample_spec(spec) and ("/" in spec or "\\" in spec):
        found = resolve(spec, project.path(entry.layout.source_dir), project.root).path
        return Path(os.path.relpath(found, project.root)).as_posix()
    if "/" in spec or "\\" in spec or spec.startswith(PIPER_PREFIX):
        return None
    path = entry.layout.voice_sample(spec)
    return path if project.path(path).is_file() else None


@lru_cache(maxsize=1)
def _piper() -> TTSBackend:
    """The Piper backend that speaks ``piper:`` voices in stories whose TTS backend is another."""
    return backend_class("tts", "piper")()


@lru_cache(maxsize=1)
def _piper_recipe() -> str:
    from ..store.hashing import digest

    recipe = backend_class("tts", "piper").recipe({})
    return f"{recipe['backend']} {recipe['version']} {digest(recipe)}"


def _speaker_backend(project: Project, entry: StoryEntry, voice: Voice) -> TTSBackend:
    """The backend that speaks ``voice``: Piper for a ``piper:`` voice, else the story's TTS backend."""
    if voice.name.startswith(PIPER_PREFIX) and entry.settings.tts.backend != "piper":
        return _piper()
    return project.backend(entry, "tts")


def _sample_files(project: Project, sample: str | None) -> list[str]:
    """A voice sample and, when it has one, its transcript: a cloning backend reads both."""
    if sample is None:
        return []
    transcript = Path(sample).with_suffix(".reference.txt").as_posix()
    return [sample, transcript] if project.path(transcript).is_file() else [sample]


def _speech_plan(layout: StoryLayout, line: Line, language: str, seed: int):
    def plan() -> Request:
        voice = Cast.load(layout.cast).member(line.speaker).voice
        # A bare name is a file in the story's voices/; a library sample is a path from the root.
        if voice.sample is not None and not voice.sample.is_absolute() and len(voice.sample.parts) == 1:
            voice = voice.model_copy(update={"sample": Path(layout.voice_sample(voice.sample.as_posix()))})
        return {"text": line.text, "hints": line.hints, "language": language, "voice": voice.model_dump(mode="json"),
                "seed": seed}

    return plan


def _speech_build(project: Project, entry: StoryEntry):
    def build(request: Request, out: dict[str, Path]) -> None:
        speech = SpeechRequest(
            text=request["text"], hints=request["hints"], language=request["language"],
            voice=Voice.model_validate(request["voice"]), seed=request.get("seed", 0),
        )
        _speaker_backend(project, entry, speech.voice).synthesize(speech, out["line.wav"])

    return build


# What shapes narration.wav and timeline.json: loudness, ducking and cue gain are the mix's alone.
NARRATION_SETTINGS = {"sample_rate", "lead_in", "line_pause", "scene_pause", "cue_pause", "tail"}


def narration_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """narration.wav and timeline.json: the lines joined with pauses, and when everything happens."""
    story, layout, audio = entry.story, entry.layout, entry.settings.audio
    fps = entry.settings.video.fps
    structure = [
        [scene.id, [_item_shape(item) for item in scene.items]] for scene in story.scenes
    ]
    wavs = {line.id: layout.line_wav(line.id) for line in story.lines}

    def build(request: Request, out: dict[str, Path]) -> None:
        from ..media.audio import write_wav
        from ..timeline import assemble

        data, timeline = assemble(story, {k: Path(v) for k, v in wavs.items()}, audio, fps)
        write_wav(out["narration.wav"], data, audio.sample_rate)
        out["timeline.json"].write_text(json_text(timeline.model_dump(mode="json")), encoding="utf-8")

    yield Artifact(
        stage="narration", item=entry.slug,
        targets={"narration.wav": layout.narration, "timeline.json": layout.timeline},
        recipe={"audio": audio.model_dump(include=NARRATION_SETTINGS), "fps": fps, "structure": structure},
        build=build, runtime=project.runtime, inputs=list(wavs.values()),
        title=f"narration of {story.title}",
    )


def _item_shape(item: Line | Cue) -> list:
    if isinstance(item, Line):
        return ["line", item.id, item.speaker, item.text]
    return ["cue", item.id, item.anchor, item.line, item.position]


def subtitle_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """story.srt and story.vtt from the timeline; with ``subtitles.word_timing``, cards change on heard words."""
    layout, lines = entry.layout, entry.story.lines
    timed = entry.settings.subtitles.word_timing
    transcripts = {line.id: transcript_path(entry, line.id) for line in lines} if timed else {}

    def build(request: Request, out: dict[str, Path]) -> None:
        from ..timeline import Timeline

        starts = {
            line.id: line_word_starts(line.text, transcripts[line.id], layout.line_wav(line.id)) for line in lines
        } if timed else None
        items = cards(Timeline.load(layout.timeline), word_starts=starts)
        out["story.srt"].write_text(to_srt(items), encoding="utf-8")
        out["story.vtt"].write_text(to_vtt(items), encoding="utf-8")

    yield Artifact(
        stage="subtitles", item=entry.slug, targets={"story.srt": layout.srt, "story.vtt": layout.vtt},
        recipe={"format": 1, "word_timing": timed}, build=build, runtime=project.runtime,
        inputs=[layout.timeline, *transcripts.values(), *([layout.line_wav(line.id) for line in lines] if timed else [])],
        title=f"subtitles of {entry.story.title}",
    )
