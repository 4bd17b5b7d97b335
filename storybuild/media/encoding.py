"""How storybuild writes H.264 in MP4: the same bytes on any core count, exact timing on any ffmpeg.

x264 picks its thread count from the cores it may run on (1.5 per core) and its output depends
on that count, so a clip made under ``taskset -c 0`` differed from one made on two cores. A fixed
count is deterministic (frame threads and the lookahead thread derived from it wait for each
other in a fixed order; checked under taskset by tests/video/test_determinism.py). On 2 cores a
Ken Burns 720p encode cost the same CPU with x264's own choice and with 1, 2 or 4 threads
(0.32-0.35 cpu-s per video second on both ffmpegs, bench/ffmpeg_determinism.py), and 1 thread
serialises the encoder; 4 keeps the parallelism up to 4 cores, where doit also runs clips side
by side.

MP4 timing: the movie timescale (mvhd, edit lists, the chapter track) defaults to 1000 in
FFmpeg 5.1, which cannot say 1/24 s, so edit lists and durations were rounded to the millisecond
and a joined track drifted from its frame count. A timescale that is a multiple of the frame
rate and of 48 kHz states every frame and audio sample exactly, on every ffmpeg; the video
track's own timescale is set explicitly with the rule FFmpeg uses by default.
"""

from __future__ import annotations

import math

__all__ = ["AUDIO_RATE", "X264_THREADS", "h264_args", "mp4_args", "track_timescale"]

#: x264 threads for every encode: fixed, so the bytes do not depend on the machine's cores.
X264_THREADS = 4

#: The sample rate of every soundtrack storybuild writes.
AUDIO_RATE = 48000


def h264_args(crf: int, preset: str) -> list[str]:
    """The x264 arguments storybuild encodes with; clips joined by copy must share them."""
    return ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-threads", str(X264_THREADS)]  # fmt: skip


def track_timescale(fps: int) -> int:
    """The video track's ticks per second: ``fps`` doubled until at least 10000 (FFmpeg's rule)."""
    scale = fps
    while scale < 10000:
        scale *= 2
    return scale


def mp4_args(fps: int | None = None) -> list[str]:
    """Muxer arguments that keep every frame (at ``fps``) and audio sample exact in the mp4's tables."""
    if fps is None:
        return ["-movie_timescale", str(AUDIO_RATE)]
    return ["-movie_timescale", str(math.lcm(fps, AUDIO_RATE)), "-video_track_timescale", str(track_timescale(fps))]
