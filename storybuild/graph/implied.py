"""The sounds of implied cues: one task per story that keeps every sound in the cache apart.

Which cues the text implies is cues.json, an answer that exists only once the ``cues`` task ran;
doit needs its task list before anything runs, so these sounds cannot be one task each. The one
task (``sfx:<story>/inferred``) writes ``sfx/i<line>-<n>.wav`` for every implied cue of the plan
and a manifest, ``sfx/inferred.json``, with each sound's file name (beside it) and digest (final.wav reads it as its input).
Each sound has its own cache key, shaped like an explicit cue's (backend, text, seed, rate,
length), so rerunning the task after a one-line edit links every unchanged sound from the cache
and generates one. The journal records each sound as an ``sfx`` item, like an explicit cue.
Sounds of cues that are gone are removed, so ``sfx/`` holds what the plan names.

The sounds are made in the task's ``plan`` (which always runs), not its ``build`` (which a cache
hit skips): a manifest linked from the cache must never stand for sounds that are not there. The
manifest is then the plan's request, so its cache key covers every sound's digest.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import progress
from ..backends.sfx import SoundRequest
from ..store import journal
from ..store.atomic import json_text, temp_path
from ..store.hashing import digest, file_digest
from ..store.tools import identities, stage_tools
from .artifact import Artifact, Request
from .project import Project, StoryEntry
from .sound import SoundPlan

PREFIX = "i"


def implied_sounds_artifact(project: Project, entry: StoryEntry) -> Artifact:
    """The task that makes every implied cue's sound and lists them in sfx/inferred.json."""
    layout, rate = entry.layout, entry.settings.audio.sample_rate
    backend_recipe = project.backend_recipe(entry, "sfx")
    runtime = project.runtime

    def make_one(cue_id: str, request: Request) -> str:
        """Link the sound from the cache or generate it; returns "reused" or "generated"."""
        started = time.monotonic()
        target = Path(layout.cue_wav(cue_id))
        recipe = {"sfx": backend_recipe, "text": request["text"], "seed": request["seed"], "sample_rate": rate}
        backend = project.backend(entry, "sfx")
        tools = identities(stage_tools("sfx", type(backend)))
        key = digest({"stage": "sfx", "recipe": recipe, "request": request, "inputs": {}, "tools": tools})
        outcome = "reused"
        if not runtime.cache.fetch(key, {"cue.wav": target}, warn=progress.warn):
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = temp_path(target)
            try:
                backend.generate(SoundRequest(**request), temp)
                runtime.cache.store(key, {"cue.wav": temp})
                temp.replace(target)
            finally:
                temp.unlink(missing_ok=True)
            outcome = "generated"
        journal.append(runtime.journal, {
            "stage": "sfx", "item": f"{entry.slug}/{cue_id}", "outcome": outcome, "key": key,
            "seconds": round(time.monotonic() - started, 3),
        })
        return outcome

    def plan() -> Request:
        planned = [cue for cue in SoundPlan.load(layout.sfx_plan).cues if cue.inferred]
        listing = []
        for cue in planned:
            seed = entry.seed("sfx", cue.id)
            make_one(cue.id, {"text": cue.text, "duration": cue.duration, "seed": seed, "sample_rate": rate})
            # Names relative to the manifest's folder: a renamed story reuses the manifest as is.
            wav = layout.cue_wav(cue.id)
            listing.append({"id": cue.id, "file": Path(wav).name, "digest": file_digest(wav)})
        keep = {Path(layout.cue_wav(cue.id)).name for cue in planned}
        folder = Path(layout.cue_wav("x")).parent
        for stale in folder.glob(f"{PREFIX}*.wav"):
            if stale.name not in keep:
                stale.unlink(missing_ok=True)
        return {"sounds": listing}

    def build(request: Request, out: dict[str, Path]) -> None:
        out["inferred.json"].write_text(json_text(request), encoding="utf-8")

    return Artifact(
        stage="sfx", item=f"{entry.slug}/inferred", targets={"inferred.json": layout.inferred_sfx},
        recipe={"sfx": backend_recipe, "sample_rate": rate, "implied": 1,
                "seeds": entry.seeds.get("sfx", {})},
        # The plan is a dep, not an input: the manifest is made from the sounds (the request), so a
        # plan change that leaves every sound alone (a gain, a line moved) links the old manifest.
        plan=plan, build=build, runtime=runtime, deps=[layout.sfx_plan], title="sounds the text implies",
    )
