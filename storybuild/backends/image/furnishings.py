"""What makes a room a bakery, a café, a library: the furniture the kind of place is known by.

Each furnisher paints over a room whose wall, window and floor ``interiors`` already laid down;
``window_side`` is the side the window took, so the big piece (an oven, a counter, shelves) goes to
the other one. A furnisher returns where it leaves room for the characters (``stage_x``).
"""

from __future__ import annotations

import math

import numpy as np

from .canvas import Canvas, Light
from .palette import RGB, Palette, mix, shade

BREAD: RGB = (196, 138, 72)
BRICK: RGB = (150, 70, 50)
WOOD: RGB = (128, 84, 52)
CUP: RGB = (242, 238, 228)
SPINES: tuple[RGB, ...] = ((150, 48, 44), (46, 82, 130), (60, 110, 70), (180, 140, 60), (100, 60, 110), (120, 74, 44))


def _rect(c: Canvas, x0: float, y0: float, x1: float, y1: float, fill, ink: RGB | None = None, width: float = 0.002) -> None:
    c.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], fill, outline=ink, width=width if ink else 0.0)


def _shelf_of(c: Canvas, pal: Palette, x0: float, x1: float, y: float, items, rng: np.random.Generator) -> None:
    """A shelf board at ``y`` with ``items(x, y)`` painted along it."""
    _rect(c, x0, y, x1, y + 0.018, shade(WOOD, 0.8), pal.ink)
    x = x0 + 0.015
    while x < x1 - 0.03:
        x += items(x, y, rng)


def _loaf(c: Canvas, pal: Palette, x: float, y: float, rng: np.random.Generator) -> float:
    size = float(rng.uniform(0.03, 0.045))
    color = mix(BREAD, (120, 70, 36), float(rng.uniform(0, 0.5)))
    c.oval(x + c.dx(size), y - size * 0.55, size, size * 0.55, fill=color, outline=pal.ink, width=0.0015)
    for k in (-0.4, 0.0, 0.4):  # the baker's slashes
        c.line([(x + c.dx(size * (1 + k) - 0.006), y - size * 0.8), (x + c.dx(size * (1 + k) + 0.006), y - size * 0.5)],
               shade(color, 1.25), 0.002)
    return c.dx(size * 2.2)


def _counter(c: Canvas, pal: Palette, x0: float, x1: float, top: float, bottom: float) -> None:
    _rect(c, x0, top, x1, bottom, shade(WOOD, 0.9), pal.ink, 0.003)
    _rect(c, x0 - 0.01, top - 0.015, x1 + 0.01, top + 0.005, shade(WOOD, 1.2), pal.ink, 0.002)
    for i in range(1, 4):
        x = x0 + (x1 - x0) * i / 4
        c.line([(x, top + 0.02), (x, bottom - 0.01)], shade(WOOD, 0.7), 0.002)


def _oven(c: Canvas, pal: Palette, x: float, floor: float) -> None:
    """A wood-fired brick oven: a dome on a base, its mouth glowing with the fire inside."""
    half = c.dx(0.2)
    _rect(c, x - half, floor - 0.2, x + half, floor, shade(BRICK, 0.8), pal.ink, 0.003)
    c.draw.pieslice(c.box(x, floor - 0.2, 0.2, 0.2), 180, 360, fill=BRICK, outline=pal.ink, width=c.size(0.003))
    for row in range(1, 5):  # brick courses on the base
        y = floor - 0.2 + row * 0.04
        c.line([(x - half, y), (x + half, y)], shade(BRICK, 0.6), 0.002)
    mouth = c.dx(0.08)
    c.draw.pieslice(c.box(x, floor - 0.2, 0.08, 0.09), 180, 360, fill=(40, 20, 14))
    for dx, height, flame in ((-0.03, 0.05, (236, 110, 50)), (0.02, 0.06, (250, 170, 60)), (0.0, 0.075, (255, 214, 96))):
        c.poly([(x + c.dx(dx) - mouth * 0.3, floor - 0.2), (x + c.dx(dx) + mouth * 0.3, floor - 0.2),
                (x + c.dx(dx), floor - 0.2 - height)], flame)
    c.poly([(x - c.dx(0.025), floor - 0.38), (x + c.dx(0.025), floor - 0.38), (x + c.dx(0.025), 0.0),
            (x - c.dx(0.025), 0.0)], shade(BRICK, 0.7), outline=pal.ink, width=0.002)  # the flue
    c.lights.append(Light(x, floor - 0.24, 0.3, (255, 150, 60), 0.95))


