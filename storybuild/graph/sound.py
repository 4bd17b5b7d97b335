"""The sound stages: sfx_plan, sfx, final_wav, soundtrack.

Cues are timed from timeline.json: the story's ``{cues}`` and, unless ``audio.infer_cues`` is off,
the cues the text implies (cues.json, asked of the language model by the ``cues`` stage), placed
inside their line by its measured start and end. Each explicit cue's sound is one task (so editing
one cue regenerates one sound); the implied ones are one task per story (``implied.py``), because
which there are is an answer known only at run time, and that task keeps each sound in the cache
apart, so editing one line still regenerates one sound. final.wav lays them all under the
narration, ducked under speech and normalized to the loudness target.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from ..backends.llm import InferredCue
from ..backends.sfx import SoundRequest
from ..errors import ConfigError
from ..store.atomic import json_text
from ..timeline import Timeline
from .artifact import Artifact, Request
from .project import Project, StoryEntry


class PlannedCue(BaseModel):
    """A cue with its place and length in the soundtrack."""

    id: str
    text: str
    start: float
    duration: float
    gain_db: float
    inferred: bool = False


class SoundPlan(BaseModel):
    """sfx_plan.json."""

    cues: list[PlannedCue]

    @classmethod
    def load(cls, path: str | Path) -> SoundPlan:
        """Read an sfx_plan.json."""
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))


MIN_CUE_SECONDS = 0.5


def inferred_id(line_id: str, n: int) -> str:
    """The id of the ``n``-th (1-based) implied cue on line ``line_id``: ``i0007-1``.

    Explicit cue ids are digits only, so the two never collide; an edit elsewhere leaves it alone.
    """
    return f"i{line_id}-{n}"


def place_inferred(timeline: Timeline, inferred: list[InferredCue], gain: float) -> list[PlannedCue]:
    """Implied cues placed on the timeline: at ``position`` of their line's measured span."""
    spans = {line.id: line for line in timeline.lines}
    counts: dict[str, int] = {}
    placed = []
    for cue in inferred:
        line = spans.get(cue.line)
        if line is None:
            continue
        counts[cue.line] = counts.get(cue.line, 0) + 1
        start = round(line.start + cue.position * (line.end - line.start), 3)
        room = max(MIN_CUE_SECONDS, timeline.duration - start)
        placed.append(PlannedCue(
            id=inferred_id(cue.line, counts[cue.line]), text=cue.text, start=start,
            duration=round(min(cue.duration, room), 3), gain_db=gain, inferred=True,
        ))
    return placed


def sfx_plan_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """sfx_plan.json: every cue, explicit and implied, with its start and length."""
    layout, gain = entry.layout, entry.settings.audio.cue_gain_db
    infer = entry.settings.audio.infer_cues
    # The plan reads the implied cues from cues.json (an input), never from the language model:
    # the model is in cues.json's recipe, not here. The sfx backend gives explicit cues their length.
    recipe = {"sfx": project.backend_recipe(entry, "sfx"), "gain_db": gain, "plan": 2}

    def build(request: Request, out: dict[str, Path]) -> None:
        timeline = Timeline.load(layout.timeline)
        sfx = project.backend(entry, "sfx")
        cues = []
        for cue in timeline.cues:
            room = max(MIN_CUE_SECONDS, timeline.duration - cue.start)
            duration = round(min(sfx.natural_duration(cue.text), room), 3)
            cues.append(PlannedCue(id=cue.id, text=cue.text, start=cue.start, duration=duration, gain_db=gain))
        if infer:
            cues += place_inferred(timeline, load_inferred(layout.inferred_cues), gain)
        out["sfx_plan.json"].write_text(json_text(SoundPlan(cues=cues).model_dump(mode="json")), encoding="utf-8")

    yield Artifact(
        stage="sfx_plan", item=entry.slug, targets={"sfx_plan.json": layout.sfx_plan}, recipe=recipe,
        build=build, runtime=project.runtime,
        inputs=[layout.timeline, *([layout.inferred_cues] if infer else [])],
        title=f"sound plan of {entry.story.title}",
    )


