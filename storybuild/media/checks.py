"""Measure a model's output before it is kept: is it a picture, does it move, is it speech?

A safety filter answers with a black picture, an image-to-video model sometimes returns a still,
a voice-cloning model can return silence or a minute of babble for three words. Each check
measures (pixel standard deviation, frame-to-frame difference, RMS level, seconds per word) and
raises ``BadTake`` with the measurement, so the backend retries with a new seed.

Thresholds, on 8-bit grey levels and dBFS:

* picture: std-dev < 3 levels is one flat colour (a real illustration measures 30-70, a black
  safety-filter frame 0, a JPEG-noisy flat frame under 2);
* clip: the largest mean absolute difference between any sampled frame and the first < 0.5
  levels is a still (a slow Ken Burns pan over 5 s measures 5-15);
* speech: RMS below -50 dBFS is silence; more than 1.5 s per word plus 1.5 s is babble; less
  than 0.06 s per word is a clipped fragment (fast speech is ~0.25 s per word).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from ..errors import BadTake, MediaError

__all__ = ["check_clip", "check_image", "check_sound", "check_speech", "speech_bounds"]

MIN_PICTURE_STD = 3.0
MIN_MOTION = 0.5
SILENCE_DBFS = -50.0
MAX_SECONDS_PER_WORD, SLACK_SECONDS = 1.5, 1.5
MIN_SECONDS_PER_WORD = 0.06

_SAMPLES = 12  # frames compared per clip: enough to see motion, cheap to decode at 64x36


def check_image(path: Path) -> float:
    """The picture's grey-level std-dev; BadTake if it is one flat colour."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as picture:
            grey = np.asarray(picture.convert("L"), dtype=np.float32)
    except OSError as exc:
        raise MediaError(f"cannot read the picture {path}: {exc}") from exc
    spread = float(grey.std())
    if spread < MIN_PICTURE_STD:
        raise BadTake(
            f"the picture is one flat colour (grey-level std-dev {spread:.2f} < {MIN_PICTURE_STD}, mean "
            f"{float(grey.mean()):.0f}): a blank or safety-filtered image", file=path,
        )
    return spread


def check_clip(path: Path) -> float:
    """The clip's largest sampled difference from its first frame; BadTake if it does not move."""
    import av
    import numpy as np

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            total = stream.frames or 0
            pick = set(np.linspace(0, max(total - 1, 0), _SAMPLES).round().astype(int).tolist()) if total else None
            thumbs = [
                frame.to_ndarray(format="gray", width=64, height=36).astype(np.float32)
                for index, frame in enumerate(container.decode(stream))
                if pick is None or index in pick
            ]
    except (OSError, IndexError, av.error.FFmpegError) as exc:
        raise MediaError(f"cannot decode the clip {path}: {exc}") from exc
    if not thumbs:
        raise BadTake(f"the clip has no frames", file=path)
    motion = max(float(np.abs(thumb - thumbs[0]).mean()) for thumb in thumbs)
    if motion < MIN_MOTION:
        raise BadTake(
            f"the clip does not move (largest mean frame difference {motion:.2f} grey levels < {MIN_MOTION})",
            file=path,
        )
    return motion


def _level(path: Path) -> tuple[float, float]:
    """RMS level in dBFS and duration in seconds of an audio file."""
    import numpy as np

    from .audio import read_wav, to_mono

    data, rate = read_wav(path)
    mono = to_mono(data).astype(np.float64)
    rms = math.sqrt(float(np.mean(mono * mono))) if mono.size else 0.0
    return (20 * math.log10(rms) if rms > 0 else -math.inf), mono.size / rate


def check_sound(path: Path) -> float:
    """The sound's RMS level in dBFS; BadTake if it is silent."""
    level, _ = _level(path)
    if level < SILENCE_DBFS:
        raise BadTake(f"the sound is silent (RMS {level:.1f} dBFS < {SILENCE_DBFS})", file=path)
    return level


def speech_bounds(text: str) -> tuple[float, float]:
    """The shortest and longest plausible duration, in seconds, of ``text`` spoken."""
    words = max(1, len(re.findall(r"\w+", text)))
    return MIN_SECONDS_PER_WORD * words, SLACK_SECONDS + MAX_SECONDS_PER_WORD * words


def check_speech(path: Path, text: str) -> tuple[float, float]:
    """RMS level and duration of a spoken line; BadTake if silent, far too long or too short."""
    level, seconds = _level(path)
    if level < SILENCE_DBFS:
        raise BadTake(f"the line is silent (RMS {level:.1f} dBFS < {SILENCE_DBFS})", file=path)
    shortest, longest = speech_bounds(text)
    if not shortest <= seconds <= longest:
        words = max(1, len(re.findall(r"\w+", text)))
        raise BadTake(
            f"the line lasts {seconds:.2f} s for {words} word(s); expected {shortest:.2f}-{longest:.2f} s",
            file=path,
        )
    return level, seconds