def bakery(c: Canvas, pal: Palette, floor: float, window_side: int, rng: np.random.Generator) -> float:
    """A brick oven aglow, shelves of loaves, a counter with bread and a basket."""
    oven_x = 0.5 - window_side * 0.3
    _oven(c, pal, oven_x, floor)
    shelf_x0, shelf_x1 = (0.36, 0.64)
    for y in (0.2, 0.32):
        _shelf_of(c, pal, shelf_x0, shelf_x1, y, lambda x, y, r: _loaf(c, pal, x, y, r), rng)
    top = floor + 0.02
    cx0, cx1 = (0.5 + window_side * 0.05, 0.5 + window_side * 0.42)
    _counter(c, pal, min(cx0, cx1), max(cx0, cx1), top, 0.99)
    x = min(cx0, cx1) + 0.02
    while x < max(cx0, cx1) - 0.06:
        x += _loaf(c, pal, x, top - 0.012, rng) + 0.01
    return 0.5


def _table_with_cups(c: Canvas, pal: Palette, x: float, floor: float, size: float) -> None:
    top = floor - size * 0.55
    c.line([(x, top), (x, floor)], shade(pal.ink, 1.5), 0.006)
    c.line([(x - c.dx(size * 0.2), floor), (x + c.dx(size * 0.2), floor)], pal.ink, 0.005)
    c.oval(x, top, size * 0.38, size * 0.07, fill=(236, 232, 222), outline=pal.ink, width=0.002)
    for dx in (-0.16, 0.14):
        cx = x + c.dx(size * dx)
        _rect(c, cx - c.dx(size * 0.05), top - size * 0.1, cx + c.dx(size * 0.05), top - size * 0.01, CUP, pal.ink, 0.0015)
        c.oval(cx + c.dx(size * 0.065), top - size * 0.06, size * 0.025, fill=None, outline=pal.ink, width=0.002)
    for side in (-1, 1):  # bentwood chairs
        chair_x = x + side * c.dx(size * 0.55)
        c.line([(chair_x, floor), (chair_x, top - size * 0.25)], shade(WOOD, 0.6), 0.005)
        c.line([(chair_x, top + size * 0.12), (chair_x - side * c.dx(size * 0.18), top + size * 0.12)],
               shade(WOOD, 0.6), 0.006)
        c.line([(chair_x - side * c.dx(size * 0.18), top + size * 0.12), (chair_x - side * c.dx(size * 0.18), floor)],
               shade(WOOD, 0.6), 0.004)


def cafe(c: Canvas, pal: Palette, floor: float, window_side: int, rng: np.random.Generator) -> float:
    """Little round tables with cups, a counter with a coffee machine, a chalkboard, hanging lamps."""
    board_x = 0.5 - window_side * 0.32
    _rect(c, board_x - c.dx(0.12), 0.14, board_x + c.dx(0.12), 0.36, (40, 48, 44), shade(WOOD, 0.8), 0.008)
    for i in range(4):  # the menu in chalk
        y = 0.18 + i * 0.045
        c.line([(board_x - c.dx(0.09), y), (board_x + c.dx(0.05 + 0.03 * (i % 2)), y)], (226, 226, 216), 0.003)
    counter_x0, counter_x1 = sorted((0.5 - window_side * 0.1, 0.5 - window_side * 0.48))
    _counter(c, pal, counter_x0, counter_x1, floor - 0.16, floor + 0.02)
    mx = (counter_x0 + counter_x1) / 2
    _rect(c, mx - c.dx(0.05), floor - 0.27, mx + c.dx(0.05), floor - 0.175, (170, 172, 178), pal.ink, 0.002)
    c.oval(mx, floor - 0.27, 0.02, 0.008, fill=(120, 120, 126))
    for x in (0.3, 0.7):  # hanging lamps
        c.line([(x, 0.0), (x, 0.08)], pal.ink, 0.002)
        c.draw.pieslice(c.box(x, 0.1, 0.04, 0.03), 180, 360, fill=(70, 110, 90), outline=pal.ink)
        c.lights.append(Light(x, 0.11, 0.12, pal.lamp, 0.6))
    for x in (0.5 + window_side * 0.12, 0.5 + window_side * 0.36):
        _table_with_cups(c, pal, x, 0.95, 0.22)
    return 0.5


