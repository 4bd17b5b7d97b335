"""Colours from words: a scene's palette from its prompt and style, and named colours for looks.

Everything here is a pure function of the words, so a story keeps one palette family however
often a picture is rerolled: the seed moves shapes around, never the colours.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, fields, replace

from .spec import stable_int, time_of_day, words_of

RGB = tuple[int, int, int]

# Colour words a look or a style may use; "grey beard", "navy sweater", "brass fox"...
NAMED_COLORS: dict[str, RGB] = {
    "red": (184, 52, 44),
    "crimson": (160, 30, 50),
    "scarlet": (200, 40, 36),
    "orange": (222, 120, 40),
    "rust": (166, 78, 40),
    "yellow": (236, 188, 52),
    "gold": (214, 166, 58),
    "golden": (214, 166, 58),
    "brass": (190, 148, 66),
    "copper": (178, 100, 56),
    "bronze": (150, 110, 60),
    "green": (66, 130, 74),
    "olive": (112, 118, 58),
    "teal": (44, 122, 122),
    "blue": (60, 96, 164),
    "navy": (36, 48, 88),
    "purple": (112, 70, 134),
    "violet": (128, 90, 170),
    "pink": (218, 132, 152),
    "brown": (116, 76, 48),
    "tan": (190, 150, 104),
    "grey": (136, 136, 140),
    "gray": (136, 136, 140),
    "silver": (184, 188, 194),
    "white": (238, 236, 230),
    "cream": (236, 224, 196),
    "black": (42, 40, 44),
}


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` moved a fraction ``t`` of the way to ``b``."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def shade(color: RGB, factor: float) -> RGB:
    """``color`` made darker (factor < 1) or lighter (factor > 1), clipped to 0..255."""
    return tuple(max(0, min(255, round(x * factor))) for x in color)  # type: ignore[return-value]


def saturate(color: RGB, factor: float) -> RGB:
    """``color`` with its saturation scaled by ``factor`` (0 makes it grey)."""
    h, l, s = colorsys.rgb_to_hls(*(x / 255 for x in color))
    r, g, b = colorsys.hls_to_rgb(h, l, max(0.0, min(1.0, s * factor)))
    return round(r * 255), round(g * 255), round(b * 255)


def luminance(color: RGB) -> float:
    """Perceived brightness of ``color``, 0..255 (Rec. 601 weights)."""
    r, g, b = color
    return 0.299 * r + 0.587 * g + 0.114 * b


@dataclass(frozen=True)
class Palette:
    """The colours of one picture, back (sky) to front (ground) plus lights and the card."""

    sky_top: RGB
    sky_low: RGB
    sun: RGB
    far: RGB
    mid: RGB
    near: RGB
    water: RGB
    foliage: RGB
    trunk: RGB
    wall: RGB
    floor: RGB
    lamp: RGB
    fog: RGB
    ink: RGB
    paper: RGB
    wash: float = 0.06  # strength of the watercolour blotches; the style's word "watercolor" raises it

    def map(self, fn, skip: tuple[str, ...] = ("ink", "paper")) -> Palette:
        """A copy with ``fn`` applied to every colour except those named in ``skip``."""
        changes = {
            f.name: fn(getattr(self, f.name))
            for f in fields(self)
            if f.name not in skip and isinstance(getattr(self, f.name), tuple)
        }
        return replace(self, **changes)


# One palette per time of day; modifiers below bend it toward the prompt's and style's words.
_BASE: dict[str, Palette] = {
    "night": Palette(
        sky_top=(12, 18, 44), sky_low=(44, 58, 96), sun=(226, 230, 240), far=(34, 44, 74),
        mid=(24, 32, 56), near=(16, 22, 38), water=(20, 32, 58), foliage=(26, 48, 52),
        trunk=(30, 26, 30), wall=(58, 48, 44), floor=(40, 32, 30), lamp=(255, 190, 100),
        fog=(70, 80, 108), ink=(22, 20, 30), paper=(236, 226, 204),
    ),
    "predawn": Palette(
        sky_top=(30, 40, 74), sky_low=(120, 118, 140), sun=(236, 190, 160), far=(62, 70, 100),
        mid=(42, 50, 76), near=(26, 32, 50), water=(28, 40, 62), foliage=(40, 62, 66),
        trunk=(36, 32, 36), wall=(80, 74, 76), floor=(52, 46, 48), lamp=(255, 196, 110),
        fog=(138, 144, 162), ink=(26, 24, 34), paper=(238, 228, 208),
    ),
    "dawn": Palette(
        sky_top=(104, 142, 196), sky_low=(252, 204, 152), sun=(255, 226, 160),
        far=(150, 150, 176), mid=(98, 108, 132), near=(62, 72, 78), water=(92, 126, 160),
        foliage=(92, 132, 86), trunk=(78, 58, 48), wall=(176, 156, 136), floor=(120, 96, 78),
        lamp=(255, 206, 120), fog=(236, 222, 210), ink=(40, 34, 40), paper=(242, 232, 212),
    ),
    "day": Palette(
        sky_top=(96, 156, 220), sky_low=(214, 232, 244), sun=(255, 248, 220),
        far=(150, 178, 196), mid=(96, 140, 110), near=(70, 112, 70), water=(66, 126, 176),
        foliage=(70, 132, 70), trunk=(96, 70, 50), wall=(206, 190, 166), floor=(150, 118, 88),
        lamp=(255, 214, 130), fog=(228, 234, 238), ink=(36, 34, 40), paper=(244, 236, 218),
    ),
    "dusk": Palette(
        sky_top=(62, 64, 122), sky_low=(246, 148, 96), sun=(255, 196, 120), far=(118, 92, 124),
        mid=(76, 62, 92), near=(44, 38, 56), water=(70, 72, 120), foliage=(58, 70, 66),
        trunk=(50, 38, 40), wall=(150, 112, 100), floor=(96, 70, 62), lamp=(255, 190, 100),
        fog=(206, 170, 168), ink=(32, 26, 36), paper=(240, 228, 206),
    ),
}

def _has(words: list[str], *cues: str) -> bool:
    return any(cue in words for cue in cues)


def palette_from_words(prompt: str, style: str = "", time: str | None = None, weather: str = "") -> Palette:
    """The palette for a picture of ``prompt`` drawn in ``style``, at ``time`` if the facts give one."""
    scene, look = words_of(prompt), words_of(style)
    both = scene + look
    pal = _BASE[time or time_of_day(scene)]
    if weather in ("cloudy", "rain", "storm", "snow"):  # an overcast sky: greyer, flatter, no blue
        grey = (150, 156, 166) if weather != "storm" else (70, 76, 90)
        pal = replace(pal, sky_top=mix(pal.sky_top, grey, 0.55), sky_low=mix(pal.sky_low, grey, 0.45),
                      sun=mix(pal.sun, grey, 0.4))

    if _has(both, "autumn", "fall", "leaves", "october", "november"):
        pal = replace(
            pal, foliage=mix(pal.foliage, (206, 96, 40), 0.7), near=mix(pal.near, (120, 64, 34), 0.4),
            mid=mix(pal.mid, (150, 84, 50), 0.25),
        )
    if weather == "snow" or _has(both, "snow", "snowy", "winter", "frost", "ice"):
        pal = replace(pal, near=mix(pal.near, (236, 240, 248), 0.75), mid=mix(pal.mid, (210, 220, 236), 0.5))
    if _has(scene, "stone", "iron", "tower", "stairs", "staircase"):
        pal = replace(pal, wall=mix(pal.wall, (112, 112, 116), 0.5), floor=mix(pal.floor, (78, 76, 80), 0.5))
    if _has(scene, "workshop", "wooden", "wood", "cabin", "bench"):
        pal = replace(pal, wall=mix(pal.wall, (120, 80, 52), 0.55), floor=mix(pal.floor, (92, 60, 40), 0.5))
    if _has(scene, "fog", "foggy", "mist", "misty", "haze", "hazy"):
        # Fog pulls every distance toward one soft colour: less contrast, more air.
        pal = replace(
            pal, far=mix(pal.far, pal.fog, 0.45), mid=mix(pal.mid, pal.fog, 0.25),
            sky_low=mix(pal.sky_low, pal.fog, 0.5), water=mix(pal.water, pal.fog, 0.15),
        )
    if _has(both, "candle", "lamp", "lantern", "lamplight", "fire", "flame", "hearth"):
        pal = replace(pal, lamp=mix(pal.lamp, (255, 176, 80), 0.3))

    return styled(pal, style)


def styled(pal: Palette, style: str) -> Palette:
    """``pal`` bent by the style's words, strongly enough to see: a style is a look, not a hint.

    A style with none of the known words still gets a faint tint of its own (from a hash of its
    words), so two different styles never paint the same picture.
    """
    look = words_of(style)
    known = False
    if _has(look, "muted", "faded", "soft", "pastel", "dreamy"):
        pal, known = pal.map(lambda c: saturate(c, 0.65), skip=("ink", "paper", "lamp", "sun")), True
    if _has(look, "pastel", "dreamy", "airy"):
        pal = pal.map(lambda c: mix(c, (246, 238, 240), 0.18), skip=("ink", "paper"))
    if _has(look, "blue", "blues", "cool", "cold", "icy"):
        pal, known = pal.map(lambda c: mix(c, (52, 86, 140), 0.22), skip=("ink", "paper", "lamp", "sun")), True
    if _has(look, "warm", "golden", "cosy", "cozy", "lamplight", "amber", "sunlit"):
        pal, known = replace(pal.map(lambda c: mix(c, (206, 132, 64), 0.14), skip=("ink", "paper", "sun")),
                             paper=mix(pal.paper, (250, 222, 180), 0.4), lamp=mix(pal.lamp, (255, 170, 70), 0.3)), True
    if _has(look, "vivid", "bright", "children", "cheerful", "colorful", "colourful", "saturated"):
        pal, known = pal.map(lambda c: saturate(c, 1.45)), True
    if _has(look, "sepia", "vintage", "antique", "old"):
        pal, known = pal.map(lambda c: mix(saturate(c, 0.2), (150, 110, 70), 0.35)), True
    if _has(look, "noir", "monochrome", "black", "grayscale", "greyscale"):
        # Near-grey with deepened shadows; only lamps and flames keep a little colour.
        pal, known = pal.map(lambda c: shade(saturate(c, 0.05), 0.8 if luminance(c) < 128 else 1.08),
                             skip=("ink", "paper", "lamp")), True
        pal = replace(pal, paper=(226, 224, 220))
    if _has(look, "dark", "gothic", "moody", "dramatic", "eerie"):
        pal, known = pal.map(lambda c: shade(c, 0.72), skip=("ink", "paper", "lamp", "sun")), True
    if _has(look, "green", "greens", "verdant", "emerald"):
        pal, known = pal.map(lambda c: mix(c, (60, 130, 80), 0.22), skip=("ink", "paper", "lamp", "sun")), True
    if _has(look, "autumn", "autumnal", "rust", "orange"):
        pal, known = pal.map(lambda c: mix(c, (190, 100, 50), 0.15), skip=("ink", "paper", "lamp", "sun")), True
    if _has(look, "watercolor", "watercolour"):
        pal, known = replace(pal.map(lambda c: mix(c, (250, 246, 236), 0.12), skip=("ink",)), wash=0.16), True
    elif _has(look, "painterly", "gouache", "oil", "impasto"):
        pal, known = replace(pal, wash=0.11), True
    if not known and look:
        tint = hashed_color(" ".join(look), tuple(NAMED_COLORS.values()))
        pal = pal.map(lambda c: mix(c, tint, 0.12), skip=("ink", "paper"))
    return pal


def hashed_color(name: str, palette: tuple[RGB, ...]) -> RGB:
    """One of ``palette``, chosen by ``name`` so a character keeps it in every picture."""
    return palette[stable_int("color", name) % len(palette)]
