"""Video tests: real PNGs, wavs and clips made in tmp paths, and the small helpers that make them."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import soundfile as sf
from PIL import Image, ImageDraw

from storybuild.backends.animate import ClipRequest
from storybuild.backends.animate.kenburns import KenBurnsAnimate

FPS = 24
SIZE = (320, 180)


def make_png(
    path: Path, size: tuple[int, int] = SIZE, color: tuple[int, int, int] | None = None, seed: int = 7
) -> Path:
    """A picture with edges everywhere (so motion shows), drawn from ``seed``, or a flat ``color``."""
    if color is not None:
        Image.new("RGB", size, color).save(path)
        return path
    width, height = size
    image = Image.new("RGB", size, (40, 90, 160))
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(seed)
    for _ in range(30):
        x, y, r = int(rng.integers(0, width)), int(rng.integers(0, height)), int(rng.integers(4, height // 3))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline=(0, 0, 0), width=2)
    image.save(path)
    return path


def make_wav(path: Path, seconds: float, rate: int = 44100, channels: int = 1) -> Path:
    """A quiet noise wav of exactly round(seconds * rate) samples."""
    shape = (round(seconds * rate),) if channels == 1 else (round(seconds * rate), channels)
    sf.write(path, (np.random.default_rng(1).standard_normal(shape) * 0.05).astype(np.float32), rate)
    return path


def make_clip(
    path: Path,
    frames: int,
    *,
    color: tuple[int, int, int] | None = None,
    motion: str = "m",
    seed: int = 7,
    keyframes: list[int] | None = None,
) -> Path:
    """A Ken Burns clip of ``frames`` frames at FPS and SIZE, keyframes where asked."""
    image = make_png(path.with_suffix(".png"), color=color, seed=seed)
    request = ClipRequest(
        image=image, frames=frames, fps=FPS, width=SIZE[0], height=SIZE[1], motion=motion,
        keyframes=keyframes or [],
    )  # fmt: skip
    KenBurnsAnimate().animate(request, path)
    return path


def decode(path: Path) -> list[np.ndarray]:
    """Every video frame of ``path`` as RGB arrays."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def write_srt(path: Path, cues: list[tuple[float, float, str]]) -> Path:
    """An .srt file of ``cues`` (start, end, text)."""

    def stamp(seconds: float) -> str:
        ms = round(seconds * 1000)
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    blocks = [f"{i}\n{stamp(a)} --> {stamp(b)}\n{text}\n" for i, (a, b, text) in enumerate(cues, 1)]
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path
