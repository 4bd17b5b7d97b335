"""The same clip is the same bytes whether ffmpeg may use one core or two.

x264's default thread count follows the cores a process may use, and its output follows the
thread count; storybuild fixes the count (media/encoding.py). Each encode runs in its own
process under ``taskset``, as a build on another machine would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from components import missing

from . import make_png

pytestmark = pytest.mark.usefixtures("each_ffmpeg")

MAKE_CLIP = """
import sys
from pathlib import Path
from storybuild.backends.animate import ClipRequest
from storybuild.backends.animate.kenburns import KenBurnsAnimate
still, out = Path(sys.argv[1]), Path(sys.argv[2])
request = ClipRequest(image=still, frames=36, fps=24, width=640, height=360, motion="determinism", keyframes=[12])
KenBurnsAnimate().animate(request, out)
"""


def cores() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def encode_on(cpus: list[int], still: Path, out: Path) -> bytes:
    command = ["taskset", "-c", ",".join(map(str, cpus)), sys.executable, "-c", MAKE_CLIP, str(still), str(out)]
    subprocess.run(command, check=True, timeout=300, env=os.environ.copy())
    return out.read_bytes()


def test_clip_bytes_do_not_depend_on_the_cores(tmp_path: Path) -> None:
    if shutil.which("taskset") is None or len(cores()) < 2:
        missing("no taskset or fewer than 2 cores to compare one core with two", "apt-get install util-linux")
    still = make_png(tmp_path / "still.png", size=(640, 360))
    one = encode_on(cores()[:1], still, tmp_path / "one.mp4")
    two = encode_on(cores()[:2], still, tmp_path / "two.mp4")
    assert len(one) > 1000
    assert one == two
