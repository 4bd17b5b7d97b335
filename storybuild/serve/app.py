"""The FastAPI application: the bridge's REST surface over storybuild's build graph.

Security is at this edge: every route but ``/api/health`` wants the bearer token when one is set
(``storybuild serve`` requires one to bind beyond loopback), request bodies are limited before they
are read, and artifact paths go through ``artifacts.artifact_file``. Errors the build reports keep
their fields (stage, story, item) all the way into the status answer.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse

from ..backends import CAPABILITIES, names
from ..graph.project import Project
from .artifacts import ArtifactRefused, artifact_file
from .context import Services, services
from .jobs import END_STATES, STATES, Job, JobStore
from .runner import Runner
from .settings import ServeConfig
from .webhooks import WebhookSender, event_maker

__all__ = ["create_app", "job_status"]

# What a job's quality_preset does: it becomes the `quality` option of every ComfyUI backend (see
# config.PRESETS); embedded backends have no such knob and build as configured.
PRESETS = {
    "draft": "ComfyUI backends at quality draft: half the steps at about half the size, conformed up",
    "standard": "the project's settings as they are (the bridge's 'normal')",
    "high": "ComfyUI backends at quality high: 1.5x the steps (the bridge's 'ultra' too)",
}
TOKEN_COOKIE = "storybuild_token"  # set once from /?token=..., so <img>, <video> and EventSource are let in
EVENT_POLL = 0.3  # seconds between looks at a job while streaming its events


def create_app(config: ServeConfig) -> FastAPI:
    """The app for ``config``; its lifespan starts the queue and the webhook sender and stops them."""
    project = Project(config.root)
    state = config.state_path()
    store = JobStore.for_state_dir(state, config.database_url)
    sender = WebhookSender(store, config.secret(), config.allow_private_webhooks,
                           first_retry=config.webhook_first_retry, timeout=config.webhook_timeout)
    runner = Runner(store, config.root, project.settings.build_dir.as_posix(), state / "jobs",
                    config.max_concurrent, event_maker, sender.wake, config.cancel_grace)
    svc = Services(config=config, store=store, runner=runner, sender=sender)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner.start()
        sender.start()
        try:
            yield
        finally:
            runner.stop()
            sender.stop()
            store.close()

    app = FastAPI(title="storybuild", version="1", lifespan=lifespan,
                  description="Build stories into videos as jobs; follow them; get signed webhooks.")
    app.state.serve = svc

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length")
        if length and (not length.isdigit() or int(length) > config.max_body):
            return JSONResponse({"detail": f"request body over {config.max_body} bytes"}, status_code=413)
        if request.headers.get("transfer-encoding", "").lower() == "chunked" and request.method in ("PUT", "POST"):
            return JSONResponse({"detail": "send a Content-Length"}, status_code=411)
        signing_in = False
        if config.token and request.url.path != "/api/health":
            given = request.headers.get("authorization", "")
            cookie = request.cookies.get(TOKEN_COOKIE, "")
            query = request.query_params.get("token", "")
            expected = config.token.encode()
            if hmac.compare_digest(given.encode(), b"Bearer " + expected) or hmac.compare_digest(cookie.encode(), expected):
                pass
            elif request.method == "GET" and hmac.compare_digest(query.encode(), expected):
                signing_in = True  # a browser opening /?token=...: its pictures and events then carry the cookie
            else:
                return JSONResponse({"detail": "missing or wrong bearer token"}, status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
        response = await call_next(request)
        if signing_in:
            response.set_cookie(TOKEN_COOKIE, config.token, httponly=True, samesite="strict")
        return response

    from .stories import router as stories_router

    app.include_router(stories_router)
    _job_routes(app)
    _page_routes(app)
    return app


def job_status(job: Job) -> dict[str, Any]:
    """A job as ``GET /api/status`` shows it: the bridge's fields and storybuild's."""
    return {
        "job_id": job.id, "status": job.status, "progress": job.progress, "message": job.message,
        "created_at": job.created_at, "updated_at": job.updated_at, "started_at": job.started_at,
        "finished_at": job.finished_at, "result": job.result, "error": job.error, "type": job.kind,
        "story": job.story, "scene": job.scene, "target_id": job.target_id, "targets": job.targets,
        "priority": job.priority, "quality_preset": job.quality_preset, "stages": job.stages, "runs": job.runs,
        "notify_webhook": job.webhook,
    }


def _job(svc: Services, job_id: str) -> Job:
    job = svc.store.get(job_id) if job_id.isalnum() and len(job_id) <= 64 else None
    if job is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return job


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1.0)
        return True
    except httpx.HTTPError:
        return False


def _job_routes(app: FastAPI) -> None:
    @app.get("/api/health", summary="Liveness")
    def health(svc: Services = Depends(services)) -> dict[str, Any]:
        return {"status": "ok", "running": svc.store.count("running"), "pending": svc.store.count("pending")}

    @app.get("/api/capabilities", summary="Backends per capability, servers and whether they answer, presets")
    def capabilities(svc: Services = Depends(services)) -> dict[str, Any]:
        settings = svc.project().settings
        servers = settings.servers
        comfy = servers.comfyui_url if isinstance(servers.comfyui_url, list) else [servers.comfyui_url]
        return {
            "backends": {capability: names(capability) for capability in CAPABILITIES},
            "selected": {c: getattr(settings, c).backend for c in CAPABILITIES if hasattr(settings, c)},
            "servers": {"comfyui": [{"url": url, "answers": _answers(url)} for url in comfy],
                        "llm": [{"url": servers.llm_url, "answers": _answers(servers.llm_url)}]},
            "quality_presets": PRESETS, "priorities": ["low", "normal", "high"],
            "max_concurrent": svc.config.max_concurrent,
        }

    @app.get("/api/status/{job_id}", summary="A job's state, progress per stage, artifacts and errors")
    def status(job_id: str, svc: Services = Depends(services)) -> dict[str, Any]:
        return job_status(_job(svc, job_id))

    @app.get("/api/jobs", summary="Jobs, newest first")
    def jobs(status: str | None = Query(None), limit: int = Query(10, ge=1, le=500),
             story: str | None = Query(None), svc: Services = Depends(services)) -> list[dict[str, Any]]:
        if status is not None and status not in STATES:
            raise HTTPException(422, f"status: expected one of {', '.join(STATES)}")
        return [job_status(job) for job in svc.store.list(status, limit, story)]

    @app.delete("/api/jobs/{job_id}", summary="Cancel: a queued job at once, a running build by SIGTERM")
    def cancel(job_id: str, svc: Services = Depends(services)) -> dict[str, Any]:
        _job(svc, job_id)
        return job_status(svc.runner.cancel(job_id))

    @app.get("/api/jobs/{job_id}/events", summary="Server-sent events: the job's status on every change")
    async def job_events(job_id: str, svc: Services = Depends(services)) -> StreamingResponse:
        _job(svc, job_id)

        async def stream() -> AsyncIterator[str]:
            last = None
            while True:
                job = await asyncio.to_thread(svc.store.get, job_id)
                if job is None:
                    return
                if job.updated_at != last:
                    last = job.updated_at
                    yield f"event: status\ndata: {json.dumps(job_status(job))}\n\n"
                    if job.status in END_STATES:
                        return
                else:
                    yield ": waiting\n\n"
                await asyncio.sleep(EVENT_POLL)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/api/artifacts/{story}/{path:path}", summary="A file under build/<story>/, with range requests")
    def artifact(story: str, path: str, svc: Services = Depends(services)) -> FileResponse:
        settings = svc.project().settings
        try:
            found = artifact_file(svc.root, settings.build_dir, story, path)
        except ArtifactRefused as exc:
            raise HTTPException(400, str(exc)) from exc
        except FileNotFoundError as exc:
            raise HTTPException(404, f"build/{story}/{path} does not exist (yet)") from exc
        return FileResponse(found, headers={"Cache-Control": "no-cache"})


def _page_routes(app: FastAPI) -> None:
    from html import escape

    from . import storyboard

    @app.get("/", response_class=HTMLResponse, summary="The stories, each linking to its storyboard")
    def index(svc: Services = Depends(services)) -> str:
        items = "".join(
            f'<li><a href="/stories/{escape(e.slug)}">{escape(e.story.title if e.story else e.slug)}</a>'
            f'{" - " + escape(str(e.error)) if e.error else ""}</li>' for e in svc.project().stories
        )
        return (f'<!doctype html><html><head><meta charset="utf-8"><title>storybuild</title></head>'
                f'<body><h1>Stories</h1><ul>{items}</ul><p><a href="/docs">API</a></p></body></html>')

    @app.get("/stories/{story}", response_class=HTMLResponse, summary="A story's storyboard, with reroll buttons")
    def page(story: str, svc: Services = Depends(services)) -> str:
        from .stories import _buildable

        entry = _buildable(svc, story)
        project = svc.project()
        build = project.path(entry.layout.dir)

        def link(path: str) -> str:
            try:
                version = (build / path).stat().st_mtime_ns
            except OSError:
                version = 0
            return f"/api/artifacts/{story}/{path}?v={version}"

        return storyboard.render(project, entry, link, live=True)

    @app.get("/static/storyboard.js", include_in_schema=False)
    def script() -> FileResponse:
        return FileResponse(storyboard.STATIC / "storyboard.js", media_type="text/javascript")
