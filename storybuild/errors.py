"""Every error storybuild raises on purpose.

Low-level failures (OSError, subprocess, ffmpeg, libespeak-ng, HTTP) are caught at the boundary
where they happen and re-raised as the most specific class below, ``from`` the original, so the
user reads what went wrong in storybuild's words and a developer still has the cause.

    StorybuildError
    ├── StoryError            a story.txt that does not parse (file:line:col: message)
    ├── ConfigError           a storybuild.toml / story.toml / environment value that is wrong
    ├── BackendError          a backend could not produce its artifact
    │   └── BackendUnavailable  the backend's library, binary or server is missing
    ├── MediaError            ffmpeg, decoding, encoding or probing failed
    │   └── VerificationError a finished file does not have the streams/timing it must have
    └── CacheError            the artifact cache is unreadable or unwritable
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BackendError",
    "BackendUnavailable",
    "CacheError",
    "ConfigError",
    "MediaError",
    "StoryError",
    "StorybuildError",
    "VerificationError",
]


class StorybuildError(Exception):
    """Base of every error storybuild raises on purpose."""


class StoryError(StorybuildError):
    """A story file that does not parse; the message starts with ``file:line:col:``."""

    def __init__(self, path: Path | str, line: int, column: int, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"{path}:{line}:{column}: {message}")


class ConfigError(StorybuildError):
    """A settings file or environment variable holds a value storybuild cannot use."""


class BackendError(StorybuildError):
    """A backend failed to produce its artifact."""


class BackendUnavailable(BackendError):
    """A backend's library, binary or server is not there."""


class MediaError(StorybuildError):
    """Encoding, decoding, mixing or probing media failed."""


class VerificationError(MediaError):
    """A finished artifact does not meet its specification (streams, size, timing)."""


class CacheError(StorybuildError):
    """The artifact cache could not be read or written."""
