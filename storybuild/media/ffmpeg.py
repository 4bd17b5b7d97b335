"""Choosing, identifying and running the ffmpeg binary.

The default is the binary the imageio-ffmpeg wheel ships ("bundled"): every machine with the same
install then makes the same bytes, which a content-addressed cache relies on. A user can choose
the ffmpeg on PATH ("system": hardware encoders, a newer x264) or any absolute path, with
``use_ffmpeg`` (the ``video.ffmpeg`` setting) or the ``STORYBUILD_FFMPEG`` environment variable,
which wins like every variable over storybuild.toml. ``ffmpeg_identity`` names the chosen build,
so artifacts made by one ffmpeg are never reused for another.

Commands are argument lists, never shell strings, and ffmpeg's log is only ever shown to people:
data comes from probing the files it writes. Every run has a timeout scaled to its work
(``work_timeout``) and is killed with its process group on timeout or stop (``process.py``).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from ..errors import BackendUnavailable, ConfigError, MediaError
from .process import run_supervised

__all__ = [
    "ENVIRONMENT",
    "ffmpeg_exe",
    "ffmpeg_identity",
    "has_libass",
    "run_ffmpeg",
    "use_ffmpeg",
    "work_timeout",
]

#: The environment variable that picks the ffmpeg, over the setting: "bundled", "system" or a path.
ENVIRONMENT = "STORYBUILD_FFMPEG"

# Enough of stderr to show the cause; ffmpeg prints the real error last.
_STDERR_LINES = 12

# Timeouts: a floor for start-up on a loaded machine, plus the work. One megapixel-frame (scale,
# zoompan, x264 veryfast, one thread) took ~0.012 s on one core here; allowing 0.3 s is ~25x
# headroom for a machine shared by many builds, while a hung encode is still killed.
_FLOOR_SECONDS = 120.0
_SECONDS_PER_MEGAPIXEL_FRAME = 0.3
# AAC encoding and audio filters run ~12x real time; 1 s per second of audio is ample.
_SECONDS_PER_AUDIO_SECOND = 1.0

_choice = "bundled"


def _check_choice(choice: str, source: str) -> str:
    if choice in ("bundled", "system") or os.path.isabs(choice):
        return choice
    raise ConfigError(
        f"{source} = {choice!r}: use \"bundled\" (the ffmpeg pip installed), \"system\" (ffmpeg on PATH) "
        "or an absolute path to an ffmpeg binary"
    )


def use_ffmpeg(choice: str) -> None:
    """Pick the ffmpeg for this process: "bundled" (default), "system" (on PATH) or an absolute path."""
    global _choice
    _choice = _check_choice(choice, "video.ffmpeg")


def _current_choice() -> str:
    from_environment = os.environ.get(ENVIRONMENT, "").strip()
    return _check_choice(from_environment, ENVIRONMENT) if from_environment else _choice


def _bundled() -> str:
    # The wheel's own binary, looked up directly: imageio_ffmpeg.get_ffmpeg_exe() would fall
    # back to IMAGEIO_FFMPEG_EXE or the system ffmpeg, which is not what "bundled" promises.
    try:
        folder = importlib.resources.files("imageio_ffmpeg.binaries")
        found = sorted(p.name for p in folder.iterdir() if p.name.startswith("ffmpeg"))
    except (ImportError, OSError) as exc:
        raise BackendUnavailable(
            "no bundled ffmpeg: imageio-ffmpeg is not installed; pip install imageio-ffmpeg, "
            'or set video.ffmpeg = "system"'
        ) from exc
    if not found:
        raise BackendUnavailable(
            "imageio-ffmpeg has no ffmpeg binary for this platform; install ffmpeg and set "
            'video.ffmpeg = "system"'
        )
    return str(Path(str(folder)) / found[0])


def ffmpeg_exe() -> str:
    """The ffmpeg binary of the current choice; BackendUnavailable if it is not there."""
    choice = _current_choice()
    if choice == "bundled":
        return _bundled()
    if choice == "system":
        found = shutil.which("ffmpeg")
        if found is None:
            raise BackendUnavailable(
                'video.ffmpeg = "system" but there is no ffmpeg on PATH; install one '
                '(apt-get install ffmpeg) or use "bundled"'
            )
        return found
    if not os.access(choice, os.X_OK) or not os.path.isfile(choice):
        raise BackendUnavailable(f"video.ffmpeg = {choice!r}: no executable file there")
    return choice


def work_timeout(frames: int = 0, width: int = 0, height: int = 0, audio_seconds: float = 0.0) -> float:
    """Seconds an ffmpeg run handling this much media may take before it counts as hung."""
    megapixel_frames = frames * width * height / 1e6
    return (
        _FLOOR_SECONDS + megapixel_frames * _SECONDS_PER_MEGAPIXEL_FRAME
        + audio_seconds * _SECONDS_PER_AUDIO_SECOND
    )  # fmt: skip


def _run(
    exe: str, args: Sequence[str | os.PathLike[str]], what: str, cwd: Path | None, timeout: float
) -> subprocess.CompletedProcess[bytes]:
    command = [exe, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *map(str, args)]
    try:
        return run_supervised(command, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(
            f"{what}: ffmpeg ({exe}) gave no result within {timeout:.0f} s and was killed; "
            "the machine may be overloaded, or this ffmpeg hangs on this input"
        ) from exc
    except OSError as exc:
        raise BackendUnavailable(f"{what}: cannot run ffmpeg at {exe}: {exc}") from exc


def run_ffmpeg(
    args: Sequence[str | os.PathLike[str]],
    what: str,
    *,
    cwd: Path | None = None,
    timeout: float = _FLOOR_SECONDS,
) -> None:
    """Run ffmpeg quietly with ``args``; MediaError naming ``what`` with stderr's tail if it fails.

    ``timeout`` should come from ``work_timeout`` for anything longer than a few frames.
    ``cwd`` exists for filters such as ``subtitles`` whose file argument is parsed by the filter
    graph: running beside a plainly named file avoids escaping arbitrary paths twice.
    """
    done = _run(ffmpeg_exe(), args, what, cwd, timeout)
    if done.returncode != 0:
        text = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        tail = "\n".join(text[-_STDERR_LINES:]) or "(no message)"
        error = subprocess.CalledProcessError(done.returncode, done.args, stderr=done.stderr)
        raise MediaError(f"{what} failed (ffmpeg exit {done.returncode}):\n{tail}") from error


def ffmpeg_identity() -> str:
    """A short, stable name of the chosen ffmpeg's build, for cache keys of what it encodes.

    Version, the x264 it links and a digest of ``-version`` (configuration, library versions):
    two builds that could write different bytes for the same command get different names.
    """
    return _identity(ffmpeg_exe())


@lru_cache(maxsize=8)
def _identity(exe: str) -> str:
    version = _run(exe, ["-version"], "asking ffmpeg its version", None, _FLOOR_SECONDS)
    if version.returncode != 0 or not version.stdout.startswith(b"ffmpeg version "):
        raise BackendUnavailable(f"{exe} does not answer -version like ffmpeg; is it ffmpeg?")
    name = version.stdout.split(b"\n", 1)[0].split()[2].decode("utf-8", errors="replace")
    one_frame = _run(
        exe, ["-f", "lavfi", "-i", "color=size=64x64:duration=0.04", "-frames:v", "1", "-c:v", "libx264",
              "-f", "h264", "-"],
        "asking ffmpeg for its x264", None, _FLOOR_SECONDS,
    )  # fmt: skip
    # x264 writes its build into every stream's first SEI: "x264 - core 164 r3095 baee400 - H.264...".
    banner = re.search(rb"x264 - (core [ -~]{1,40}?) - H\.264", one_frame.stdout)
    x264 = banner.group(1) if banner else b"none"
    digest = hashlib.sha256(version.stdout + b"\0" + x264).hexdigest()[:12]
    return f"ffmpeg {name}; x264 {x264.decode()}; build {digest}"


def has_libass() -> bool:
    """Whether this ffmpeg can burn subtitles with the ``subtitles`` (libass) filter.

    Tried on a one-frame graph rather than read from ``-filters``: a listed filter can still fail
    to initialise, and listing output is not an interface.
    """
    return _has_libass(ffmpeg_exe())


@lru_cache(maxsize=8)
def _has_libass(exe: str) -> bool:
    with tempfile.TemporaryDirectory(prefix="storybuild-libass-") as tmp:
        Path(tmp, "probe.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nx\n", encoding="utf-8")
        done = _run(
            exe, ["-f", "lavfi", "-i", "color=size=64x64:duration=0.1", "-vf", "subtitles=probe.srt",
                  "-f", "null", "-"],
            "libass probe", Path(tmp), _FLOOR_SECONDS,
        )  # fmt: skip
    return done.returncode == 0
