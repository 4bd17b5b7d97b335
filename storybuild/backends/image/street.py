"""A town street seen from the pavement: a row of house fronts, shop awnings, cobbles.

A street is where a story's town happens, so it is painted close: facades fill the picture from
side to side and the sky shows only above the roofs, unlike ``scenery``'s far-off village.
"""

from __future__ import annotations

import numpy as np

from .canvas import Canvas, Light
from .palette import RGB, Palette, mix, shade
from .spec import SceneSpec

FRONTS: tuple[RGB, ...] = ((206, 184, 150), (176, 120, 96), (214, 204, 180), (150, 160, 170), (196, 160, 110),
                           (168, 176, 150))
AWNINGS: tuple[RGB, ...] = ((170, 50, 46), (46, 96, 80), (40, 70, 130))


def _facade(c: Canvas, pal: Palette, spec: SceneSpec, x0: float, x1: float, top: float, street: float,
            color: RGB, shopfront: bool, rng: np.random.Generator) -> None:
    lit = spec.time in ("night", "predawn", "dusk")
    c.poly([(x0, street), (x1, street), (x1, top), (x0, top)], color, outline=pal.ink, width=0.002)
    roof = shade(color, 0.55)
    c.poly([(x0 - 0.005, top), (x1 + 0.005, top), (x1 - (x1 - x0) * 0.1, top - 0.05),
            (x0 + (x1 - x0) * 0.1, top - 0.05)], roof, outline=pal.ink, width=0.002)
    columns = max(2, round((x1 - x0) / c.dx(0.09)))
    ground_floor = street - 0.17
    y = top + 0.04
    while y + 0.09 < ground_floor:
        for i in range(columns):
            wx = x0 + (x1 - x0) * (i + 0.5) / columns
            glass = pal.lamp if lit and rng.random() < 0.6 else mix(pal.sky_low, (60, 70, 90), 0.35)
            half = c.dx(0.022)
            c.poly([(wx - half, y), (wx + half, y), (wx + half, y + 0.07), (wx - half, y + 0.07)], glass,
                   outline=pal.ink, width=0.002)
            c.line([(wx - half * 1.3, y + 0.072), (wx + half * 1.3, y + 0.072)], shade(color, 0.7), 0.004)
        y += 0.11
    mid = (x0 + x1) / 2
    if shopfront:
        glass = mix(pal.lamp, (255, 240, 200), 0.3) if lit else mix(pal.sky_low, (80, 90, 100), 0.4)
        c.poly([(x0 + 0.01, street - 0.13), (x1 - 0.01, street - 0.13), (x1 - 0.01, street),
                (x0 + 0.01, street)], glass, outline=pal.ink, width=0.003)
        awning = AWNINGS[int(rng.integers(len(AWNINGS)))]
        stripes = 6
        for k in range(stripes):
            sx0, sx1 = x0 + (x1 - x0) * k / stripes, x0 + (x1 - x0) * (k + 1) / stripes
            tone = awning if k % 2 == 0 else (236, 230, 214)
            c.poly([(sx0, street - 0.18), (sx1, street - 0.18), (sx1 + 0.004, street - 0.13),
                    (sx0 + 0.004, street - 0.13)], tone, outline=pal.ink, width=0.0015)
        if lit:
            c.lights.append(Light(mid, street - 0.06, 0.12, pal.lamp, 0.6))
    else:
        half = c.dx(0.03)
        c.poly([(mid - half, street - 0.12), (mid + half, street - 0.12), (mid + half, street),
                (mid - half, street)], shade(color, 0.45), outline=pal.ink, width=0.002)


def _cobbles(c: Canvas, pal: Palette, top: float, rng: np.random.Generator) -> None:
    stone = mix(pal.near, (130, 124, 118), 0.8)
    c.poly([(0, top), (1, top), (1, 1), (0, 1)], stone)
    c.poly([(0, top), (1, top), (1, top + 0.025), (0, top + 0.025)], shade(stone, 1.2), outline=pal.ink, width=0.002)
    y, row = top + 0.04, 0
    while y < 1.0:
        height = 0.02 + (y - top) * 0.06
        c.line([(0, y), (1, y)], shade(stone, 0.7), 0.0015)
        step = c.dx(0.04 + (y - top) * 0.12)
        x = (step / 2) * (row % 2) + float(rng.uniform(0, 0.01))
        while x < 1.0:
            c.line([(x, y), (x, y + height)], shade(stone, 0.7), 0.0015)
            x += step
        y, row = y + height, row + 1


def _cafe_table(c: Canvas, pal: Palette, x: float, floor: float) -> None:
    top = floor - 0.12
    c.line([(x, top), (x, floor)], pal.ink, 0.005)
    c.oval(x, top, 0.08, 0.016, fill=(236, 232, 222), outline=pal.ink, width=0.002)
    c.poly([(x - c.dx(0.015), top - 0.025), (x + c.dx(0.01), top - 0.025), (x + c.dx(0.01), top - 0.004),
            (x - c.dx(0.015), top - 0.004)], (242, 238, 228), outline=pal.ink, width=0.0015)


def draw_street(c: Canvas, pal: Palette, spec: SceneSpec, rng: np.random.Generator) -> float:
    """House fronts side by side, the middle one a shop (a café if the place is one); returns the ground y."""
    street = 0.8
    x = -float(rng.uniform(0.0, 0.05))
    fronts: list[tuple[float, float]] = []
    while x < 1.0:
        width = c.dx(float(rng.uniform(0.3, 0.45)))
        fronts.append((x, x + width))
        x += width
    shop = min(range(len(fronts)), key=lambda i: abs(sum(fronts[i]) / 2 - 0.5))
    for i, (x0, x1) in enumerate(fronts):
        top = float(rng.uniform(0.08, 0.24))
        color = FRONTS[int(rng.integers(len(FRONTS)))]
        _facade(c, pal, spec, x0, x1, top, street, mix(color, pal.wall, 0.25), i == shop or rng.random() < 0.3, rng)
    _cobbles(c, pal, street, rng)
    if spec.place == "cafe":
        for tx in (0.28, 0.72):
            _cafe_table(c, pal, tx, 0.92)
    return 0.95


def draw_view_across(c: Canvas, pal: Palette, spec: SceneSpec, box: tuple[float, float, float, float],
                     rng: np.random.Generator) -> None:
    """The house fronts across the street, as a shop's or café's window shows them."""
    x0, y0, x1, y1 = box
    lit = spec.time in ("night", "predawn", "dusk")
    x = x0
    while x < x1:
        width = min(x1 - x, (x1 - x0) * float(rng.uniform(0.3, 0.5)))
        top = y0 + (y1 - y0) * float(rng.uniform(0.25, 0.45))
        front = mix(FRONTS[int(rng.integers(len(FRONTS)))], pal.sky_low, 0.35)
        c.poly([(x, y1), (x + width, y1), (x + width, top), (x, top)], front, outline=shade(front, 0.7), width=0.0015)
        for row in range(2):
            wy = top + 0.03 + row * 0.07
            if wy + 0.04 > y1:
                break
            for k in range(2):
                wx = x + width * (0.3 + 0.4 * k)
                if wx + c.dx(0.014) > x1:
                    continue
                glass = pal.lamp if lit and rng.random() < 0.6 else mix(pal.sky_low, (60, 70, 90), 0.45)
                c.poly([(wx - c.dx(0.012), wy), (wx + c.dx(0.012), wy), (wx + c.dx(0.012), wy + 0.04),
                        (wx - c.dx(0.012), wy + 0.04)], glass)
        x += width
