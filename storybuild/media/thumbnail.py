"""The video's thumbnail: the key scene, filled to size, with the story's title big across it.

YouTube shows thumbnails as small as 168x94, so the title is sized to fill the frame's width in
at most three lines, drawn light on a dark outline and a soft shadow, over a band that darkens
the picture behind it: it must read on any scene, bright dawn or dark night. The face has a glyph
for every character of the title (``storybuild.fonts``): Renée, Ελένη and Дмитрий are never boxes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from ..backends.image.lettering import fit_text, font
from ..errors import MediaError

__all__ = ["render_thumbnail"]

TITLE_FILL = (255, 246, 222)
TITLE_OUTLINE = (18, 14, 22)
MAX_LINES = 3


def render_thumbnail(scene_png: Path, title: str, out: Path, width: int = 1280, height: int = 720) -> None:
    """Write a ``width`` x ``height`` PNG thumbnail of ``scene_png`` with ``title`` across its lower part."""
    try:
        with Image.open(scene_png) as source:
            picture = ImageOps.fit(source.convert("RGB"), (width, height), Image.LANCZOS, centering=(0.5, 0.4))
    except OSError as exc:
        raise MediaError(f"thumbnail: cannot read {scene_png}: {exc}") from exc
    size, lines = _title_lines(title, width, height)
    line_height = round(size * 1.12)
    bottom = height * 0.93
    top = bottom - line_height * len(lines)
    picture = _darken_below(picture, top - height * 0.18)
    _draw_title(picture, lines, size, line_height, top)
    try:
        picture.save(out, format="PNG", compress_level=3)
    except OSError as exc:
        raise MediaError(f"thumbnail: cannot write {out}: {exc}") from exc


def _title_lines(title: str, width: int, height: int) -> tuple[int, list[str]]:
    """The title's font size and lines: as large as fits 90% of the width in three lines."""
    return fit_text(" ".join(title.split()), max_width=width * 0.9, max_height=height * 0.6, max_lines=MAX_LINES,
                    largest=round(height * 0.2), smallest=max(10, round(height * 0.07)), line_gap=0.12,
                    stroke_ratio=0.09)


def _darken_below(picture: Image.Image, start: float) -> Image.Image:
    """The picture darkened progressively from row ``start`` down, so light text reads on it."""
    height = picture.height
    rows = np.arange(height, dtype=np.float32)
    ramp = np.clip((rows - start) / max(1.0, height - start), 0.0, 1.0) ** 0.8
    keep = (1.0 - 0.72 * ramp).astype(np.float32)[:, None]  # 1 above the band, 0.28 at the bottom
    bands = [np.asarray(band, dtype=np.float32) * keep for band in picture.split()]
    return Image.merge("RGB", [Image.fromarray((b + 0.5).astype(np.uint8), "L") for b in bands])


def _draw_title(picture: Image.Image, lines: list[str], size: int, line_height: int, top: float) -> None:
    """Centred lines: a blurred drop shadow, then a thick dark outline, then the light letters."""
    face = font(size, " ".join(lines))
    outline, bold = max(2, round(size * 0.09)), max(1, round(size * 0.025))
    centre = picture.width / 2
    shadow = Image.new("L", picture.size, 0)
    shadow_draw = ImageDraw.Draw(shadow)
    offset = max(2, round(size * 0.06))
    for i, line in enumerate(lines):
        y = top + i * line_height
        shadow_draw.text((centre + offset, y + offset), line, font=face, fill=255, anchor="mt",
                         stroke_width=outline, stroke_fill=255)
    shadow = shadow.filter(ImageFilter.GaussianBlur(max(1, size * 0.08)))
    picture.paste((0, 0, 0), (0, 0, *picture.size), shadow.point(lambda v: v * 170 // 255))
    draw = ImageDraw.Draw(picture)
    for i, line in enumerate(lines):
        y = top + i * line_height
        draw.text((centre, y), line, font=face, fill=TITLE_OUTLINE, anchor="mt", stroke_width=outline,
                  stroke_fill=TITLE_OUTLINE)
        # A thin stroke in the fill colour thickens Pillow's regular-weight font into a bold.
        draw.text((centre, y), line, font=face, fill=TITLE_FILL, anchor="mt", stroke_width=bold,
                  stroke_fill=TITLE_FILL)