def load_inferred(path: str | Path) -> list[InferredCue]:
    """Read a cues.json."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [InferredCue.model_validate(item) for item in data]


def sfx_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """One wav per cue, of the length the plan gives it."""
    layout, rate = entry.layout, entry.settings.audio.sample_rate
    backend_recipe = project.backend_recipe(entry, "sfx")
    for cue in entry.story.cues:
        seed = entry.seed("sfx", cue.id)

        def plan(cue_id: str = cue.id, seed: int = seed) -> Request:
            planned = next(c for c in SoundPlan.load(layout.sfx_plan).cues if c.id == cue_id)
            return {"text": planned.text, "duration": planned.duration, "seed": seed, "sample_rate": rate}

        def build(request: Request, out: dict[str, Path]) -> None:
            project.backend(entry, "sfx").generate(SoundRequest(**request), out["cue.wav"])

        yield Artifact(
            stage="sfx", item=f"{entry.slug}/{cue.id}", targets={"cue.wav": layout.cue_wav(cue.id)},
            recipe={"sfx": backend_recipe, "text": cue.text, "seed": seed, "sample_rate": rate},
            plan=plan, build=build, runtime=project.runtime, deps=[layout.sfx_plan],
            title=cue.text,
        )
    if entry.settings.audio.infer_cues:
        from .implied import implied_sounds_artifact

        yield implied_sounds_artifact(project, entry)


MUSIC_CAP = 45.0  # seconds of generated music at most: longer spans loop it (Stable Audio's limit)


def _music_file(project: Project, entry: StoryEntry, name: str) -> str:
    """The root-relative path of a music file named in the settings: from the story folder, else the root."""
    for folder in (entry.layout.source_dir, "."):
        path = posixpath.normpath(posixpath.join(folder, name))
        if project.path(path).is_file():
            return path
    raise ConfigError(f"music file {name!r} is neither in {entry.layout.source_dir}/ nor in the project folder")


def music_sources(project: Project, entry: StoryEntry) -> tuple[dict[str, str | None], dict[str, str]]:
    """Each scene's music (a file, a generated track's path, or None), and the prompts to generate by track name."""
    audio, scenes = entry.settings.audio, entry.settings.scenes
    prompts: dict[str, str] = {}

    def source(music: str | None, prompt: str | None, name: str) -> str | None:
        if music:
            return _music_file(project, entry, music)
        if prompt:
            prompts[name] = prompt
            return entry.layout.music_wav(name)
        return None

    story_music = source(audio.music, audio.music_prompt, "story")
    chosen = {}
    for scene in entry.story.scenes:
        own = scenes.get(scene.id)
        own_music = own and (own.music or own.music_prompt)
        chosen[scene.id] = source(own.music, own.music_prompt, scene.id) if own_music else story_music
    return chosen, prompts


def music_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """music/<story|scene>.wav: the music bed the sfx backend makes from a music_prompt."""
    layout, rate = entry.layout, entry.settings.audio.sample_rate
    backend_recipe = project.backend_recipe(entry, "sfx")
    _, prompts = music_sources(project, entry)
    for name, prompt in sorted(prompts.items()):
        seed = entry.seed("music", name)

        def plan(name: str = name, prompt: str = prompt, seed: int = seed) -> Request:
            timeline = Timeline.load(layout.timeline)
            span = timeline.duration if name == "story" else timeline.scene(name).duration
            duration = round(min(MUSIC_CAP, span + entry.settings.audio.music_fade), 3)
            return {"text": prompt, "duration": duration, "seed": seed, "sample_rate": rate}

        def build(request: Request, out: dict[str, Path]) -> None:
            project.backend(entry, "sfx").generate(SoundRequest(**request), out["music.wav"])

        yield Artifact(
            stage="music", item=f"{entry.slug}/{name}", targets={"music.wav": layout.music_wav(name)},
            recipe={"sfx": backend_recipe, "text": prompt, "seed": seed, "sample_rate": rate},
            plan=plan, build=build, runtime=project.runtime, deps=[layout.timeline], title=f"music: {prompt[:40]}",
        )


def final_wav_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """final.wav: narration plus cues and music, ducked under speech, loudness-normalized."""
    layout, audio = entry.layout, entry.settings.audio
    cue_wavs = {cue.id: layout.cue_wav(cue.id) for cue in entry.story.cues}
    # The implied sounds' manifest holds each sound's digest, so it stands in for their files.
    implied = [layout.inferred_sfx] if audio.infer_cues else []
    sources, _ = music_sources(project, entry)
    music_files = sorted({path for path in sources.values() if path})
    # The sample rate is the narration's (an input), cue gains are in the plan: neither is here.
    # Music files are inputs (by content); the recipe says which scene plays which, by index.
    recipe = {"loudness": audio.loudness, "duck_db": audio.duck_db, "mix": 3}
    if music_files:
        recipe["music"] = {
            "level": audio.music_level, "fade": audio.music_fade,
            "scenes": [[scene, music_files.index(path) if path else None] for scene, path in sources.items()],
        }

    def build(request: Request, out: dict[str, Path]) -> None:
        import numpy as np

        from ..media.audio import read_wav, to_mono, write_wav
        from ..media.loudness import normalize
        from ..media.mix import duck, mix, place_cues

        speech, rate = read_wav(layout.narration)
        speech = to_mono(speech)
        sounds = []
        for cue in SoundPlan.load(layout.sfx_plan).cues:
            sound, _ = read_wav(cue_wavs.get(cue.id) or layout.cue_wav(cue.id))
            sounds.append((cue.start, sound * np.float32(10 ** (cue.gain_db / 20))))
        # Mono speech over mono cues is a stereo file with equal channels: mixed, measured and
        # limited as one channel (half the work), written to both. Music (stereo) mixes in stereo.
        mono = not music_files and all(sound.ndim == 1 for _, sound in sounds)
        bed = place_cues(len(speech), rate, sounds, channels=1 if mono else 2)
        if music_files:
            from ..media.music import story_bed

            spans = [(s.start, s.end, sources.get(s.id)) for s in Timeline.load(layout.timeline).scenes]
            bed = bed + story_bed(speech, rate, spans, audio.music_fade, -audio.music_level)
        bed = duck(bed, speech, rate, amount_db=audio.duck_db)
        mixed = normalize(mix(speech, bed), rate, target_lufs=audio.loudness, copies=2 if mono else 1)
        write_wav(out["final.wav"], mixed, rate, channels=2)

    yield Artifact(
        stage="final_wav", item=entry.slug, targets={"final.wav": layout.final_wav}, recipe=recipe,
        build=build, runtime=project.runtime,
        inputs=[layout.narration, layout.sfx_plan, *cue_wavs.values(), *implied, *music_files,
                *([layout.timeline] if music_files else [])],
        title=f"soundtrack of {entry.story.title}",
    )


def soundtrack_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """final.m4a: final.wav encoded as AAC, so the final mux only copies streams."""
    layout = entry.layout

    def build(request: Request, out: dict[str, Path]) -> None:
        from ..media.video import encode_soundtrack

        encode_soundtrack(Path(layout.final_wav), out["final.m4a"])

    yield Artifact(
        stage="soundtrack", item=entry.slug, targets={"final.m4a": layout.final_m4a},
        recipe={"codec": "aac", "bitrate": "192k", "rate": 48000, "mux": 2}, build=build,
        runtime=project.runtime, inputs=[layout.final_wav], title=f"AAC soundtrack of {entry.story.title}",
    )
