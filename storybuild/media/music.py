"""The music bed under a story: a track fitted to its span, scenes crossfaded, set under the voices.

No pipeline knowledge: callers hand in arrays, spans in seconds and levels in dB. The steps, in
the order ``final_wav`` applies them:

* ``fit``: a track looped (each loop seam crossfaded, so it never clicks) or trimmed to a span,
  faded in and out;
* ``scene_bed``: one fitted track per span laid end to end, each overlapping the next by the
  crossfade and joined with equal-power curves, so a scene change is heard as a blend, not a cut;
* ``set_level``: the bed's loudness put ``under_db`` LU below the speech's (BS.1770, as the final
  normalization measures), so music stays a bed whatever level the file was mastered at;
* then ``media.mix.duck`` lowers it further under each spoken phrase, and the final loudness
  normalization keeps the whole mix at the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import MediaError
from .audio import read_wav, resample, to_stereo

__all__ = ["fit", "load_track", "scene_bed", "set_level", "story_bed"]

LOOP_SEAM = 0.5  # seconds of crossfade where a looped track meets its own start


def load_track(path: Path | str, rate: int) -> np.ndarray:
    """The audio file at ``path`` (wav, flac, ogg, mp3: what libsndfile reads) as stereo float32 at ``rate``."""
    data, source_rate = read_wav(path)
    if len(data) == 0:
        raise MediaError(f"music file {path} holds no audio")
    return to_stereo(resample(np.asarray(data, np.float32), source_rate, rate))


def _equal_power(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Fade-out and fade-in curves of ``count`` samples whose powers sum to one."""
    t = (np.arange(count, dtype=np.float32) + 0.5) / max(count, 1)
    return np.cos(t * np.pi / 2)[:, None], np.sin(t * np.pi / 2)[:, None]


def _loop(track: np.ndarray, length: int, seam: int) -> np.ndarray:
    """``track`` repeated to ``length`` samples, each repeat crossfaded over ``seam`` samples."""
    seam = min(seam, len(track) // 2)
    out = np.zeros((length, track.shape[1]), np.float32)
    fade_out, fade_in = _equal_power(seam)
    position = 0
    while position < length:
        piece = track.copy()
        if position > 0 and seam:
            piece[:seam] *= fade_in
        if position + len(piece) < length and seam:
            piece[-seam:] *= fade_out
        end = min(length, position + len(piece))
        out[position:end] += piece[: end - position]
        position += len(piece) - seam
    return out


def fit(track: np.ndarray, rate: int, seconds: float, fade_in: float = 2.0, fade_out: float = 3.0) -> np.ndarray:
    """``track`` looped or trimmed to ``seconds``, with linear fades at both ends (shortened to fit)."""
    length = int(round(seconds * rate))
    if length <= 0:
        return np.zeros((0, track.shape[1] if track.ndim == 2 else 2), np.float32)
    track = to_stereo(np.asarray(track, np.float32))
    out = track[:length].copy() if len(track) >= length else _loop(track, length, int(LOOP_SEAM * rate))
    rise, fall = (min(int(round(f * rate)), length // 2) for f in (fade_in, fade_out))
    if rise:
        out[:rise] *= np.linspace(0, 1, rise, dtype=np.float32)[:, None]
    if fall:
        out[-fall:] *= np.linspace(1, 0, fall, dtype=np.float32)[:, None]
    return out


def scene_bed(
    pieces: Sequence[tuple[float, float, np.ndarray | None]], rate: int, length: int, crossfade: float = 2.0,
    fade: float = 2.0,
) -> np.ndarray:
    """A stereo bed of ``length`` samples: each ``(start, end, track)`` fitted to its span, neighbours crossfaded.

    A piece whose track is None is silence (a scene without music); consecutive pieces with the
    same track object play through as one. The crossfade is centred on each boundary; the story's
    first start fades in over ``fade`` seconds and its last end fades out over ``fade``.
    """
    bed = np.zeros((length, 2), np.float32)
    half = int(round(crossfade * rate / 2))
    merged: list[list] = []
    for start, end, track in pieces:
        if merged and merged[-1][2] is track:
            merged[-1][1] = end
        else:
            merged.append([start, end, track])
    for number, (start, end, track) in enumerate(merged):
        if track is None:
            continue
        first, last = number == 0, number == len(merged) - 1
        lo = max(0, int(round(start * rate)) - (0 if first else half))
        hi = min(length, int(round(end * rate)) + (0 if last else half))
        if hi <= lo:
            continue
        edge_in = fade if first else crossfade
        edge_out = fade if last else crossfade
        piece = fit(track, rate, (hi - lo) / rate, 0, 0)[: hi - lo]
        rise, fall = (min(int(round(e * rate)), len(piece) // 2) for e in (edge_in, edge_out))
        if rise:
            piece[:rise] *= _equal_power(rise)[1] if not first else np.linspace(0, 1, rise, dtype=np.float32)[:, None]
        if fall:
            piece[-fall:] *= _equal_power(fall)[0] if not last else np.linspace(1, 0, fall, dtype=np.float32)[:, None]
        bed[lo : lo + len(piece)] += piece
    return bed


def set_level(bed: np.ndarray, speech: np.ndarray, rate: int, under_db: float = 18.0) -> np.ndarray:
    """``bed`` scaled so its loudness is ``under_db`` LU below ``speech``'s; silent input comes back as is."""
    from .loudness import integrated_loudness

    music, voice = integrated_loudness(bed, rate), integrated_loudness(speech, rate)
    if not np.isfinite(music) or not np.isfinite(voice):
        return bed
    return (bed * np.float32(10 ** ((voice - under_db - music) / 20))).astype(np.float32)


def story_bed(
    speech: np.ndarray, rate: int, scenes: Sequence[tuple[float, float, Path | str | None]],
    fade: float = 2.0, under_db: float = 18.0,
) -> np.ndarray:
    """The music under ``speech``: each scene span ``(start, end, file or None)`` filled, crossfaded, set under it.

    Scenes naming the same file share one track, which plays through them. Ducking under each
    phrase is the mix's (``media.mix.duck``), with the cues.
    """
    tracks = {str(path): load_track(path, rate) for _, _, path in scenes if path is not None}
    pieces = [(start, end, tracks[str(path)] if path is not None else None) for start, end, path in scenes]
    bed = scene_bed(pieces, rate, len(speech), crossfade=fade, fade=fade)
    return set_level(bed, speech, rate, under_db)
