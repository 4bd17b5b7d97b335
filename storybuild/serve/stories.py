"""Routes for stories: upload, list, describe, and the jobs that build or reroll them.

A story is uploaded as it lives on disk (``story.txt`` and an optional ``story.toml``); one that
does not parse is refused with the parser's own ``story.txt:line:col: message`` and nothing is
written. A reroll records its seed in ``seeds.toml`` exactly as ``storybuild reroll`` does, then
queues a build of that artifact and of everything that depends on it.
"""

from __future__ import annotations

import sys
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError

from ..errors import ConfigError, StoryError
from ..graph.project import StoryEntry
from ..store.atomic import write_text
from ..story import parse_story
from .artifacts import ArtifactRefused, check_scene, check_slug
from .context import Services, services
from .jobs import Job
from .webhooks import check_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["GenerateRequest", "router", "story_summary"]

router = APIRouter(prefix="/api")

# What ``storybuild reroll`` can give a new seed, and which items each stage has.
REROLLABLE = {"scene": "scenes", "animate": "scenes", "character": "characters", "sfx": "cues", "tts": "lines"}


class StoryUpload(BaseModel):
    """A story as JSON: its text and optional settings."""

    story_txt: str = Field(description="the story.txt text")
    story_toml: str | None = Field(None, description="the optional story.toml text")


class GenerateRequest(BaseModel):
    """The bridge's request body; ``target`` picks the stage to build up to."""

    priority: Literal["low", "normal", "high"] = "normal"
    quality_preset: Literal["draft", "standard", "normal", "high", "ultra"] = "standard"
    notify_webhook: str | None = None
    target: str = "final_mp4"
    parameters: dict[str, Any] = Field(default_factory=dict, description="accepted for the bridge's callers")


def _entry(svc: Services, story: str) -> StoryEntry:
    try:
        check_slug(story)
    except ArtifactRefused as exc:
        raise HTTPException(400, str(exc)) from exc
    entry = next((e for e in svc.project().stories if e.slug == story), None)
    if entry is None:
        raise HTTPException(404, f"no story {story!r}")
    return entry


def _buildable(svc: Services, story: str) -> StoryEntry:
    entry = _entry(svc, story)
    if entry.error is not None:
        raise HTTPException(422, f"{story} cannot be built: {entry.error}")
    return entry


def story_summary(entry: StoryEntry) -> dict[str, Any]:
    """A story as the list shows it."""
    summary: dict[str, Any] = {"story": entry.slug, "error": str(entry.error) if entry.error else None}
    if entry.story is not None:
        story = entry.story
        summary.update(title=story.title, scenes=[s.id for s in story.scenes], lines=len(story.lines),
                       cues=len(story.cues), characters=[c.name for c in story.characters])
    return summary


@router.get("/stories", summary="Every story of the project")
def list_stories(svc: Services = Depends(services)) -> list[dict[str, Any]]:
    return [story_summary(entry) for entry in svc.project().stories]


@router.get("/stories/{story}", summary="One story: its scenes, lines, cues and built artifacts")
@router.get("/project/{story}/info", summary="The bridge's name for GET /api/stories/{story}")
def get_story(story: str, svc: Services = Depends(services)) -> dict[str, Any]:
    entry = _entry(svc, story)
    details = story_summary(entry)
    if entry.story is not None:
        details["scene_details"] = [{"id": s.id, "description": s.description, "lines": [l.id for l in s.lines],
                                     "cues": [c.id for c in s.cues]} for s in entry.story.scenes]
        details["seeds"] = entry.seeds
    details["jobs"] = [job.id for job in svc.store.list(story=story, limit=20)]
    return details


@router.get("/scene/{story}/{scene}/info", summary="One scene: description, lines and cues")
def scene_info(story: str, scene: str, svc: Services = Depends(services)) -> dict[str, Any]:
    entry = _buildable(svc, story)
    found = next((s for s in entry.story.scenes if s.id == scene), None)
    if found is None:
        raise HTTPException(404, f"{story} has no scene {scene!r}")
    return {"story": story, "scene": scene, "description": found.description, "speakers": found.speakers,
            "lines": [{"id": l.id, "speaker": l.speaker, "text": l.text} for l in found.lines],
            "cues": [{"id": c.id, "text": c.text} for c in found.cues]}


