"""Every error storybuild raises on purpose.

Low-level failures (OSError, subprocess, ffmpeg, libespeak-ng, HTTP) are caught at the boundary
where they happen and re-raised as the most specific class below, ``from`` the original, so the
user reads what went wrong in storybuild's words and a developer still has the cause. Errors carry
where they happened as fields (stage, story, item, file, line, service), so the progress display,
``storybuild check`` and the API can each present them their own way.

    StorybuildError
    ├── StoryError              a story.txt that does not parse (file:line:col: message)
    ├── ConfigError             a storybuild.toml / story.toml / environment value that is wrong
    ├── BackendError            a backend could not produce its artifact (permanent: do not retry)
    │   ├── BackendUnavailable  the backend's library, binary or server is missing
    │   ├── TransientError      connection lost, 5xx, timeout: the same request may succeed later
    │   └── BadTake             the output failed its check (blank picture, silent line): a new
    │                           seed may do better
    ├── MediaError              ffmpeg, decoding, encoding or probing failed
    │   └── VerificationError   a finished file does not have the streams/timing it must have
    └── CacheError              the artifact cache is unreadable or unwritable
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BackendError",
    "BackendUnavailable",
    "BadTake",
    "CacheError",
    "ConfigError",
    "MediaError",
    "StoryError",
    "StorybuildError",
    "TransientError",
    "VerificationError",
]


class StorybuildError(Exception):
    """Base of every error storybuild raises on purpose.

    ``where`` fields are optional context: ``stage``, ``story``, ``item``, ``file``, ``line``,
    ``service`` (a server URL). ``str(error)`` is the message alone; ``located()`` prefixes what
    is known of where.
    """

    def __init__(
        self,
        message: str = "",
        *,
        stage: str | None = None,
        story: str | None = None,
        item: str | None = None,
        file: str | Path | None = None,
        line: int | None = None,
        service: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.stage, self.story, self.item = stage, story, item
        self.file = str(file) if file is not None else None
        self.line, self.service = line, service

    def located(self) -> str:
        """The message with the stage, story and item it concerns, when known."""
        where = " ".join(part for part in (self.stage, self.item or self.story) if part)
        return f"{where}: {self}" if where else str(self)


class StoryError(StorybuildError):
    """A story file that does not parse; the message starts with ``file:line:col:``."""

    def __init__(self, path: Path | str, line: int, column: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}", file=path, line=line)
        self.path = Path(path)
        self.column = column
        self.message = message


class ConfigError(StorybuildError):
    """A settings file or environment variable holds a value storybuild cannot use."""


class BackendError(StorybuildError):
    """A backend failed to produce its artifact, and trying the same request again will not help."""


class BackendUnavailable(BackendError):
    """A backend's library, binary or server is not there."""


class TransientError(BackendError):
    """A failure that may pass: connection lost, HTTP 5xx, a timeout. Retried, with a bound."""


class BadTake(BackendError):
    """The backend answered, but its output failed the check (blank, silent, too short).

    A retry with a new seed may succeed; after the configured number of takes it is a failure.
    """


class MediaError(StorybuildError):
    """Encoding, decoding, mixing or probing media failed."""


class VerificationError(MediaError):
    """A finished artifact does not meet its specification (streams, size, timing)."""


class CacheError(StorybuildError):
    """The artifact cache could not be read or written."""
