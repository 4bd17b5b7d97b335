"""What deterministic x264 costs: Ken Burns 720p real-time factor per x264 thread count, per ffmpeg.

"auto" is x264's own choice (1.5 threads per core it may use), whose bytes change with the
machine; a fixed count gives the same bytes on any core count. For each setting it prints the
best of ``--repeats`` runs as video seconds made per wall second, the CPU seconds per video
second, and whether the clip made under ``taskset -c 0`` is byte-identical to the one made on
every core. Asserts nothing. Run: .venv/bin/python bench/ffmpeg_determinism.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from storybuild.media import encoding
from storybuild.media.ffmpeg import ENVIRONMENT, ffmpeg_identity

sys.path.insert(0, str(Path(__file__).resolve().parent))
from video_speed import illustration  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
FPS = 24

# One encode in a child process, so taskset can confine it and its CPU time is measurable.
ENCODE = """
import sys
from pathlib import Path
from storybuild.backends.animate import ClipRequest
from storybuild.backends.animate.kenburns import KenBurnsAnimate
from storybuild.media import encoding
encoding.X264_THREADS = int(sys.argv[3])
request = ClipRequest(image=Path(sys.argv[1]), frames=int(sys.argv[4]), fps=24, width=1280, height=720,
                      motion="bench", keyframes=[12])
KenBurnsAnimate().animate(request, Path(sys.argv[2]))
"""


def encode(still: Path, out: Path, threads: int, frames: int, cpus: str | None) -> tuple[float, float]:
    """Wall and CPU seconds of one encode, confined to ``cpus`` when given."""
    command = [sys.executable, "-c", ENCODE, str(still), str(out), str(threads), str(frames)]
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, env=os.environ.copy())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the clip")
    parser.add_argument("--repeats", type=int, default=2, help="runs per setting; the best is kept")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    still = illustration(OUT / "still.png", (1920, 1080))
    frames = round(args.seconds * FPS)
    cores = sorted(os.sched_getaffinity(0))
    choices = ["bundled"] + (["system"] if shutil.which("ffmpeg") else [])
    print(f"cores: {len(cores)}  load: {os.getloadavg()[0]:.1f}  clip: 1280x720 {args.seconds:g}s, "
          f"storybuild uses {encoding.X264_THREADS} threads")  # fmt: skip
    for choice in choices:
        os.environ[ENVIRONMENT] = choice
        print(f"\n{ffmpeg_identity()}")
        settings = (0, 1, 2, 4)
        # Round-robin over the settings, so a change in the machine's load hits them all alike.
        runs: dict[int, list[tuple[float, float]]] = {threads: [] for threads in settings}
        for _ in range(args.repeats):
            for threads in settings:
                runs[threads].append(encode(still, OUT / f"det_{choice}_{threads}.mp4", threads, frames, None))
        baseline = None
        for threads in settings:
            wall, cpu = min(runs[threads])
            encode(still, OUT / f"det_{choice}_{threads}_one.mp4", threads, frames, str(cores[0]))
            same = (OUT / f"det_{choice}_{threads}.mp4").read_bytes() == (
                OUT / f"det_{choice}_{threads}_one.mp4"
            ).read_bytes()
            speed = args.seconds / wall
            baseline = baseline or speed
            label = "auto" if threads == 0 else str(threads)
            print(f"  x264 threads {label:>4}: {speed:5.2f}x real time ({speed / baseline:4.2f} of auto)  "
                  f"{cpu / args.seconds:5.3f} cpu-s per video-s  "
                  f"{'same bytes on 1 core' if same else 'DIFFERENT bytes on 1 core'}")  # fmt: skip

if __name__ == "__main__":
    main()
