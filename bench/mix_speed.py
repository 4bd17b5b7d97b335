"""How much faster than real time the final mix runs: cue placement, ducking and the speech mix.

Usage: python bench/mix_speed.py [MINUTES]   (default 10)

A soundtrack of MINUTES at 48 kHz: gated noise for speech, a 30 s stereo cue every 30 s. Prints
the seconds each step takes (best of a few runs) and the whole mix as a multiple of real time;
a per-sample Python loop would be far below 1x.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from storybuild.media.mix import duck, mix, place_cues

RATE = 48000
REPEATS = 3


def _best(function, *args):
    times, result = [], None
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - start)
    return min(times), result


def main(minutes: float = 10.0) -> None:
    """Print per-step seconds and the real-time ratio of mixing ``minutes`` of audio."""
    seconds = int(minutes * 60)
    rng = np.random.default_rng(4)
    rain = (rng.standard_normal((30 * RATE, 2)) * 0.1).astype(np.float32)
    cues = [(float(start), rain) for start in range(0, seconds, 30)]
    gate = (np.sin(np.arange(seconds * 100) / 100 * 0.7) > 0).repeat(RATE // 100)
    speech = rng.standard_normal(seconds * RATE).astype(np.float32) * 0.1 * gate
    placed_s, bed = _best(place_cues, seconds * RATE, RATE, cues)
    duck_s, ducked = _best(duck, bed, speech, RATE)
    mix_s, out = _best(mix, speech, ducked)
    assert out.shape == (seconds * RATE, 2)
    total = placed_s + duck_s + mix_s
    print(f"{minutes:g} min at {RATE} Hz: place_cues {placed_s:.3f}s, duck {duck_s:.3f}s, mix {mix_s:.3f}s")
    print(f"whole mix {total:.3f}s = {seconds / total:.0f}x real time")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)
