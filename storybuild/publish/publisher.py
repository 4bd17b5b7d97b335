"""Publishing one video: work out what YouTube lacks, check it fits the quota, send only that.

A release is one file plus what goes with it (resource, thumbnail, captions, playlist). Its plan
compares the files' digests with youtube.json: nothing published yet means an upload and then
everything else; after that, an edited description means ``videos.update`` alone, a new
thumbnail ``thumbnails.set`` alone, new captions a captions update alone. A changed video file is
refused unless ``on_video_change = "new"``: YouTube cannot replace a video's file. Each step's
success is written to youtube.json at once, so a run stopped halfway repeats nothing done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import BackendError
from ..store.hashing import digest, file_digest
from .api import YouTubeApi
from .quota import Ledger
from .record import marker, read_json, video_url, write_json
from .settings import YouTubeSettings
from .streams import streams_digest
from .upload import upload_once

__all__ = ["Release", "Step", "VideoChanged", "cost", "plan", "publish"]

RECORD_VERSION = 1


class VideoChanged(BackendError):
    """The video file changed after it was published, and replacing it was not asked for."""


@dataclass
class Release:
    """One file to publish and what goes with it."""

    item: str
    video: Path
    record: Path
    state: Path
    resource: dict  # snippet and status, without the content stamp
    thumbnail: Path | None = None
    captions: Path | None = None
    language: str = "en"
    playlist: str | None = None


@dataclass
class Step:
    """One API call the plan makes, and why."""

    method: str
    why: str


def _stamped(resource: dict, content: str) -> dict:
    """``resource`` with the content key in its description's last line."""
    snippet = dict(resource["snippet"])
    snippet["description"] = f"{snippet.get('description', '').rstrip()}\n\n{marker(content)}".lstrip()
    return {**resource, "snippet": snippet}


def _current(release: Release, settings: YouTubeSettings, content: str) -> dict | None:
    """The recorded video of this release's file; None when it must be uploaded.

    A file rewritten with the same picture and sound (a new soft subtitle track) is the same video.
    """
    current = read_json(release.record).get("video")
    if current and current.get("content") != content and current.get("streams") != streams_digest(release.video):
        if settings.on_video_change == "refuse":
            raise VideoChanged(
                f"{release.video} changed after it was published as {current['url']}, and YouTube cannot replace "
                "a video's file. Restore the published file, or set youtube.on_video_change = \"new\" to upload "
                "it as a new video (the old one stays until you delete it in YouTube Studio)",
                file=release.video,
            )
        return None
    return current or None


def plan(release: Release, settings: YouTubeSettings) -> tuple[list[Step], dict]:
    """The calls publishing ``release`` needs now, and the resource it sends."""
    content = file_digest(release.video)
    current = _current(release, settings, content)
    resource = _stamped(release.resource, current["content"] if current else content)
    done = current["digests"] if current else {}
    steps: list[Step] = []
    if current is None:
        steps += [Step("channels.list", "find the uploads playlist"),
                  Step("playlistItems.list", "look for an earlier upload of this file"),
                  Step("videos.insert", f"upload {release.video} ({release.video.stat().st_size} bytes)")]
        done = {"resource": digest(resource)}
    elif done.get("resource") != digest(resource):
        steps.append(Step("videos.update", "title, description, tags or status changed"))
    if release.thumbnail and done.get("thumbnail") != file_digest(release.thumbnail):
        steps.append(Step("thumbnails.set", f"thumbnail {release.thumbnail}"))
    if release.captions and done.get("captions") != file_digest(release.captions):
        has_track = current and current.get("caption_id")
        steps.append(Step("captions.update" if has_track else "captions.insert", f"captions {release.captions}"))
    if release.playlist and (current or {}).get("playlist") != release.playlist:
        steps.append(Step("playlistItems.insert", f"add to playlist {release.playlist}"))
    return steps, resource


def cost(steps: list[Step]) -> dict[str, int]:
    """Calls by method, for the quota."""
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.method] = counts.get(step.method, 0) + 1
    return counts


def _record_unfinished(release: Release, api: YouTubeApi) -> None:
    """Record an upload of an earlier file that finished unrecorded (a crash, then final.mp4 was rebuilt).

    Without this, the video the crash left would stay on the channel unknown to youtube.json, and
    the rebuilt file would be uploaded beside it instead of meeting ``on_video_change``.
    """
    saved = read_json(release.state)
    if not saved.get("session") or not release.video.is_file() or saved.get("content") == file_digest(release.video):
        return
    held, video = api.upload_status(saved["session"], saved["size"])
    if video is None and held < 0:
        found = api.find_upload(marker(saved["content"]))
        video = {"id": found} if found else None
    if video is not None:
        record = read_json(release.record)
        if (record.get("video") or {}).get("id") != video["id"]:
            if record.get("video"):
                record.setdefault("previous", []).append(record["video"])
            record.update(version=RECORD_VERSION, video={
                "id": video["id"], "url": video_url(video["id"]), "content": saved["content"], "streams": None,
                "sent": None, "digests": {"resource": saved.get("resource"), "video": saved["content"]},
            })
            write_json(release.record, record)
    release.state.unlink(missing_ok=True)


def publish(
    release: Release, api: YouTubeApi, settings: YouTubeSettings, ledger: Ledger,
    warn: Callable[[str], None], progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict:
    """Bring YouTube in step with ``release``; the record written to youtube.json."""
    _record_unfinished(release, api)
    steps, resource = plan(release, settings)
    if not steps:
        return read_json(release.record)
    ledger.check(cost(steps), f"publishing {release.item}")
    record = read_json(release.record)
    content = file_digest(release.video)
    current = _current(release, settings, content)
    methods = {step.method for step in steps}

    def save() -> None:
        record.update(version=RECORD_VERSION, video=current)
        write_json(release.record, record)

    if current is None:
        if record.get("video"):
            record.setdefault("previous", []).append(record["video"])
        video, sent = upload_once(api, release.video, resource, release.state, content, settings.chunk_kib * 1024,
                                  progress)
        current = {
            "id": video["id"], "url": video_url(video["id"]), "content": content,
            "uploaded": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "streams": streams_digest(release.video), "sent": resource,
            "digests": {"resource": sent, "video": content},
        }
        status = video.get("status", {})
        wanted = resource["status"].get("privacyStatus")
        if status.get("privacyStatus") == "private" and wanted != "private":
            current["note"] = (f"YouTube made the video private although {wanted} was asked: API projects not yet "
                               "audited by Google can only upload private videos; apply for an audit, or publish it "
                               "by hand in YouTube Studio")
            warn(f"{release.item}: {current['note']}")
        save()
        release.state.unlink(missing_ok=True)
    if current["digests"].get("resource") != digest(resource):
        api.update_video(current["id"], resource)
        current["sent"], current["digests"]["resource"] = resource, digest(resource)
        save()
    if "thumbnails.set" in methods:
        api.set_thumbnail(current["id"], release.thumbnail.read_bytes())
        current["digests"]["thumbnail"] = file_digest(release.thumbnail)
        save()
    if methods & {"captions.insert", "captions.update"}:
        current["caption_id"] = api.put_captions(
            current["id"], current.get("caption_id"), release.language, "", release.captions.read_bytes()
        )
        current["digests"]["captions"] = file_digest(release.captions)
        save()
    if "playlistItems.insert" in methods:
        current["playlist_item"] = api.add_to_playlist(release.playlist, current["id"])
        current["playlist"] = release.playlist
        save()
    return record
