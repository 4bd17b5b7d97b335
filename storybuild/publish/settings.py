"""The ``[youtube]`` settings: how a story is published."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
    costs: dict[str, int] = Field(
        default_factory=lambda: {
            "videos.insert": 1600, "videos.update": 50, "videos.list": 1, "thumbnails.set": 50,
            "captions.insert": 400, "captions.update": 450, "captions.list": 50,
            "playlistItems.insert": 50, "playlistItems.list": 1, "channels.list": 1,
        }
    )
