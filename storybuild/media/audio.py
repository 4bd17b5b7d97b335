"""Audio arrays in and out of wav files, and the small reshapes the pipeline needs between them.

Samples are float32 in [-1, 1], shaped ``(n,)`` for mono and ``(n, channels)`` otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import MediaError

__all__ = ["read_wav", "resample", "silence", "to_mono", "to_stereo", "trim_silence", "write_wav"]


def read_wav(path: Path | str) -> tuple[np.ndarray, int]:
    """The samples of an audio file as float32 ``(n,)`` or ``(n, channels)``, and its sample rate."""
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=False)
    except (OSError, RuntimeError) as exc:
        raise MediaError(f"cannot read audio {path}: {exc}") from exc
    return data, int(rate)


def write_wav(
    path: Path | str, data: np.ndarray, rate: int, subtype: str = "PCM_16", channels: int | None = None
) -> None:
    """Write ``data`` to ``path`` as a wav; float input outside [-1, 1] is clipped, not wrapped.

    With ``channels`` > 1, mono ``data`` is written to each of that many channels (a mono mix as
    the stereo file it stands for, without making the stereo float array first).
    """
    data = np.asarray(data)
    if channels is not None and channels > 1 and data.ndim == 1:
        if subtype == "PCM_16" and np.issubdtype(data.dtype, np.floating):
            data = _pcm16(data)  # convert the one channel, then copy integers
        data = np.repeat(data[:, None], channels, axis=1)
    if np.issubdtype(data.dtype, np.floating) and subtype == "PCM_16":
        data = _pcm16(data)
    elif np.issubdtype(data.dtype, np.floating) and subtype.startswith("PCM"):
        data = np.clip(data, -1.0, 1.0)
    try:
        sf.write(str(path), data, int(rate), subtype=subtype, format="WAV")
    except (OSError, RuntimeError, ValueError) as exc:
        raise MediaError(f"cannot write audio {path}: {exc}") from exc


def _pcm16(data: np.ndarray) -> np.ndarray:
    """Float samples as 16-bit integers, the numbers libsndfile (1.2) writes from floats.

    libsndfile rounds to 32 bits (``lrintf(x * 2^31)``) and keeps the top 16 (a floor), clipped
    to the int16 range; done here in float32 (both scalings are exact powers of two), a mix's
    wav is written in a third of the time it takes libsndfile after a clipped float copy.
    """
    scaled = np.multiply(data, np.float32(2.0**31), dtype=np.float32)
    np.rint(scaled, out=scaled)
    scaled *= np.float32(2.0**-16)
    np.floor(scaled, out=scaled)
    np.clip(scaled, -32768, 32767, out=scaled)
    return scaled.astype(np.int16)


def to_mono(data: np.ndarray) -> np.ndarray:
    """``data`` as one channel: the mean of its channels."""
    return data if data.ndim == 1 else data.mean(axis=1, dtype=np.float32)


def to_stereo(data: np.ndarray) -> np.ndarray:
    """``data`` as two channels ``(n, 2)``: mono is duplicated, more channels are folded to mono."""
    if data.ndim == 2 and data.shape[1] == 2:
        return data
    mono = to_mono(data)
    return np.repeat(mono[:, None], 2, axis=1)


def resample(data: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """``data`` converted to ``to_rate`` by libsoxr (high quality).

    soxr rather than scipy's resample_poly: importing scipy.signal costs 1-2 s in every build
    process, and narration needs nothing else from it.
    """
    import soxr

    if from_rate <= 0 or to_rate <= 0:
        raise MediaError(f"cannot resample from {from_rate} Hz to {to_rate} Hz")
    if from_rate == to_rate or len(data) == 0:
        return data
    out = soxr.resample(np.ascontiguousarray(data, np.float32), int(from_rate), int(to_rate), quality="HQ")
    return out.astype(np.float32, copy=False)


def trim_silence(
    data: np.ndarray, rate: int, threshold_db: float = -45.0, keep: float = 0.02
) -> tuple[np.ndarray, int]:
    """``data`` without the silence before and after it, keeping ``keep`` seconds of margin.

    Returns the trimmed audio and how many samples were cut from the start, so a caller that
    times words from the original can shift them. Silent input comes back empty.
    """
    level = np.abs(data) if data.ndim == 1 else np.abs(data).max(axis=1)
    loud = np.flatnonzero(level > 10 ** (threshold_db / 20))
    if len(loud) == 0:
        return data[:0], len(data)
    margin = int(round(keep * rate))
    start = max(0, int(loud[0]) - margin)
    end = min(len(data), int(loud[-1]) + 1 + margin)
    return data[start:end], start


def silence(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    """``seconds`` of digital silence, mono ``(n,)`` or ``(n, channels)``."""
    n = max(0, int(round(seconds * rate)))
    return np.zeros(n if channels == 1 else (n, channels), np.float32)
