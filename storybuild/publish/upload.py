"""One video file to YouTube exactly once: a resumable upload that survives the process.

The session is remembered in the upload state before the first byte goes out, so after a crash
the next run asks the session how much it holds (``bytes */TOTAL``) and continues from there, or
learns the upload completed. When the session is gone (expired, or never opened), the channel's
uploads are searched for the content key stamped in the description before anything is sent
again: only when neither exists is the file uploaded anew.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..errors import TransientError
from ..store.hashing import digest
from ..stopping import Stopped, stop_requested
from .api import YouTubeApi
from .record import marker, read_json, write_json

__all__ = ["upload_once"]

# Chunks failing in a row, each retried after a status query, before the upload gives up for now.
_MAX_FAILURES = 8


def upload_once(
    api: YouTubeApi, path: Path, resource: dict, state: Path, content: str, chunk: int,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> tuple[dict, str | None]:
    """The uploaded video's resource (at least its id), and the digest of the resource it was made with.

    The digest is None when the video was found by its content key: what it was sent with is unknown.
    """
    sent = digest(resource)
    total = os.path.getsize(path)
    saved = read_json(state)
    if saved.get("content") == content and saved.get("session"):
        held, video = api.upload_status(saved["session"], total)
        if video is None and held >= 0:
            video = _send(api, path, saved["session"], held, total, chunk, progress)
        if video is not None:
            return video, saved.get("resource")
    found = api.find_upload(marker(content))
    if found:
        return {"id": found}, None
    for _ in range(2):  # a session that expires mid-upload held no finished video: one fresh start
        # Durable before the session exists: a crash between here and the next write leaves no video.
        write_json(state, {"content": content, "size": total, "session": None, "resource": sent})
        session = api.start_upload(resource, total)
        write_json(state, {"content": content, "size": total, "session": session, "resource": sent})
        video = _send(api, path, session, 0, total, chunk, progress)
        if video is not None:
            return video, sent
    raise TransientError("YouTube let two upload sessions expire before the file was complete; publish again")


def _send(
    api: YouTubeApi, path: Path, session: str, held: int, total: int, chunk: int,
    progress: Callable[[int, int], None],
) -> dict | None:
    """Send the file from byte ``held`` on, in chunks, until the server has it all; None if the session died."""
    failures = 0
    with open(path, "rb") as handle:
        while True:
            if stop_requested.is_set():
                raise Stopped()
            progress(held, total)
            handle.seek(held)
            data = handle.read(chunk)
            try:
                now, video = api.upload_chunk(session, data, held, total)
            except TransientError:
                failures += 1
                if failures >= _MAX_FAILURES:
                    raise
                stop_requested.wait(api.backoff * 2 ** min(failures - 1, 5))
                now, video = api.upload_status(session, total)
            else:
                failures = 0 if now > held else failures + 1
            if video is not None:
                return video
            if now < 0:
                return None
            if failures >= _MAX_FAILURES:
                raise TransientError(f"the upload made no progress in {failures} tries; publish again to resume")
            held = now
