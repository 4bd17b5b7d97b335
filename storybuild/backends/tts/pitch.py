"""How high a voice is: the median fundamental frequency of a recording, for matching a voice sample.

YIN (de Cheveigné & Kawahara 2002) on 40 ms frames every 10 ms, numpy only: the cumulative mean
normalised difference picks the first period whose dip is deep enough, which avoids the octave
errors a plain autocorrelation peak makes on espeak's buzzy voices and on breathy recordings.
numpy and soundfile are imported inside the functions: this module is imported on every doit run.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import BackendError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["median_f0", "sample_f0"]

LOWEST, HIGHEST = 60.0, 500.0  # Hz: every speaking voice, from a bass to a child
_WINDOW, _HOP = 0.040, 0.010  # seconds
_DIP = 0.15  # YIN's absolute threshold: a dip below it is a period
_QUIET = 0.05  # frames quieter than this share of the loud frames' level are not voiced


def _frames(samples: np.ndarray, length: int, hop: int) -> np.ndarray:
    """Overlapping frames of ``length`` samples every ``hop``, one per row."""
    import numpy as np

    count = 1 + (len(samples) - length) // hop
    index = np.arange(length)[None, :] + hop * np.arange(count)[:, None]
    return samples[index]


def median_f0(samples: np.ndarray, rate: int) -> float | None:
    """The median f0 in Hz over the voiced frames of mono ``samples``; None when nothing is voiced."""
    import numpy as np

    x = np.asarray(samples, dtype=np.float64)
    window, hop = int(_WINDOW * rate), int(_HOP * rate)
    low_lag, high_lag = int(rate / HIGHEST), int(rate / LOWEST) + 1
    if len(x) < window + high_lag:
        return None
    frames = _frames(x, window + high_lag, hop)
    frames = frames - frames.mean(axis=1, keepdims=True)
    level = np.sqrt(np.mean(frames[:, :window] ** 2, axis=1))
    loud = frames[level > _QUIET * np.percentile(level, 95)]
    if len(loud) == 0:
        return None
    size = 1 << int(np.ceil(np.log2(2 * loud.shape[1])))
    cross = np.fft.irfft(
        np.conj(np.fft.rfft(loud[:, :window], size)) * np.fft.rfft(loud, size), size
    )[:, : high_lag + 1]
    energy = np.cumsum(np.pad(loud**2, ((0, 0), (1, 0))), axis=1)
    lags = np.arange(high_lag + 1)
    shifted = energy[:, lags + window] - energy[:, lags]
    diff = energy[:, window : window + 1] + shifted - 2 * cross
    diff[:, 0] = 0.0
    running = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * lags[1:] / np.maximum(running, 1e-12)
    found = []
    for row in cmnd:
        dips = np.flatnonzero(row[low_lag:high_lag] < _DIP)
        if len(dips) == 0:
            continue
        lag = low_lag + dips[0]
        while lag + 1 < high_lag and row[lag + 1] < row[lag]:
            lag += 1
        found.append(rate / lag)
    return float(np.median(found)) if len(found) >= 5 else None


@lru_cache(maxsize=32)
def _measured(path: str, _mtime_ns: int, _size: int) -> float:
    """The f0 of the wav at ``path``; the stat fields only key the cache so an edited file is remeasured."""
    import numpy as np
    import soundfile as sf

    try:
        data, rate = sf.read(path, dtype="float64", always_2d=True)
    except (OSError, RuntimeError) as exc:
        raise BackendError(f"cannot read voice sample {path}: {exc}; it must be a wav file", file=path) from exc
    f0 = median_f0(np.mean(data, axis=1), rate)
    if f0 is None:
        raise BackendError(
            f"voice sample {path} has no voiced speech to measure; record a few seconds of speech", file=path
        )
    return f0


def sample_f0(path: Path) -> float:
    """The median f0 in Hz of the speech in the wav at ``path``."""
    try:
        stat = Path(path).stat()
    except OSError as exc:
        raise BackendError(f"voice sample {path} is missing: {exc}", file=path) from exc
    return _measured(str(path), stat.st_mtime_ns, stat.st_size)
