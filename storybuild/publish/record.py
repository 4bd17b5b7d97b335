"""What was published (``youtube.json``) and what is being uploaded (the durable upload state).

``build/<story>/youtube.json`` is the record: the video's id and URL, the resource sent, and the
digests of the file, thumbnail and captions it was made from, so a later publish sends only what
changed. A video replaced by a new upload (``on_video_change = "new"``) stays listed under
``previous``.

The upload state, ``<state_dir>/youtube/uploads/<item>.json``, holds the content key and the
resumable session URI from before the first byte is sent until youtube.json records the video,
so a publish killed at any point resumes that session, or finds the finished video, instead of
uploading again. Both are written atomically (temp file, then rename).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import StorybuildError
from ..store.atomic import json_text, write_text

__all__ = ["MARKER", "marker", "read_json", "state_path", "video_url", "write_json"]

#: Stamped in every uploaded video's description: how a rerun finds the video an earlier one made.
MARKER = "storybuild-content:"


def marker(content: str) -> str:
    """The description footer naming the content key of the uploaded file."""
    return f"{MARKER}{content}"


def video_url(video_id: str) -> str:
    """The watch URL of ``video_id``."""
    return f"https://www.youtube.com/watch?v={video_id}"


def state_path(state_dir: Path, item: str) -> Path:
    """The upload state file of ``item`` ("story" or "story/short-01")."""
    return Path(state_dir) / "youtube" / "uploads" / f"{item}.json"


def read_json(path: Path) -> dict[str, Any]:
    """A record or state file; {} when there is none."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise StorybuildError(f"{path} is unreadable ({exc}); it records a published video, so it is not "
                              "replaced: fix or remove it by hand", file=path) from exc
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write a record or state file atomically."""
    write_text(path, json_text(data))