def _book_row(c: Canvas, x0: float, x1: float, base: float, height: float, ink: RGB, rng: np.random.Generator) -> None:
    x = x0
    while x < x1:
        w, h = c.dx(float(rng.uniform(0.012, 0.022))), height * float(rng.uniform(0.7, 1.0))
        w = min(w, x1 - x)
        _rect(c, x, base - h, x + w, base, SPINES[int(rng.integers(len(SPINES)))], ink, 0.001)
        x += w


def library(c: Canvas, pal: Palette, floor: float, window_side: int, rng: np.random.Generator) -> float:
    """Shelves of books from floor to ceiling on the wall without the window, a reading table."""
    x0, x1 = sorted((0.5 - window_side * 0.08, 0.5 - window_side * 0.5))
    _rect(c, x0, 0.04, x1, floor, shade(WOOD, 0.6), pal.ink, 0.003)
    y = 0.06
    while y + 0.12 < floor:
        _book_row(c, x0 + 0.01, x1 - 0.01, y + 0.12, 0.11, pal.ink, rng)
        _rect(c, x0, y + 0.12, x1, y + 0.135, shade(WOOD, 0.8))
        y += 0.135
    return 0.5 + window_side * 0.22


def kitchen(c: Canvas, pal: Palette, floor: float, window_side: int, rng: np.random.Generator) -> float:
    """A cast-iron stove with pots, pans on hooks, a scrubbed table."""
    x = 0.5 - window_side * 0.3
    half = c.dx(0.14)
    _rect(c, x - half, floor - 0.22, x + half, floor + 0.02, (52, 50, 54), pal.ink, 0.003)
    _rect(c, x - half * 0.6, floor - 0.14, x + half * 0.6, floor - 0.04, (90, 40, 26), pal.ink, 0.002)
    c.lights.append(Light(x, floor - 0.09, 0.14, (255, 150, 60), 0.7))
    for dx in (-0.5, 0.45):
        px = x + half * dx
        _rect(c, px - c.dx(0.04), floor - 0.3, px + c.dx(0.04), floor - 0.22, (150, 150, 156), pal.ink, 0.002)
    for i in range(3):  # pans on hooks
        hx = 0.36 + i * 0.1
        c.line([(hx, 0.06), (hx, 0.12)], pal.ink, 0.002)
        c.oval(hx, 0.16, 0.035, fill=shade((150, 100, 70), 0.8 + 0.1 * i), outline=pal.ink, width=0.002)
    tx = 0.5 + window_side * 0.25
    _rect(c, tx - c.dx(0.18), floor - 0.02, tx + c.dx(0.18), floor + 0.01, shade(WOOD, 1.2), pal.ink, 0.002)
    for leg in (-0.16, 0.16):
        c.line([(tx + c.dx(leg), floor + 0.01), (tx + c.dx(leg), 0.98)], shade(WOOD, 0.7), 0.006)
    return 0.5


def shop(c: Canvas, pal: Palette, floor: float, window_side: int, rng: np.random.Generator) -> float:
    """Shelves of jars and boxes behind a counter."""
    x0, x1 = sorted((0.5 - window_side * 0.06, 0.5 - window_side * 0.48))

    def goods(x: float, y: float, r: np.random.Generator) -> float:
        w, h = c.dx(float(r.uniform(0.02, 0.035))), float(r.uniform(0.04, 0.07))
        _rect(c, x, y - h, x + w, y, SPINES[int(r.integers(len(SPINES)))], pal.ink, 0.0015)
        return w + 0.006

    for y in (0.2, 0.34, 0.48):
        _shelf_of(c, pal, x0, x1, y, goods, rng)
    _counter(c, pal, x0, x1, floor - 0.06, 0.99)
    return 0.5 + window_side * 0.24


