"""Finding and running the ffmpeg binary.

There may be no system ffmpeg, so the one imageio-ffmpeg ships is the fallback; one on PATH wins
because a user who installed their own usually did so on purpose (hardware encoders, newer x264).
Commands are argument lists, never shell strings, and ffmpeg's log is only ever shown to people:
data comes from probing the files it writes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from ..errors import BackendUnavailable, MediaError

__all__ = ["ffmpeg_exe", "has_libass", "run_ffmpeg"]

# Enough of stderr to show the cause; ffmpeg prints the real error last.
_STDERR_LINES = 12


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The ffmpeg binary to run: ``ffmpeg`` on PATH if there is one, else imageio-ffmpeg's."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise BackendUnavailable(
            "no ffmpeg: none on PATH and imageio-ffmpeg has no binary for this platform; "
            "install ffmpeg or imageio-ffmpeg"
        ) from exc


def run_ffmpeg(args: Sequence[str | os.PathLike[str]], what: str, *, cwd: Path | None = None) -> None:
    """Run ffmpeg quietly with ``args``; MediaError naming ``what`` with stderr's tail if it fails.

    ``cwd`` exists for filters such as ``subtitles`` whose file argument is parsed by the filter
    graph: running beside a plainly named file avoids escaping arbitrary paths twice.
    """
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *map(str, args)]
    try:
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd
        )
    except OSError as exc:
        raise BackendUnavailable(f"{what}: cannot run ffmpeg at {command[0]}: {exc}") from exc
    if done.returncode != 0:
        text = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        tail = "\n".join(text[-_STDERR_LINES:]) or "(no message)"
        error = subprocess.CalledProcessError(done.returncode, command, stderr=done.stderr)
        raise MediaError(f"{what} failed (ffmpeg exit {done.returncode}):\n{tail}") from error


@lru_cache(maxsize=1)
def has_libass() -> bool:
    """Whether this ffmpeg can burn subtitles with the ``subtitles`` (libass) filter.

    Tried on a one-frame graph rather than read from ``-filters``: a listed filter can still fail
    to initialise, and listing output is not an interface.
    """
    with tempfile.TemporaryDirectory(prefix="storybuild-libass-") as tmp:
        Path(tmp, "probe.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nx\n", encoding="utf-8")
        try:
            run_ffmpeg(
                ["-f", "lavfi", "-i", "color=size=64x64:duration=0.1", "-vf", "subtitles=probe.srt",
                 "-f", "null", "-"],
                "libass probe",
                cwd=Path(tmp),
            )
        except MediaError:
            return False
    return True
