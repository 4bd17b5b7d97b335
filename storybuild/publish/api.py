"""The YouTube Data API v3 over HTTP: the calls a publisher makes, their errors in storybuild's words.

Spoken directly with httpx rather than through googleapiclient, because the resumable upload must
be resumed from a session URI saved by an earlier process, which googleapiclient cannot do
(``HttpRequest.from_json`` drops it), and one transport for every call keeps one error mapping.
The access token comes from a callable (``auth.access_token``): a 401 refreshes it once. 5xx, 429
and lost connections are retried with exponential backoff; ``quotaExceeded`` and
``uploadLimitExceeded`` fail at once as ``QuotaExceeded``. Every call sent is charged to the
ledger, since Google charges failed calls too.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from ..errors import BackendError, TransientError
from ..stopping import Stopped, stop_requested
from .quota import Ledger, QuotaExceeded

__all__ = ["YouTubeApi"]

Token = Callable[[bool], str]
_QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
_RATE_LIMITS = {"rateLimitExceeded", "userRateLimitExceeded"}  # a pace, not the day's budget: retried
_UPLOAD_LIMIT = {"uploadLimitExceeded"}


def _error_reason(response: httpx.Response) -> tuple[str, str]:
    """The ``reason`` and ``message`` of a Google API error body ("" when it has none)."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return "", response.text[:200]
    if not isinstance(error, dict):
        return str(error), ""
    reasons = [item.get("reason", "") for item in error.get("errors", []) if isinstance(item, dict)]
    return (reasons[0] if reasons else error.get("status", "")), str(error.get("message", ""))