@router.put("/stories/{story}", summary="Create or replace a story (JSON, or story.txt as text/plain)")
async def put_story(story: str, request: Request, svc: Services = Depends(services)) -> dict[str, Any]:
    try:
        check_slug(story)
    except ArtifactRefused as exc:
        raise HTTPException(400, str(exc)) from exc
    raw = await request.body()
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            upload = StoryUpload.model_validate_json(raw)
        else:
            upload = StoryUpload(story_txt=raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise HTTPException(422, f"stories/{story}/story.txt: not UTF-8 text (byte {exc.start})") from exc
    except ValidationError as exc:
        raise HTTPException(422, f"expected {{\"story_txt\": ..., \"story_toml\": ...}}: {exc.errors()[0]['msg']}") from exc
    project = svc.project()
    folder = project.path(project.settings.stories_dir) / story
    shown = f"{project.settings.stories_dir.as_posix()}/{story}/story.txt"
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / ".upload.story.txt"
    try:
        staged.write_text(upload.story_txt, encoding="utf-8")
        parse_story(staged, story, shown=shown)
        if upload.story_toml is not None:
            tomllib.loads(upload.story_toml)
    except StoryError as exc:
        raise HTTPException(422, str(exc)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise HTTPException(422, f"{shown.removesuffix('.txt')}.toml: not valid TOML: {exc}") from exc
    finally:
        staged.unlink(missing_ok=True)
    write_text(folder / "story.txt", upload.story_txt)
    if upload.story_toml is not None:
        write_text(folder / "story.toml", upload.story_toml)
    entry = _entry(svc, story)
    if isinstance(entry.error, ConfigError):
        raise HTTPException(422, str(entry.error))
    return story_summary(entry)


def _queue(svc: Services, request: GenerateRequest, kind: str, story: str, targets: list[str],
           scene: str | None = None) -> dict[str, Any]:
    if request.notify_webhook:
        try:
            check_url(request.notify_webhook, svc.config.allow_private_webhooks)
        except ConfigError as exc:
            raise HTTPException(422, str(exc)) from exc
    job = Job(id="", kind=kind, story=story, scene=scene, targets=targets, priority=request.priority,
              quality_preset=request.quality_preset, webhook=request.notify_webhook)
    svc.runner.submit(job)
    return {"job_id": job.id, "status": job.status, "status_url": f"/api/status/{job.id}"}


def _stages() -> set[str]:
    """The stages ``from storybuild.graph import *`` gives every dodo.py: the targets a job may name."""
    import storybuild.graph  # noqa: F401 - declares the stages
    from ..graph.stage import STAGES

    return set(STAGES)


@router.post("/generate/project/{story}", status_code=202, summary="Build a whole story up to `target`")
def generate_project(story: str, request: GenerateRequest = Body(default_factory=GenerateRequest),
                     svc: Services = Depends(services)) -> dict[str, Any]:
    _buildable(svc, story)
    if request.target not in _stages():
        raise HTTPException(422, f"target: no stage {request.target!r}; stages: {', '.join(sorted(_stages()))}")
    return _queue(svc, request, "project", story, [f"{request.target}:{story}"])


@router.post("/generate/scene/{story}/{scene}", status_code=202, summary="Build one scene's picture and clip")
def generate_scene(story: str, scene: str, request: GenerateRequest = Body(default_factory=GenerateRequest),
                   svc: Services = Depends(services)) -> dict[str, Any]:
    try:
        check_scene(scene)
    except ArtifactRefused as exc:
        raise HTTPException(400, str(exc)) from exc
    entry = _buildable(svc, story)
    if scene not in [s.id for s in entry.story.scenes]:
        raise HTTPException(404, f"{story} has no scene {scene!r}")
    return _queue(svc, request, "scene", story, [f"scene:{story}/{scene}", f"animate:{story}/{scene}"], scene)


@router.post("/reroll/{story}/{stage}/{item}", status_code=202,
             summary="Give one artifact a new seed (seeds.toml) and rebuild what depends on it")
def reroll(story: str, stage: str, item: str, request: GenerateRequest = Body(default_factory=GenerateRequest),
           svc: Services = Depends(services)) -> dict[str, Any]:
    from ..seeds import record_seed

    entry = _buildable(svc, story)
    if stage not in REROLLABLE:
        raise HTTPException(422, f"{stage!r} cannot be rerolled; stages: {', '.join(REROLLABLE)}")
    items = {"scenes": [s.id for s in entry.story.scenes], "characters": [c.name for c in entry.story.characters],
             "cues": [c.id for c in entry.story.cues], "lines": [line.id for line in entry.story.lines]}[REROLLABLE[stage]]
    if item not in items:
        raise HTTPException(404, f"{stage} of {story} has no item {item!r}; items: {', '.join(items)}")
    seed = record_seed(svc.project().path(entry.layout.seeds_toml), stage, item)
    targets = [f"{stage}:{story}/{item}", f"final_mp4:{story}"]
    if "storyboard" in _stages():
        targets.append(f"storyboard:{story}")
    scene = item if REROLLABLE[stage] == "scenes" else None
    answer = _queue(svc, request, "reroll", story, targets, scene)
    answer["seed"] = seed
    return answer
