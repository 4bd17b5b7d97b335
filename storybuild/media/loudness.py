"""Loudness to a target (ITU-R BS.1770 via pyloudnorm) with a sample-peak ceiling.

Choices for awkward input, so callers know what they get:

* shorter than one 400 ms gating block: ``MediaError`` (BS.1770 cannot measure it, and a silent
  guess would pass an unmeasured file on as "normalised");
* digital silence, or nothing above the -70 LUFS gate: returned unchanged, since no gain can
  give it a loudness.
"""

from __future__ import annotations

import numpy as np
import pyloudnorm

from ..errors import MediaError

__all__ = ["integrated_loudness", "limit", "normalize"]

MIN_SECONDS = 0.4
_LIMITER_WINDOW = 0.01  # seconds the gain takes to dip before a peak and to recover after it
_TOLERANCE = 0.5  # LU: half the +-1 LU the mix promises; each round saved is a full measurement
_ROUNDS = 6


def integrated_loudness(data: np.ndarray, rate: int) -> float:
    """Integrated loudness of ``data`` in LUFS; ``-inf`` when nothing passes the -70 LUFS gate.

    Shorter than ``MIN_SECONDS`` is a ``MediaError``: BS.1770 has no block to measure.
    """
    if len(data) < MIN_SECONDS * rate:
        raise MediaError(
            f"cannot measure loudness of {len(data) / rate:.3f} s of audio; BS.1770 needs at least {MIN_SECONDS} s"
        )
    # float32 measures to within 1e-6 LU of float64 and, on long mixes, about 40% faster.
    samples = data if np.issubdtype(data.dtype, np.floating) else np.asarray(data, np.float32)
    try:
        return float(pyloudnorm.Meter(rate).integrated_loudness(samples))
    except ValueError as exc:
        raise MediaError(f"cannot measure loudness: {exc}") from exc


def _block_peaks(data: np.ndarray, width: int) -> np.ndarray:
    """The absolute peak of each ``width``-sample block (the last one may be short)."""
    flat = data.reshape(len(data), -1)
    full = len(data) // width * width
    blocks = flat[:full].reshape(-1, width * flat.shape[1])
    peaks = np.maximum(blocks.max(axis=1, initial=0.0), -blocks.min(axis=1, initial=0.0))
    if full < len(data):
        tail = flat[full:]
        peaks = np.append(peaks, max(float(tail.max()), -float(tail.min())))
    return peaks


def limit(data: np.ndarray, rate: int, ceiling_db: float = -1.0) -> np.ndarray:
    """``data`` with every sample peak at or below ``ceiling_db`` dBFS, by a look-ahead gain.

    Each block of ``_LIMITER_WINDOW`` gets the gain its peak needs (``ceiling / peak``), lowered
    to its neighbours' where they need more; the gain is then interpolated linearly between block
    centres. Any sample sits between two centres whose gains both include its own block's, so it
    stays under the ceiling, while the gain glides in and out over one block instead of clicking.
    Only blocks near a peak are touched, so a mix that is mostly under the ceiling costs one pass.
    """
    return _limit_in_place(np.array(data, dtype=np.float32), rate, ceiling_db)


def _limit_in_place(out: np.ndarray, rate: int, ceiling_db: float) -> np.ndarray:
    ceiling = 10 ** (ceiling_db / 20)
    width = max(2, int(_LIMITER_WINDOW * rate))
    peaks = _block_peaks(out, width)
    if len(peaks) == 0 or float(peaks.max()) <= ceiling:
        return out
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    padded = np.pad(need, 1, constant_values=1.0)
    block_gain = np.minimum(np.minimum(padded[:-2], padded[1:-1]), padded[2:])
    around = np.pad(block_gain, 1, mode="edge")
    touched = np.flatnonzero(np.minimum(np.minimum(around[:-2], around[1:-1]), around[2:]) < 1.0)
    # Position of each sample inside its block, -0.5..0.5 from the centre.
    offset = (np.arange(width) + 0.5) / width - 0.5
    toward = np.where(offset < 0, around[touched, None], around[touched + 2, None])
    gain = block_gain[touched, None] + (toward - block_gain[touched, None]) * np.abs(offset)[None, :]
    flat = out.reshape(len(out), -1)
    rows = touched[:, None] * width + np.arange(width)[None, :]
    inside = rows < len(out)
    rows, gain = rows[inside], gain[inside]
    # The interpolation is exact in float64; clip away float32's last-bit rounding.
    flat[rows] = np.clip(flat[rows] * gain[:, None], -ceiling, ceiling)
    return out


def normalize(data: np.ndarray, rate: int, target_lufs: float = -14.0, ceiling_db: float = -1.0) -> np.ndarray:
    """``data`` at ``target_lufs`` integrated loudness (within 0.5 LU) with peaks under ``ceiling_db``.

    Gain, then the peak limiter, then measure again: limiting lowers loudness, so the gain is
    corrected and the limiter re-applied to the original until the target holds. A target no
    limiting can reach under the ceiling (0 LUFS under -1 dBFS) is a ``MediaError``.
    """
    data = np.asarray(data, np.float32)
    measured = integrated_loudness(data, rate)
    if not np.isfinite(measured):
        return data
    gain_db = target_lufs - measured
    gain = np.float32(10 ** (gain_db / 20))
    if float(np.max(np.abs(data), initial=0.0)) * gain <= 10 ** (ceiling_db / 20):
        # Nothing to limit: a pure gain moves integrated loudness by exactly gain_db, so the
        # result needs no second measurement (each one is most of this function's time).
        return data * gain
    out = data
    for _ in range(_ROUNDS):
        out = _limit_in_place(data * np.float32(10 ** (gain_db / 20)), rate, ceiling_db)
        error = target_lufs - integrated_loudness(out, rate)
        if abs(error) <= _TOLERANCE:
            return out
        gain_db += error
    if abs(error) > 0.5:
        raise MediaError(
            f"cannot reach {target_lufs} LUFS under a {ceiling_db} dBFS ceiling (got {target_lufs - error:.1f});"
            " the audio is too peaky for that loudness"
        )
    return out
