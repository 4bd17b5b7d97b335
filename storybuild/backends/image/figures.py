"""Characters as simple storybook figures: a person (head, coat, hat, beard...) or a fox.

A figure's colours come from its look ("red wool cap", "yellow oilskin coat", "grey beard",
"brass fox with green eyes"), and what the look does not say comes from a hash of the name, so a
character wears the same clothes in every scene and on its portrait.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .canvas import Canvas, Light
from .interface import CharacterRef
from .lettering import font
from .palette import NAMED_COLORS, RGB, hashed_color, luminance, mix, shade
from .spec import words_of

_SLOT_NOUNS = {
    "hat": ("cap", "hat", "beret", "hood", "bonnet", "beanie", "helmet"),
    "coat": ("coat", "sweater", "jacket", "dress", "cloak", "shirt", "jumper", "oilskin", "apron", "vest",
             "robe", "overalls", "tunic", "cardigan", "jersey", "smock", "gown", "waistcoat"),
    "beard": ("beard", "moustache", "mustache"),
    "hair": ("hair", "braid", "braids", "curls", "pigtails", "ponytail"),
    "eyes": ("eyes", "eye"),
    "scarf": ("scarf", "shawl"),
}
_COATS: tuple[RGB, ...] = ((184, 52, 44), (60, 96, 164), (66, 130, 74), (222, 120, 40), (112, 70, 134),
                           (44, 122, 122), (236, 188, 52))
_SKINS: tuple[RGB, ...] = ((242, 206, 172), (228, 182, 144), (204, 150, 110), (158, 110, 78), (114, 78, 54))
_HAIRS: tuple[RGB, ...] = ((92, 60, 40), (44, 34, 30), (150, 72, 40), (214, 178, 100), (70, 46, 32))
_NUMBERS = {w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split())}


@dataclass(frozen=True)
class FigureLook:
    """How to draw one character: shape, colours and the little details that make it theirs."""

    label: str
    fox: bool
    coat: RGB
    skin: RGB
    hair: RGB
    eyes: RGB
    hat: RGB | None = None
    beard: RGB | None = None
    scarf: RGB | None = None
    dress: bool = False
    long_hair: bool = False
    child: bool = False
    bobble: bool = False
    spectacles: bool = False
    freckles: bool = False
    clockwork: bool = False
    glowing_eyes: bool = False

    @property
    def scale(self) -> float:
        """Height relative to a grown-up."""
        return 0.5 if self.fox else 0.8 if self.child else 1.0


def display_name(name: str) -> str:
    """A character id as a label: ``female_fox`` -> ``Fox``, ``old_tobias`` -> ``Old Tobias``."""
    name = re.sub(r"^(male|female|m|f)_", "", name)
    return name.replace("_", " ").replace("-", " ").strip().title()


def _colors_by_slot(words: list[str]) -> tuple[dict[str, RGB], list[RGB]]:
    """Colour words matched to the garment named within the next three words; the rest unplaced."""
    slots: dict[str, RGB] = {}
    loose: list[RGB] = []
    for i, word in enumerate(words):
        if word not in NAMED_COLORS:
            continue
        ahead = words[i + 1:i + 4]
        slot = next((s for s, nouns in _SLOT_NOUNS.items() for w in ahead if w in nouns and s not in slots), None)
        if slot:
            slots[slot] = NAMED_COLORS[word]
        else:
            loose.append(NAMED_COLORS[word])
    return slots, loose


def _is_child(text: str, words: list[str]) -> bool:
    age = re.search(r"\b(\w+)[- ]year[- ]old\b", text)
    if age:
        years = _NUMBERS.get(age.group(1), int(age.group(1)) if age.group(1).isdigit() else 99)
        return years < 16
    return any(w in words for w in ("girl", "boy", "child", "kid", "little", "toddler"))


def look_from_character(ref: CharacterRef) -> FigureLook:
    """The figure for ``ref``, read from its name, gender and look words."""
    text = ref.look.lower()
    words = words_of(re.sub(r"\b\w+[- ]year[- ]old\b", "", text))
    name_words = words_of(display_name(ref.name))
    slots, loose = _colors_by_slot(words)
    female = ref.gender == "female" or ref.name.startswith("female_") or any(
        w in words for w in ("girl", "woman", "she", "her", "lady", "grandmother"))
    old = any(w in words for w in ("old", "elderly", "grandfather", "grandmother", "aged"))
    fox = "fox" in words or "fox" in name_words
    beard = slots.get("beard") or ((206, 206, 210) if "beard" in words and old else None)
    greying = old or (beard is not None and luminance(beard) > 110)  # a grey beard comes with grey hair
    hair = slots.get("hair") or (mix(beard or (206, 206, 210), (120, 110, 100), 0.2) if greying
                                 else hashed_color(ref.name + "hair", _HAIRS))
    if beard is None and "beard" in words:
        beard = hair
    default_coat = (222, 120, 40) if fox else hashed_color(ref.name, _COATS)
    return FigureLook(
        label=display_name(ref.name),
        fox=fox,
        coat=slots.get("coat") or (loose[0] if loose else default_coat),
        skin=hashed_color(ref.name + "skin", _SKINS[:3]),
        hair=hair,
        eyes=slots.get("eyes") or (44, 34, 40),
        hat=slots.get("hat") or (NAMED_COLORS["brown"] if any(w in words for w in ("cap", "hat")) else None),
        beard=beard,
        scarf=slots.get("scarf"),
        dress=female and not any(w in words for w in ("trousers", "overalls", "oilskin")),
        long_hair=female,
        child=_is_child(text, words),
        bobble="wool" in words or "knitted" in words or "bobble" in words,
        spectacles=any(w in words for w in ("spectacles", "glasses", "monocle")),
        freckles=any(w in words for w in ("freckled", "freckles")),
        clockwork=any(w in words for w in ("clockwork", "brass", "mechanical", "gears", "wound")),
        glowing_eyes=any(w in words for w in ("glowing", "shining", "bright")) and "eyes" in words,
    )


def draw_figure(c: Canvas, look: FigureLook, x: float, feet: float, height: float, ink: RGB,
                facing: int = 1) -> None:
    """Draw ``look`` standing at (x, feet), ``height`` tall as a fraction of the picture's height.

    Meant for a transparent figure layer, where fills replace pixels rather than blend: only the
    ground shadow is translucent, and it is drawn first, onto nothing.
    """
    c.oval(x, feet, height * (0.35 if look.fox else 0.2), height * 0.03, fill=(*ink, 70))
    if look.fox:
        _draw_fox(c, look, x, feet, height, ink, facing)
    else:
        _draw_person(c, look, x, feet, height, ink)


def _draw_person(c: Canvas, look: FigureLook, x: float, feet: float, u: float, ink: RGB) -> None:
    def at(dx: float, dy: float) -> tuple[float, float]:  # figure units: 1.0 is the figure's height
        return x + c.dx(dx * u), feet - dy * u

    line = 0.006 * u
    head_r = 0.125 if look.child else 0.11
    head_y, shoulder, hem = 1 - head_r, 1 - 2 * head_r - 0.01, 0.2 if look.dress else 0.24
    sw, hw = 0.14, 0.24 if look.dress else 0.17
    legs = mix(ink, look.coat, 0.25)
    for side in (-1, 1):
        leg = side * 0.055
        c.poly([at(leg - 0.03, hem + 0.02), at(leg + 0.03, hem + 0.02), at(leg + 0.028, 0.04), at(leg - 0.028, 0.04)],
               legs, outline=ink, width=line)
        c.oval(*at(side * 0.07, 0.025), 0.05 * u, 0.028 * u, fill=ink)
    if look.long_hair:
        c.poly([at(-head_r * 1.05, head_y), at(head_r * 1.05, head_y), at(head_r * 1.25, shoulder - 0.12),
                at(-head_r * 1.25, shoulder - 0.12)], look.hair, outline=ink, width=line)
    for side in (-1, 1):
        c.poly([at(side * (sw - 0.02), shoulder - 0.005), at(side * (sw + 0.04), shoulder - 0.06),
                at(side * (sw + 0.065), hem + 0.16), at(side * (sw + 0.015), hem + 0.16),
                at(side * (sw - 0.02), shoulder - 0.1)], shade(look.coat, 0.82), outline=ink, width=line)
        c.oval(*at(side * (sw + 0.04), hem + 0.14), 0.034 * u, fill=look.skin, outline=ink, width=line)
    body = [at(-sw * 0.75, shoulder + 0.01), at(sw * 0.75, shoulder + 0.01), at(sw, shoulder - 0.05),
            at(hw, hem), at(-hw, hem), at(-sw, shoulder - 0.05)]
    c.poly(body, look.coat, outline=ink, width=line)
    for k in range(3 if not look.dress else 0):
        c.oval(*at(0, shoulder - 0.1 - k * 0.12), 0.012 * u, fill=shade(look.coat, 0.55))
    if look.scarf:
        c.poly([at(-sw * 0.8, shoulder + 0.015), at(sw * 0.8, shoulder + 0.015), at(sw * 0.7, shoulder - 0.04),
                at(-sw * 0.7, shoulder - 0.04)], look.scarf, outline=ink, width=line)
    _draw_head(c, look, at, u, head_r, head_y, ink, line)


def _draw_head(c: Canvas, look: FigureLook, at, u: float, r: float, y: float, ink: RGB, line: float) -> None:
    c.oval(*at(0, y), r * u, fill=look.skin, outline=ink, width=line)
    # Hair is the top of a circle raised above the head's: a forehead shows beneath it.
    c.draw.chord(c.box(*at(0, y + r * 0.3), r * u * 1.04, r * u * 0.9), 180, 360, fill=look.hair, outline=ink,
                 width=c.size(line))
    if look.hat:
        brim = y + r * 0.45
        c.draw.chord(c.box(*at(0, brim), r * u * 1.1, r * u * 1.0), 180, 360, fill=look.hat, outline=ink,
                     width=c.size(line))
        c.poly([at(-r * 1.12, brim), at(r * 1.12, brim), at(r * 1.12, brim - 0.025), at(-r * 1.12, brim - 0.025)],
               shade(look.hat, 0.8), outline=ink, width=line)
        if look.bobble:
            c.oval(*at(0, brim + r + 0.02), 0.032 * u, fill=look.hat, outline=ink, width=line)
    if look.beard:  # the lower half of an oval hanging from cheek level, past the chin
        c.draw.chord(c.box(*at(0, y - r * 0.35), r * u * 0.98, r * u * 1.0), 0, 180, fill=look.beard,
                     outline=ink, width=c.size(line))
        c.draw.arc(c.box(*at(0, y - r * 0.45), 0.035 * u, 0.015 * u), 200, 340, fill=ink, width=c.size(line * 0.6))
    eye_y = y - r * 0.05
    for side in (-1, 1):
        c.oval(*at(side * 0.04, eye_y), 0.012 * u, fill=ink)
        if look.spectacles:
            c.oval(*at(side * 0.04, eye_y), 0.028 * u, outline=ink, width=line * 0.7)
        if not look.beard:
            c.oval(*at(side * 0.062, eye_y - 0.04), 0.018 * u, fill=mix(look.skin, (230, 110, 110), 0.4))
    if look.freckles:
        for dx, dy in ((-0.07, -0.03), (-0.05, -0.045), (0.05, -0.045), (0.07, -0.03), (0.06, -0.055)):
            c.oval(*at(dx, eye_y + dy), 0.005 * u, fill=shade(look.skin, 0.6))
    if not look.beard:
        c.draw.arc(c.box(*at(0, eye_y - 0.04), 0.03 * u, 0.02 * u), 20, 160, fill=ink, width=c.size(line * 0.6))


def _draw_fox(c: Canvas, look: FigureLook, x: float, feet: float, u: float, ink: RGB, facing: int) -> None:
    def at(dx: float, dy: float) -> tuple[float, float]:
        return x + facing * c.dx(dx * u), feet - dy * u

    line, fur, cream = 0.008 * u, look.coat, (246, 236, 214)
    tail = [_tail_point(at, t, side) for side in (1, -1) for t in ([i / 12 for i in range(13)] if side > 0
                                                                  else [1 - i / 12 for i in range(13)])]
    c.poly(tail, shade(fur, 0.9), outline=ink, width=line)
    tip = [_tail_point(at, t, side) for side in (1, -1) for t in ([0.78 + i * 0.02 for i in range(12)] if side > 0
                                                                 else [1 - i * 0.02 for i in range(12)])]
    c.poly(tip, cream if not look.clockwork else shade(fur, 1.3), outline=ink, width=line)
    for dx in (-0.3, -0.18, 0.14, 0.26):
        c.poly([at(dx - 0.035, 0.34), at(dx + 0.035, 0.34), at(dx + 0.03, 0.03), at(dx - 0.03, 0.03)],
               shade(fur, 0.7), outline=ink, width=line)
        c.oval(*at(dx, 0.03), 0.035 * u, 0.022 * u, fill=ink)
    c.oval(*at(-0.04, 0.4), 0.4 * u, 0.19 * u, fill=fur, outline=ink, width=line)
    c.oval(*at(0.24, 0.4), 0.08 * u, 0.09 * u, fill=mix(fur, cream, 0.55))
    if look.clockwork:
        c.gear(*at(-0.1, 0.42), 0.1 * u, 9, shade(fur, 0.85), shade(fur, 0.5))
        c.line([at(-0.22, 0.56), at(-0.22, 0.68)], shade(fur, 0.5), line * 1.4)
        c.oval(*at(-0.27, 0.72), 0.04 * u, outline=shade(fur, 0.5), width=line * 1.4)
        c.oval(*at(-0.17, 0.72), 0.04 * u, outline=shade(fur, 0.5), width=line * 1.4)
    for ear in ((0.26, 0.32, 0.42), (0.4, 0.47, 0.54)):
        c.poly([at(ear[0], 0.72), at(ear[1], 1.0), at(ear[2], 0.75)], fur, outline=ink, width=line)
        c.poly([at(ear[0] + 0.03, 0.74), at(ear[1], 0.93), at(ear[2] - 0.03, 0.76)], shade(fur, 0.55))
    c.oval(*at(0.38, 0.62), 0.17 * u, fill=fur, outline=ink, width=line)
    c.poly([at(0.44, 0.69), at(0.68, 0.58), at(0.66, 0.55), at(0.44, 0.51)], fur, outline=ink, width=line)
    c.poly([at(0.47, 0.55), at(0.64, 0.552), at(0.47, 0.525)], mix(fur, cream, 0.6))
    c.oval(*at(0.68, 0.57), 0.026 * u, fill=ink)
    c.oval(*at(0.42, 0.66), 0.032 * u, fill=look.eyes if look.eyes != (44, 34, 40) else ink)
    c.oval(*at(0.43, 0.67), 0.01 * u, fill=(255, 255, 255))
    if look.glowing_eyes:
        ex, ey = at(0.42, 0.66)
        c.lights.append(Light(ex, ey, 0.05 * u, look.eyes, 0.9))


def _tail_point(at, t: float, side: int) -> tuple[float, float]:
    """A point on the edge of the fox's brush: a curve sweeping back and up, widest in the middle."""
    cx, cy = -0.4 - 0.5 * t, 0.42 + 0.42 * t - 0.25 * math.sin(math.pi * t)
    half = 0.13 * math.sin(math.pi * min(1.0, t * 0.9 + 0.1))
    return at(cx + side * half * 0.4, cy + side * half)


def draw_name_tag(c: Canvas, label: str, x: float, y: float, size: float, paper: RGB, ink: RGB) -> None:
    """A small paper tag with ``label`` on it, its top centre at (x, y); ``size`` is text height."""
    if not label:
        return
    px, py = c.px(x, y)
    face = font(c.size(size), label)
    width = face.getlength(label)
    pad = c.size(size * 0.45)
    box = (px - width / 2 - pad, py, px + width / 2 + pad, py + c.size(size) + pad * 1.2)
    c.draw.rounded_rectangle(box, radius=pad, fill=paper, outline=ink, width=c.size(0.0025))
    c.draw.text((px, py + pad * 0.6), label, font=face, fill=ink, anchor="mt")
