"""The sound bed under the narration: cues placed on a timeline, ducked under speech, mixed.

Everything is vectorised and works on an envelope at 100 frames a second, interpolated back to
the sample rate, so a ten-minute story at 48 kHz mixes in a few seconds.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import MediaError
from .audio import to_mono, to_stereo

__all__ = ["duck", "mix", "place_cues", "speech_activity"]

_FRAME = 0.01  # envelope resolution in seconds
_WINDOW = 5  # frames of RMS window (50 ms): bridges the gaps inside words, not between phrases
_CHUNK = 1 << 16  # samples per gain-interpolation chunk: bounds temporary memory; silent chunks are skipped


def place_cues(
    length: int, rate: int, cues: Sequence[tuple[float, np.ndarray]], channels: int = 2
) -> np.ndarray:
    """A stereo bed ``(length, 2)`` with each cue's audio added from its start second on.

    Cues may overlap (they add) and are cut at the bed's end; a negative start drops the cue's
    head. Mono cues land equally on both channels. With ``channels=1`` the bed is mono
    ``(length,)`` (stereo cues folded to mono): when every cue is mono, that is the stereo bed's
    channel at half the work.
    """
    if length < 0 or rate <= 0 or channels not in (1, 2):
        raise MediaError(f"cannot make a bed of {length} samples, {channels} channels at {rate} Hz")
    bed = np.zeros((length, 2) if channels == 2 else length, np.float32)
    fit = to_stereo if channels == 2 else to_mono
    for start_seconds, data in cues:
        start = int(round(start_seconds * rate))
        audio = fit(np.asarray(data, np.float32))
        head = max(0, -start)
        lo, hi = max(0, start), min(length, start + len(audio))
        if hi > lo:
            bed[lo:hi] += audio[head : head + hi - lo]
    return bed


def speech_activity(speech: np.ndarray, rate: int, frames: int, threshold_db: float = -40.0) -> np.ndarray:
    """Per 10 ms frame, whether the short-window RMS of ``speech`` is above ``threshold_db`` dBFS."""
    hop = max(1, int(round(rate * _FRAME)))
    mono = speech if speech.ndim == 1 else speech.mean(axis=1)
    power = np.zeros(frames)
    whole = min(frames, len(mono) // hop)
    # Frame by frame in slices of _CHUNK samples: no padded copy, no float64 copy of the whole speech.
    rows = max(1, _CHUNK // hop)
    for lo in range(0, whole, rows):
        hi = min(whole, lo + rows)
        power[lo:hi] = np.square(mono[lo * hop : hi * hop], dtype=np.float64).reshape(hi - lo, hop).mean(axis=1)
    if whole < frames and len(mono) > whole * hop:  # the last, partial frame, padded with silence
        tail = np.zeros(hop, np.float32)
        tail[: len(mono) - whole * hop] = mono[whole * hop : (whole + 1) * hop]
        power[whole] = np.square(tail, dtype=np.float64).mean()
    kernel = np.ones(_WINDOW) / _WINDOW
    power = np.convolve(power, kernel, mode="same")
    return power > 10 ** (threshold_db / 10)


def _ramp_to(active: np.ndarray, frames_long: float, ahead: bool) -> np.ndarray:
    """1 where ``active``, falling linearly to 0 over ``frames_long`` frames after (or before) it."""
    index = np.arange(len(active))
    if ahead:
        nearest = np.minimum.accumulate(np.where(active, index, len(active) * 4)[::-1])[::-1]
        distance = nearest - index
    else:
        nearest = np.maximum.accumulate(np.where(active, index, -len(active) * 4))
        distance = index - nearest
    return np.clip(1 - distance / max(frames_long, 1e-9), 0, 1)


def duck(
    bed: np.ndarray,
    speech: np.ndarray,
    rate: int,
    amount_db: float = -12.0,
    attack: float = 0.05,
    release: float = 0.4,
    threshold_db: float = -40.0,
) -> np.ndarray:
    """``bed`` with its gain lowered by ``amount_db`` wherever ``speech`` is active.

    The gain moves linearly in dB: it starts falling ``attack`` seconds *before* speech (we have
    the whole file, so the first syllable is never masked) and recovers over ``release`` seconds
    after it. Far from speech the bed is untouched.
    """
    if len(bed) == 0:
        return bed
    hop = max(1, int(round(rate * _FRAME)))
    frames = -(-len(bed) // hop)
    active = speech_activity(speech, rate, frames, threshold_db)
    depth = np.maximum(_ramp_to(active, attack / _FRAME, True), _ramp_to(active, release / _FRAME, False))
    gain = (10 ** (amount_db * depth / 20)).astype(np.float32)
    centres = (np.arange(frames) + 0.5) * hop
    out = np.empty(bed.shape, np.float32)
    for lo in range(0, len(bed), _CHUNK):
        hi = min(len(bed), lo + _CHUNK)
        if not bed[lo:hi].any():  # cues are sparse: silence stays silence at any gain
            out[lo:hi] = bed[lo:hi]
            continue
        g = np.interp(np.arange(lo, hi), centres, gain).astype(np.float32)
        out[lo:hi] = bed[lo:hi] * (g if bed.ndim == 1 else g[:, None])
    return out


def mix(speech: np.ndarray, bed: np.ndarray) -> np.ndarray:
    """Mono ``speech`` centred over the stereo ``bed``, as ``(max length, 2)`` float32.

    A mono ``bed`` (``place_cues(..., channels=1)``) gives a mono mix ``(max length,)``: the
    stereo mix's channel, both being the same.
    """
    voice = speech if speech.ndim == 1 else speech.mean(axis=1)
    bed = np.asarray(bed, np.float32)
    if bed.ndim != 1:
        bed = to_stereo(bed)
    out = np.zeros((max(len(voice), len(bed)),) + bed.shape[1:], np.float32)
    out[: len(bed)] += bed
    voice = np.asarray(voice, np.float32)
    out[: len(voice)] += voice if bed.ndim == 1 else voice[:, None]
    return out
