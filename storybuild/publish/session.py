"""A signed-in API client for one channel: the token from ``auth``, the budget from ``quota``."""

from __future__ import annotations

from pathlib import Path

from .api import YouTubeApi
from .quota import Ledger
from .settings import YouTubeSettings

__all__ = ["open_api"]


def open_api(settings: YouTubeSettings, state_dir: Path) -> YouTubeApi:
    """An API client for ``settings.channel``, charging ``state_dir``'s ledger; fails if not logged in."""
    from . import auth

    creds = auth.load_credentials(settings.channel)

    def token(refresh: bool) -> str:
        if refresh:
            auth.refresh(creds, settings.channel)
        return auth.access_token(creds, settings.channel)

    return YouTubeApi(settings.api_endpoint, token, Ledger(state_dir, settings), backoff=settings.retry_seconds)
