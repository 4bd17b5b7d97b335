"""The API project's daily budget: units and uploads spent per Pacific day, kept in the state folder.

Google resets quota at midnight Pacific time, so the ledger's day is the Pacific date. Every call
is charged as it is made (under a file lock, since doit may run several publishes at once), and a
publish checks the whole of what it plans to spend before its first call: one that cannot fit
stops before uploading and says when the budget resets, instead of failing halfway.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ..errors import BackendError
from ..store.atomic import json_text, write_text
from .settings import YouTubeSettings

__all__ = ["Ledger", "QuotaExceeded", "pacific_day", "reset_time"]

PACIFIC = ZoneInfo("America/Los_Angeles")


class QuotaExceeded(BackendError):
    """The day's units or uploads are spent, here or as YouTube counts them."""


def pacific_day(now: datetime | None = None) -> str:
    """Today's date in Pacific time, the quota's day."""
    return (now or datetime.now(PACIFIC)).astimezone(PACIFIC).date().isoformat()


def reset_time(now: datetime | None = None) -> str:
    """When the quota next resets (midnight Pacific), in UTC and as a wait."""
    now = (now or datetime.now(PACIFIC)).astimezone(PACIFIC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    wait = midnight - now
    hours, rest = divmod(int(wait.total_seconds()), 3600)
    return f"{midnight.astimezone(ZoneInfo('UTC')):%Y-%m-%d %H:%M} UTC (in {hours} h {rest // 60:02d} min)"


class Ledger:
    """What this project spent today: ``<state>/youtube/quota.json``."""

    def __init__(self, state_dir: Path, settings: YouTubeSettings) -> None:
        self.path = Path(state_dir) / "youtube" / "quota.json"
        self.settings = settings

    @contextmanager
    def _locked(self) -> Iterator[dict]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            spent = self._read()
            yield spent
            write_text(self.path, json_text(spent))

    def _read(self) -> dict:
        today = pacific_day()
        try:
            spent = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            spent = {}
        if spent.get("day") != today:
            spent = {"day": today, "units": 0, "uploads": 0, "calls": {}}
        return spent

    def spent(self) -> dict:
        """Today's units, uploads and calls by method."""
        return self._read()

    def remaining(self) -> tuple[int, int]:
        """Units and uploads left today."""
        spent = self._read()
        return self.settings.daily_units - spent["units"], self.settings.uploads_per_day - spent["uploads"]

    def check(self, planned: dict[str, int], what: str) -> None:
        """Stop before ``what`` when ``planned`` calls (method -> count) do not fit today's budget."""
        units = sum(self.settings.cost(method) * count for method, count in planned.items())
        uploads = planned.get("videos.insert", 0) if self.settings.upload_quota == "uploads" else 0
        left_units, left_uploads = self.remaining()
        if units > left_units or uploads > left_uploads:
            need = f"{units} units" + (f" and {uploads} upload(s)" if uploads else "")
            have = f"{max(left_units, 0)} units and {max(left_uploads, 0)} upload(s)"
            raise QuotaExceeded(
                f"{what} needs {need} of YouTube quota; {have} are left today (youtube.daily_units = "
                f"{self.settings.daily_units}, uploads_per_day = {self.settings.uploads_per_day}); "
                f"the quota resets at {reset_time()}"
            )

    def charge(self, method: str) -> None:
        """Count one call of ``method`` against today."""
        with self._locked() as spent:
            spent["units"] += self.settings.cost(method)
            if method == "videos.insert":
                spent["uploads"] += 1
            spent["calls"][method] = spent["calls"].get(method, 0) + 1

    def exhausted(self, upload: bool) -> None:
        """YouTube said the budget is spent: believe it for the rest of the day."""
        with self._locked() as spent:
            if upload:
                spent["uploads"] = max(spent["uploads"], self.settings.uploads_per_day)
            else:
                spent["units"] = max(spent["units"], self.settings.daily_units)