class YouTubeApi:
    """One channel's view of the Data API at ``endpoint`` (``https://www.googleapis.com`` in production)."""

    def __init__(
        self, endpoint: str, token: Token, ledger: Ledger, *, http: httpx.Client | None = None,
        attempts: int = 6, backoff: float = 1.0,
    ) -> None:
        self.root = endpoint.rstrip("/")
        self._token = token
        self.ledger = ledger
        self.http = http or httpx.Client(timeout=httpx.Timeout(60.0, connect=15.0))
        self.attempts, self.backoff = attempts, backoff

    def send(
        self, method: str, verb: str, url: str, *, expect: tuple[int, ...] = (200,), charge: bool = True,
        retry: bool = True, headers: dict[str, str] | None = None, **kwargs: Any,
    ) -> httpx.Response:
        """Send one request of API ``method``; retry what may pass, map what will not."""
        url = url if url.startswith("http") else f"{self.root}{url}"
        tries, attempt, refreshed = (self.attempts if retry else 1), 0, False
        while True:
            if stop_requested.is_set():
                raise Stopped()
            sent = {**(headers or {}), "Authorization": f"Bearer {self._token(False)}"}
            if charge:
                self.ledger.charge(method)
            try:
                response = self.http.request(verb, url, headers=sent, **kwargs)
            except httpx.TransportError as exc:
                failure: Exception = TransientError(f"{method}: connection to YouTube failed ({type(exc).__name__})")
                failure.__cause__ = exc
            else:
                if response.status_code in expect:
                    return response
                if response.status_code == 401 and not refreshed:
                    self._token(True)
                    refreshed = True
                    continue
                failure = self._failure(method, response)
                if not isinstance(failure, TransientError):
                    raise failure
            attempt += 1
            if attempt >= tries:
                raise failure
            stop_requested.wait(self.backoff * 2 ** (attempt - 1))

    def _failure(self, method: str, response: httpx.Response) -> Exception:
        status = response.status_code
        reason, message = _error_reason(response)
        if reason in _UPLOAD_LIMIT:
            self.ledger.exhausted(upload=True)
            return QuotaExceeded(f"{method}: YouTube's upload limit for today is reached ({reason}): {message}")
        if reason in _QUOTA_REASONS and status in (403, 429):
            self.ledger.exhausted(upload=False)
            return QuotaExceeded(f"{method}: the API project's quota for today is spent ({reason}): {message}")
        if status >= 500 or status == 429 or reason in _RATE_LIMITS:
            return TransientError(f"{method}: YouTube answered {status} {reason} {message}".rstrip())
        if status == 401:
            return BackendError(f"{method}: YouTube refused the login (401); run `storybuild youtube login`")
        return BackendError(f"{method}: YouTube answered {status} {reason}: {message}")

    # The calls a publisher makes.

    def start_upload(self, resource: dict, size: int, mime: str = "video/mp4") -> str:
        """Open a resumable upload session for ``resource``; its URI."""
        response = self.send(
            "videos.insert", "POST", "/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": ",".join(sorted(resource))},
            json=resource, headers={"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": mime},
        )
        location = response.headers.get("Location", "")
        if not location:
            raise BackendError("videos.insert: YouTube opened no upload session (no Location header)")
        return location

    def upload_status(self, session: str, total: int) -> tuple[int, dict | None]:
        """Bytes the session holds, or the finished video; -1 when the session is gone."""
        response = self.send(
            "upload.status", "PUT", session, expect=(200, 201, 308, 404, 410), charge=False,
            headers={"Content-Range": f"bytes */{total}", "Content-Length": "0"},
        )
        return self._upload_answer(response, total)

    def upload_chunk(self, session: str, data: bytes, first: int, total: int) -> tuple[int, dict | None]:
        """Send bytes ``first``.. of the file; what the session holds after, or the finished video."""
        response = self.send(
            "upload.chunk", "PUT", session, expect=(200, 201, 308, 404, 410), charge=False, retry=False,
            content=data, headers={"Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}"},
        )
        return self._upload_answer(response, total)

    @staticmethod
    def _upload_answer(response: httpx.Response, total: int) -> tuple[int, dict | None]:
        if response.status_code in (404, 410):
            return -1, None
        if response.status_code in (200, 201):
            return total, response.json()
        held = response.headers.get("Range", "")
        return (int(held.rpartition("-")[2]) + 1 if held else 0), None

    def uploads_playlist(self) -> str:
        """The id of the channel's uploads playlist."""
        items = self.send(
            "channels.list", "GET", "/youtube/v3/channels", params={"part": "contentDetails", "mine": "true"},
        ).json().get("items", [])
        if not items:
            raise BackendError("channels.list: this login has no YouTube channel")
        return items[0]["contentDetails"]["relatedPlaylists"]["uploads"]

    def find_upload(self, marker: str) -> str | None:
        """The id of this channel's upload whose description holds ``marker``, paging at 1 unit a page."""
        playlist, token = self.uploads_playlist(), None
        while True:
            params = {"part": "snippet", "playlistId": playlist, "maxResults": "50"}
            if token:
                params["pageToken"] = token
            page = self.send("playlistItems.list", "GET", "/youtube/v3/playlistItems", params=params).json()
            for item in page.get("items", []):
                snippet = item.get("snippet", {})
                if marker in snippet.get("description", ""):
                    return snippet.get("resourceId", {}).get("videoId")
            token = page.get("nextPageToken")
            if not token:
                return None

    def update_video(self, video_id: str, resource: dict) -> dict:
        """Replace the video's snippet and status (videos.update)."""
        return self.send(
            "videos.update", "PUT", "/youtube/v3/videos", params={"part": ",".join(sorted(resource))},
            json={"id": video_id, **resource},
        ).json()

    def set_thumbnail(self, video_id: str, image: bytes, mime: str = "image/png") -> None:
        """Upload the video's custom thumbnail (thumbnails.set)."""
        self.send(
            "thumbnails.set", "POST", "/upload/youtube/v3/thumbnails/set",
            params={"videoId": video_id, "uploadType": "media"}, content=image, headers={"Content-Type": mime},
        )

    def put_captions(self, video_id: str, caption_id: str | None, language: str, name: str, srt: bytes) -> str:
        """Insert a caption track, or update ``caption_id``'s; the track's id."""
        snippet = {"videoId": video_id, "language": language, "name": name}
        meta: dict[str, Any] = {"snippet": snippet} if caption_id is None else {"id": caption_id, "snippet": snippet}
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{json.dumps(meta)}\r\n"
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n"
        ).encode() + srt + f"\r\n--{boundary}--\r\n".encode()
        method, verb = ("captions.insert", "POST") if caption_id is None else ("captions.update", "PUT")
        return self.send(
            method, verb, "/upload/youtube/v3/captions", params={"part": "snippet", "uploadType": "multipart"},
            content=body, headers={"Content-Type": f"multipart/related; boundary={boundary}"},
        ).json()["id"]

    def add_to_playlist(self, playlist: str, video_id: str) -> str:
        """Add the video to ``playlist``; the playlist item's id."""
        return self.send(
            "playlistItems.insert", "POST", "/youtube/v3/playlistItems", params={"part": "snippet"},
            json={"snippet": {"playlistId": playlist, "resourceId": {"kind": "youtube#video", "videoId": video_id}}},
        ).json()["id"]
