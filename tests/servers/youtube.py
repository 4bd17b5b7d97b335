"""A loopback YouTube Data API v3 (and its upload and token endpoints) over HTTPS, for protocol tests.

HTTPS with a throwaway certificate authority (trustme), because Google's clients insist on https
for upload URLs. It keeps real state: resumable sessions answer ``308`` with ``Range``, chunks must
be multiples of 256 KiB but the last, ``bytes */TOTAL`` reports progress or the finished video,
finished uploads appear in the channel's uploads playlist with their description, and access
tokens expire and are refreshed at ``/token``. Faults are scripted per point (``fail``): an HTTP
error, a dropped connection after the request was processed, or a block that holds the reply
until the test has killed the client.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import trustme

BLOCK = 256 * 1024
CHANNEL = "UCfakechannel"
UPLOADS = "UUfakechannel"
SCOPES = ["https://www.googleapis.com/auth/youtube.upload", "https://www.googleapis.com/auth/youtube.readonly",
          "https://www.googleapis.com/auth/youtube.force-ssl"]


@dataclass
class Fault:
    """At the ``nth`` request of ``point``: answer ``status``/``reason``, or "drop" or "block" after processing."""

    point: str
    nth: int = 1
    status: int = 0
    reason: str = ""
    action: str = "error"  # "error": instead of processing; "drop"/"block": after processing, no reply
    seen: int = 0


@dataclass
class Session:
    """One resumable upload."""

    resource: dict
    total: int
    data: bytearray = field(default_factory=bytearray)
    video: str | None = None
    expired: bool = False


class FakeYouTube:
    """The server and its state; ``url`` is the API root, ``ca_file`` the certificate authority to trust."""

    def __init__(self, folder: Path) -> None:
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, dict] = {}
        self.content: dict[str, bytes] = {}
        self.thumbnails: dict[str, bytes] = {}
        self.captions: dict[str, dict] = {}
        self.playlists: dict[str, list[dict]] = {UPLOADS: []}
        self.calls: Counter[str] = Counter()
        self.bytes_received = 0
        self.access: set[str] = set()
        self.refresh_tokens: dict[str, bool] = {}  # token -> still valid
        self.faults: list[Fault] = []
        self.unaudited = False  # an API project Google has not audited: every upload made private
        self.page_size = 50
        self.blocked = threading.Event()
        self.release = threading.Event()
        self.lock = threading.RLock()
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = folder / "fake-youtube-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeYouTube:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def login(self, refresh_token: str = "1//fake-refresh-token") -> dict:
        """A token file's contents for this server, as ``Credentials.to_json`` writes it (access token expired)."""
        self.refresh_tokens[refresh_token] = True
        return {
            "token": "ya29.expired-access-token", "refresh_token": refresh_token, "token_uri": f"{self.url}/token",
            "client_id": "fake-client.apps.googleusercontent.com", "client_secret": "fake-client-secret",
            "scopes": ["https://www.googleapis.com/auth/youtube.upload"], "expiry": "2000-01-01T00:00:00Z",
        }

    def fail(self, point: str, nth: int = 1, status: int = 0, reason: str = "", action: str = "error") -> None:
        """Script a fault at the ``nth`` request of ``point`` (counted from now)."""
        self.faults.append(Fault(point, nth, status, reason, action))

    def expire_sessions(self) -> None:
        """Every open upload session is gone from now on (404), as after YouTube's unstated lifetime."""
        with self.lock:
            for session in self.sessions.values():
                session.expired = True

    def uploaded(self) -> list[bytes]:
        """The bytes of every finished video, in upload order."""
        return [self.content[video] for video in self.videos]

    def _fault(self, point: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.point == point:
                    fault.seen += 1
                    if fault.seen == fault.nth:
                        self.faults.remove(fault)
                        return fault
        return None


def _error(status: int, reason: str, message: str = "") -> tuple[int, dict]:
    return status, {"error": {"code": status, "message": message or reason,
                              "errors": [{"reason": reason, "domain": "youtube", "message": message or reason}]}}


def _handler(fake: FakeYouTube) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _hang_up(self, fault: Fault) -> None:
            if fault.action == "block":
                fake.blocked.set()
                fake.release.wait(60)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def do_POST(self) -> None:
            self._route("POST")

        def do_PUT(self) -> None:
            self._route("PUT")

        def do_GET(self) -> None:
            self._route("GET")

        def _route(self, verb: str) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            body = self._body()
            if url.path == "/token":
                self._reply(*_token(fake, parse_qs(body.decode())))
                return
            point = _point(verb, url.path, query, self.headers)
            if point is None:
                self._reply(*_error(404, "notFound", f"no route {verb} {url.path}"))
                return
            if self.headers.get("Authorization", "").removeprefix("Bearer ") not in fake.access:
                self._reply(*_error(401, "authError", "Invalid Credentials"))
                return
            with fake.lock:
                fake.calls[point] += 1
            fault = fake._fault(point)
            if fault and fault.action == "error":
                self._reply(*_error(fault.status, fault.reason))
                return
            status, answer, headers = _serve(fake, point, verb, query, self.headers, body)
            if fault:
                self._hang_up(fault)
                return
            self._reply(status, answer, headers)

    return Handler


def _point(verb: str, path: str, query: dict, headers: Any) -> str | None:
    """Which API method (or upload step) a request is."""
    if path == "/upload/youtube/v3/videos":
        if "upload_id" in query:
            if verb == "PUT" and headers.get("Content-Range", "").startswith("bytes */"):
                return "upload.status"
            return "upload.chunk" if verb == "PUT" else None
        return "videos.insert" if verb == "POST" else None
    return {
        ("GET", "/youtube/v3/channels"): "channels.list",
        ("GET", "/youtube/v3/playlistItems"): "playlistItems.list",
        ("POST", "/youtube/v3/playlistItems"): "playlistItems.insert",
        ("GET", "/youtube/v3/videos"): "videos.list",
        ("PUT", "/youtube/v3/videos"): "videos.update",
        ("POST", "/upload/youtube/v3/thumbnails/set"): "thumbnails.set",
        ("GET", "/youtube/v3/captions"): "captions.list",
        ("POST", "/upload/youtube/v3/captions"): "captions.insert",
        ("PUT", "/upload/youtube/v3/captions"): "captions.update",
    }.get((verb, path))


def _token(fake: FakeYouTube, form: dict) -> tuple[int, dict]:
    if form.get("grant_type", [""])[0] == "authorization_code":
        if form.get("code", [""])[0] != "fake-code":
            return 400, {"error": "invalid_grant", "error_description": "Malformed auth code."}
        refresh = f"1//fake-refresh-{uuid.uuid4().hex}"
        fake.refresh_tokens[refresh] = True
        access = f"ya29.fake-access-{uuid.uuid4().hex}"
        fake.access.add(access)
        return 200, {"access_token": access, "refresh_token": refresh, "expires_in": 3599, "token_type": "Bearer",
                     "scope": form.get("scope", [""])[0] or " ".join(SCOPES)}
    refresh = form.get("refresh_token", [""])[0]
    if form.get("grant_type", [""])[0] != "refresh_token" or not fake.refresh_tokens.get(refresh):
        return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    access = f"ya29.fake-access-{uuid.uuid4().hex}"
    fake.access.add(access)
    return 200, {"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                 "scope": "https://www.googleapis.com/auth/youtube.upload"}


def _multipart(headers: Any, body: bytes) -> tuple[dict, bytes]:
    boundary = re.search(r"boundary=([^;]+)", headers.get("Content-Type", "")).group(1).strip('"').encode()
    parts = [p for p in body.split(b"--" + boundary) if p.strip() not in (b"", b"--")]
    meta = json.loads(parts[0].split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n"))
    media = parts[1].split(b"\r\n\r\n", 1)[1]
    return meta, media[:-2] if media.endswith(b"\r\n") else media


def _video(fake: FakeYouTube, session: Session) -> dict:
    video_id = f"vid{len(fake.videos) + 1:08d}"
    resource = json.loads(json.dumps(session.resource))
    if fake.unaudited:
        resource["status"]["privacyStatus"] = "private"
    video = {"kind": "youtube#video", "id": video_id, **resource}
    fake.videos[video_id] = video
    fake.content[video_id] = bytes(session.data)
    fake.playlists[UPLOADS].insert(0, {"id": f"pi-{video_id}", "snippet": {
        "playlistId": UPLOADS, "title": resource["snippet"]["title"],
        "description": resource["snippet"].get("description", ""),
        "resourceId": {"kind": "youtube#video", "videoId": video_id}}})
    session.video = video_id
    return video


def _serve(fake: FakeYouTube, point: str, verb: str, query: dict, headers: Any, body: bytes):
    with fake.lock:
        return _serve_locked(fake, point, verb, query, headers, body)


def _serve_locked(fake: FakeYouTube, point: str, verb: str, query: dict, headers: Any, body: bytes):
    if point == "videos.insert":
        resource = json.loads(body)
        if "selfDeclaredMadeForKids" not in resource.get("status", {}):
            return *_error(400, "invalidVideoMetadata", "selfDeclaredMadeForKids missing"), None
        if query.get("uploadType") != "resumable" or not headers.get("X-Upload-Content-Length"):
            return *_error(400, "badRequest", "resumable uploads need X-Upload-Content-Length"), None
        upload_id = uuid.uuid4().hex
        fake.sessions[upload_id] = Session(resource, int(headers["X-Upload-Content-Length"]))
        host = headers.get("Host")
        return 200, None, {"Location": f"https://{host}/upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"}
    if point in ("upload.status", "upload.chunk"):
        session = fake.sessions.get(query["upload_id"])
        if session is None or session.expired:
            return 404, {"error": {"code": 404, "message": "upload session not found"}}, None
        if point == "upload.chunk":
            match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", headers.get("Content-Range", ""))
            if not match or int(match[3]) != session.total or int(match[2]) - int(match[1]) + 1 != len(body):
                return *_error(400, "badContentRange", headers.get("Content-Range", "")), None
            first, last = int(match[1]), int(match[2])
            if last + 1 < session.total and len(body) % BLOCK:
                return *_error(400, "badChunkSize", "chunks must be multiples of 256 KiB"), None
            if first == len(session.data) and session.video is None:
                session.data += body
                fake.bytes_received += len(body)
        if session.video is not None:
            return 200, fake.videos[session.video], None
        if len(session.data) == session.total:
            return 200, _video(fake, session), None
        range_header = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        return 308, None, range_header
    if point == "channels.list":
        return 200, {"items": [{"id": CHANNEL, "contentDetails": {"relatedPlaylists": {"uploads": UPLOADS}}}]}, None
    if point == "playlistItems.list":
        items = fake.playlists.get(query.get("playlistId"), [])
        start = int(query.get("pageToken") or 0)
        page = {"items": items[start:start + fake.page_size]}
        if start + fake.page_size < len(items):
            page["nextPageToken"] = str(start + fake.page_size)
        return 200, page, None
    if point == "playlistItems.insert":
        snippet = json.loads(body)["snippet"]
        item = {"id": f"pi-{uuid.uuid4().hex[:8]}", "snippet": snippet}
        fake.playlists.setdefault(snippet["playlistId"], []).append(item)
        return 200, item, None
    if point == "videos.list":
        found = [fake.videos[v] for v in query.get("id", "").split(",") if v in fake.videos]
        return 200, {"items": found}, None
    if point == "videos.update":
        resource = json.loads(body)
        if resource.get("id") not in fake.videos:
            return *_error(404, "videoNotFound"), None
        fake.videos[resource["id"]].update({k: v for k, v in resource.items() if k != "id"})
        for item in fake.playlists[UPLOADS]:
            if item["snippet"]["resourceId"]["videoId"] == resource["id"]:
                item["snippet"]["description"] = resource["snippet"].get("description", "")
        return 200, fake.videos[resource["id"]], None
    if point == "thumbnails.set":
        if query.get("videoId") not in fake.videos:
            return *_error(404, "videoNotFound"), None
        fake.thumbnails[query["videoId"]] = body
        return 200, {"items": [{"default": {"url": "https://i.ytimg.com/fake.jpg"}}]}, None
    if point in ("captions.insert", "captions.update"):
        meta, media = _multipart(headers, body)
        if point == "captions.insert":
            caption_id = f"cap-{uuid.uuid4().hex[:8]}"
        else:
            caption_id = meta.get("id")
            if caption_id not in fake.captions:
                return *_error(404, "captionNotFound"), None
        fake.captions[caption_id] = {**meta["snippet"], "data": media}
        return 200, {"id": caption_id, "snippet": meta["snippet"]}, None
    if point == "captions.list":
        items = [{"id": c, "snippet": {k: v for k, v in s.items() if k != "data"}}
                 for c, s in fake.captions.items() if s["videoId"] == query.get("videoId")]
        return 200, {"items": items}, None
    return *_error(404, "notFound"), None
