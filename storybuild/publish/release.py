"""What a story's build folder says to publish: the video resource from metadata.json and settings.

Every value YouTube must not guess is sent explicitly: ``selfDeclaredMadeForKids`` always, the
category, license and language; a scheduled ``publish_at`` keeps the video private until then, as
YouTube requires.
"""

from __future__ import annotations

import json
from pathlib import Path

from .settings import YouTubeSettings

__all__ = ["video_resource"]

TITLE_LIMIT = 100


def _clean_title(title: str) -> str:
    # YouTube rejects '<' and '>' in titles, and more than 100 characters.
    return " ".join(title.replace("<", "").replace(">", "").split())[:TITLE_LIMIT]


def video_resource(
    metadata: Path, description: Path, settings: YouTubeSettings, language: str, *, title_suffix: str = "",
) -> dict:
    """The ``snippet`` and ``status`` to send, from the metadata stage's files and ``[youtube]``."""
    meta = json.loads(Path(metadata).read_text(encoding="utf-8"))
    language = settings.language or meta.get("language") or language
    snippet = {
        "title": _clean_title(f"{meta['title']}{title_suffix}"),
        "description": Path(description).read_text(encoding="utf-8").rstrip(),
        "tags": list(meta.get("tags", [])),
        "categoryId": str(settings.category),
        "defaultLanguage": language,
        "defaultAudioLanguage": language,
    }
    status = {
        "privacyStatus": "private" if settings.publish_at else settings.privacy,
        "selfDeclaredMadeForKids": settings.made_for_kids,
        "license": settings.license,
    }
    if settings.publish_at:
        status["publishAt"] = settings.publish_at.isoformat()
    return {"snippet": snippet, "status": status}
