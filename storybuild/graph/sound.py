"""The sound stages: sfx_plan, sfx, final_wav.

Cues are timed from timeline.json; each cue's sound is generated alone (so editing one cue
regenerates one sound); final.wav lays them under the narration, ducked under speech and
normalized to the loudness target.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from ..backends.sfx import SoundRequest
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


class SoundPlan(BaseModel):
    """sfx_plan.json."""

    cues: list[PlannedCue]

    @classmethod
    def load(cls, path: str | Path) -> SoundPlan:
        """Read an sfx_plan.json."""
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))


MIN_CUE_SECONDS = 0.5


def sfx_plan_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """sfx_plan.json: every cue with its start and length."""
    layout, gain = entry.layout, entry.settings.audio.cue_gain_db
    recipe = {
        "llm": project.backend_recipe(entry, "llm"),
        "sfx": project.backend_recipe(entry, "sfx"),
        "gain_db": gain,
    }

    def build(request: Request, out: dict[str, Path]) -> None:
        timeline = Timeline.load(layout.timeline)
        sfx = project.backend(entry, "sfx")
        cues = []
        for cue in timeline.cues:
            room = max(MIN_CUE_SECONDS, timeline.duration - cue.start)
            duration = round(min(sfx.natural_duration(cue.text), room), 3)
            cues.append(PlannedCue(id=cue.id, text=cue.text, start=cue.start, duration=duration, gain_db=gain))
        out["sfx_plan.json"].write_text(json_text(SoundPlan(cues=cues).model_dump(mode="json")), encoding="utf-8")

    yield Artifact(
        stage="sfx_plan", item=entry.slug, targets={"sfx_plan.json": layout.sfx_plan}, recipe=recipe,
        build=build, runtime=project.runtime, inputs=[layout.timeline],
        title=f"sound plan of {entry.story.title}",
    )


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


def final_wav_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """final.wav: narration plus cues, ducked under speech, loudness-normalized."""
    layout, audio = entry.layout, entry.settings.audio
    cue_wavs = {cue.id: layout.cue_wav(cue.id) for cue in entry.story.cues}
    recipe = {
        "sample_rate": audio.sample_rate, "loudness": audio.loudness,
        "duck_db": audio.duck_db, "mix": 1,
    }

    def build(request: Request, out: dict[str, Path]) -> None:
        from ..media.audio import read_wav, to_mono, to_stereo, write_wav
        from ..media.loudness import normalize
        from ..media.mix import duck, mix, place_cues

        speech, rate = read_wav(layout.narration)
        speech = to_mono(speech)
        placed = []
        for cue in SoundPlan.load(layout.sfx_plan).cues:
            sound, _ = read_wav(cue_wavs[cue.id])
            placed.append((cue.start, to_stereo(sound) * (10 ** (cue.gain_db / 20))))
        bed = duck(place_cues(len(speech), rate, placed), speech, rate, amount_db=audio.duck_db)
        mixed = normalize(mix(speech, bed), rate, target_lufs=audio.loudness)
        write_wav(out["final.wav"], mixed, rate)

    yield Artifact(
        stage="final_wav", item=entry.slug, targets={"final.wav": layout.final_wav}, recipe=recipe,
        build=build, runtime=project.runtime,
        inputs=[layout.narration, layout.sfx_plan, *cue_wavs.values()],
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
        recipe={"codec": "aac", "bitrate": "192k", "rate": 48000}, build=build,
        runtime=project.runtime, inputs=[layout.final_wav], title=f"AAC soundtrack of {entry.story.title}",
    )
