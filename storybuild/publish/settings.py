"""The ``[youtube]`` settings: how a story is published."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Google's documented costs (late 2026); ``costs`` in storybuild.toml overrides any of them.
DEFAULT_COSTS = {
    "videos.insert": 1600, "videos.update": 50, "videos.list": 1, "thumbnails.set": 50,
    "captions.insert": 400, "captions.update": 450, "captions.list": 50,
    "playlistItems.insert": 50, "playlistItems.list": 1, "channels.list": 1,
}


class YouTubeSettings(BaseModel):
    """What ``doit publish`` sends, and the quota it may spend."""

    model_config = ConfigDict(extra="forbid")

    privacy: Literal["private", "unlisted", "public"] = "private"
    publish_at: datetime | None = Field(None, description="scheduled publication (the video stays private until then)")
    category: int = Field(24, description="24 Entertainment, 22 People & Blogs, 1 Film & Animation")
    made_for_kids: bool = Field(False, description="always sent: leaving it out leaves uploads stuck")
    license: Literal["youtube", "creativeCommon"] = "youtube"
    language: str | None = Field(None, description="default: the story's language: header")
    playlist: str | None = Field(None, description="a playlist id to add the video to")
    shorts: bool = Field(False, description="also publish the vertical Shorts")
    on_video_change: Literal["refuse", "new"] = Field(
        "refuse", description="final.mp4 changed after publishing: refuse, or upload a new video"
    )
    daily_units: int = Field(10_000, ge=0, description="the API project's daily quota")
    upload_quota: Literal["units", "uploads"] = Field(
        "uploads", description="videos.insert costs 1,600 units (older model) or uses a budget of uploads a day"
    )
    uploads_per_day: int = Field(100, ge=0)
    costs: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_COSTS))
    channel: str = Field("default", description="which stored login (`storybuild youtube login --channel`) uploads")
    client_secrets: Path | None = Field(None, description="OAuth client file; else STORYBUILD_YOUTUBE_CLIENT_SECRETS")
    api_endpoint: str = Field("https://www.googleapis.com", description="the Data API's root (upload URLs live under it)")
    retry_seconds: float = Field(1.0, ge=0, le=60, description="first wait before retrying a 5xx or lost connection; doubles")
    chunk_kib: int = Field(10240, ge=256, description="upload chunk size; a multiple of 256 KiB, as the protocol needs")
    shorts_count: int = Field(5, ge=0, le=20, description="how many Shorts `doit shorts` cuts at most")
    shorts_seconds: float = Field(60.0, gt=5, le=60, description="longest Short")

    @field_validator("chunk_kib")
    @classmethod
    def _whole_blocks(cls, value: int) -> int:
        if value % 256:
            raise ValueError(f"must be a multiple of 256 (the resumable protocol's block), not {value}")
        return value

    @field_validator("costs")
    @classmethod
    def _known_costs(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(DEFAULT_COSTS))
        if unknown:
            raise ValueError(f"unknown API method(s) {', '.join(unknown)}; known: {', '.join(sorted(DEFAULT_COSTS))}")
        return {**DEFAULT_COSTS, **value}

    def cost(self, method: str) -> int:
        """Units ``method`` spends (videos.insert: none when uploads have their own budget)."""
        if method == "videos.insert" and self.upload_quota == "uploads":
            return 0
        return self.costs.get(method, 1)