def tavern(c: Canvas, pal: Palette, floor: float, window_side: int, rng: np.random.Generator) -> float:
    """Barrels stacked by the wall and a long table with tankards."""
    x = 0.5 - window_side * 0.34
    for row, count in ((0, 3), (1, 2)):
        for i in range(count):
            bx = x + c.dx((i - (count - 1) / 2) * 0.13)
            by = floor - 0.06 - row * 0.11
            c.oval(bx, by, 0.06, 0.055, fill=WOOD, outline=pal.ink, width=0.003)
            c.oval(bx, by, 0.035, 0.03, fill=shade(WOOD, 1.2), outline=shade(WOOD, 0.6), width=0.002)
    tx = 0.5 + window_side * 0.2
    _rect(c, tx - c.dx(0.28), floor + 0.01, tx + c.dx(0.28), floor + 0.04, shade(WOOD, 1.1), pal.ink, 0.002)
    for k in (-0.18, 0.0, 0.15):
        _rect(c, tx + c.dx(k) - c.dx(0.02), floor - 0.04, tx + c.dx(k) + c.dx(0.02), floor + 0.01, (150, 150, 150), pal.ink, 0.0015)
    return 0.5


def barn(c: Canvas, pal: Palette, floor: float, window_side: int, rng: np.random.Generator) -> float:
    """Bales of hay, a cross-braced stall door, a beam overhead."""
    _rect(c, 0.0, 0.06, 1.0, 0.1, shade(WOOD, 0.6), pal.ink, 0.002)
    hay = (214, 182, 96)
    x = 0.5 - window_side * 0.3
    for row, count in ((0, 3), (1, 2)):
        for i in range(count):
            bx = x + c.dx((i - (count - 1) / 2) * 0.2)
            top = floor - 0.09 * (row + 1)
            _rect(c, bx - c.dx(0.1), top, bx + c.dx(0.1), top + 0.09, mix(hay, pal.wall, 0.1), shade(hay, 0.6), 0.002)
            for k in range(6):
                sx = bx - c.dx(0.09) + c.dx(0.03) * k + c.dx(float(rng.uniform(0, 0.01)))
                c.line([(sx, top + 0.01), (sx + c.dx(0.01), top + 0.08)], shade(hay, 0.75), 0.0015)
    dx = 0.5 + window_side * 0.3
    _rect(c, dx - c.dx(0.14), floor - 0.2, dx + c.dx(0.14), floor + 0.02, shade(WOOD, 1.1), pal.ink, 0.003)
    c.line([(dx - c.dx(0.14), floor - 0.2), (dx + c.dx(0.14), floor + 0.02)], shade(WOOD, 0.7), 0.006)
    c.line([(dx + c.dx(0.14), floor - 0.2), (dx - c.dx(0.14), floor + 0.02)], shade(WOOD, 0.7), 0.006)
    return 0.5


FURNISHERS = {"bakery": bakery, "cafe": cafe, "library": library, "kitchen": kitchen, "shop": shop,
              "tavern": tavern, "barn": barn}


def wall_clock(c: Canvas, pal: Palette, x: float, y: float) -> None:
    """A round clock on the wall (a prop many rooms name)."""
    c.oval(x, y, 0.045, fill=(236, 226, 200), outline=pal.ink, width=0.004)
    for hour in range(12):
        a = hour * math.pi / 6
        c.line([(x + c.dx(0.036 * math.cos(a)), y + 0.036 * math.sin(a)),
                (x + c.dx(0.04 * math.cos(a)), y + 0.04 * math.sin(a))], pal.ink, 0.002)
    c.line([(x, y), (x, y - 0.03)], pal.ink, 0.003)
    c.line([(x, y), (x + c.dx(0.02), y + 0.005)], pal.ink, 0.003)
