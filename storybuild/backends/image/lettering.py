"""Text on pictures: a font that has every character's glyph, and fitting words into a box.

The face comes from ``storybuild.fonts``: Noto Sans from pip for Latin, Greek and Cyrillic (the
same on every machine), a system font for other scripts. One face is chosen per whole text and
used for measuring every piece of it, so a line measured is the line drawn.
"""

from __future__ import annotations

from PIL import ImageFont

from ...fonts import font_for


def font(size: int, text: str = "", bold: bool = False) -> ImageFont.FreeTypeFont:
    """A face at ``size`` pixels that draws every character of ``text`` (pass the whole text to be drawn)."""
    return font_for(text, size, bold)


def text_width(text: str, size: int, stroke: int = 0, whole: str | None = None) -> float:
    """How wide ``text`` renders at ``size`` pixels with a ``stroke``-pixel outline, in the face for ``whole``."""
    return font(size, text if whole is None else whole).getlength(text) + 2 * stroke


def wrap(text: str, size: int, max_width: float, stroke: int = 0, limit: int | None = None) -> list[str]:
    """``text`` broken greedily into lines no wider than ``max_width`` (a too-long word stays whole).

    With ``limit``, stops once it has more than ``limit`` lines: enough to know the text overflows.
    """
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size, stroke, text) <= max_width:
            lines[-1] = f"{lines[-1]} {word}"
        elif limit is not None and len(lines) > limit:
            break
        else:
            lines.append(word)
    return lines


def balance(lines: list[str], size: int, stroke: int = 0) -> list[str]:
    """The same words in as many lines, made as even as possible ("The Lamp at / Gull Point", not
    "The Lamp at Gull / Point"): the narrowest width that still needs no more lines wins."""
    if len(lines) < 2:
        return lines
    text = " ".join(lines)
    low, high = max(text_width(word, size, stroke, text) for word in text.split()), max(
        text_width(line, size, stroke, text) for line in lines)
    while high - low > 1:
        middle = (low + high) / 2
        if len(wrap(text, size, middle, stroke)) <= len(lines):
            high = middle
        else:
            low = middle
    return wrap(text, size, high, stroke)


def fit_text(text: str, max_width: float, max_height: float, max_lines: int, largest: int, smallest: int,
             line_gap: float = 0.15, stroke_ratio: float = 0.0) -> tuple[int, list[str]]:
    """The largest size (down to ``smallest``) at which ``text`` fits the box in ``max_lines`` lines.

    If even ``smallest`` is too big, the last line is cut short with an ellipsis: a caption that
    is too long must still render rather than fail the build.
    """
    size = largest
    while True:
        stroke = round(size * stroke_ratio)
        lines = wrap(text, size, max_width, stroke, limit=max_lines)
        tall = len(lines) * size * (1 + line_gap)
        fits = len(lines) <= max_lines and tall <= max_height
        fits = fits and all(text_width(line, size, stroke, text) <= max_width for line in lines)
        if fits or size <= smallest:
            break
        size = max(smallest, int(size * 0.92))
    stroke = round(size * stroke_ratio)
    return size, balance(_ellipsize(lines, size, max_width, max_lines, stroke, text), size, stroke)


def _ellipsize(lines: list[str], size: int, max_width: float, max_lines: int, stroke: int, whole: str) -> list[str]:
    """``lines`` cut to ``max_lines``, the last ending in an ellipsis, when they overflow."""
    kept = [_clip(line, size, max_width, stroke, whole) for line in lines[:max_lines]]
    if len(lines) <= max_lines:
        return kept
    words, last = " ".join(lines[max_lines - 1:]).split(), ""
    for word in words:
        candidate = f"{last} {word}".strip()
        if text_width(candidate + "…", size, stroke, whole) > max_width:
            break
        last = candidate
    kept[-1] = (last + "…") if last else _clip(words[0], size, max_width, stroke, whole)
    return kept


def _clip(line: str, size: int, max_width: float, stroke: int, whole: str) -> str:
    """``line`` shortened to fit, ending in an ellipsis, if it is too wide (one long word)."""
    if text_width(line, size, stroke, whole) <= max_width:
        return line
    while len(line) > 1 and text_width(line + "…", size, stroke, whole) > max_width:
        line = line[:-1]
    return line + "…"
