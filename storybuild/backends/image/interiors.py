"""Indoor scenery: a spiral stair, a lighthouse lamp room, a workshop, or a room furnished as its place.

A room of a known kind (bakery, café, library, kitchen, shop, tavern, barn) takes its window to one
side and lets ``furnishings`` put the kind's furniture on the other; a plain room keeps its window
in the middle.

Rooms are painted over the sky that :func:`scenery.draw_sky` already laid down, so windows
simply leave the sky showing through: what the window shows always matches the time of day.
"""

from __future__ import annotations

import math

import numpy as np

from .canvas import Canvas, Light
from .furnishings import FURNISHERS, wall_clock
from .street import draw_view_across
from .palette import RGB, Palette, mix, shade
from .scenery import draw_weather
from .spec import SceneSpec

BRASS: RGB = (190, 148, 66)
TOWN_ROOMS = ("cafe", "bakery", "shop", "tavern")  # their windows look across a street
GLASS: RGB = (170, 206, 204)


def draw_interior(c: Canvas, pal: Palette, spec: SceneSpec, rng: np.random.Generator) -> float:
    """Paint the room the spec names; returns the y where figures should stand."""
    painter = {"stairs": _stairs, "lamp_room": _lamp_room, "workshop": _workshop}.get(spec.room, _room)
    ground = painter(c, pal, spec, rng)
    if spec.candle and spec.room != "workshop":
        draw_candle(c, pal, float(rng.choice([0.1, 0.9])), ground - 0.12, 0.05)
    return ground


def _wall(c: Canvas, color: RGB, top: float, bottom: float, curved: bool) -> None:
    """A wall in vertical strips, darker toward the sides when ``curved`` (a round tower)."""
    strips = 24
    for i in range(strips):
        x0, x1 = i / strips, (i + 1) / strips + 0.002
        light = 0.55 + 0.45 * math.sin(math.pi * (i + 0.5) / strips) if curved else 1.0 - 0.03 * (i % 2)
        c.poly([(x0, top), (x1, top), (x1, bottom), (x0, bottom)], shade(color, light))


def _stone_courses(c: Canvas, color: RGB, top: float, bottom: float, rng: np.random.Generator) -> None:
    """Mortar lines of a stone wall: courses of blocks, every other course offset by half a block."""
    seam, block, course = (*shade(color, 0.55), 120), c.dx(0.22), 0.07
    y, row = top, 0
    while y < bottom:
        c.line([(0, y), (1, y)], seam, 0.002)
        for i in range(int(1 / block) + 2):
            x = (i + (0.5 if row % 2 else 0.0)) * block + float(rng.uniform(-0.005, 0.005))
            c.line([(x, y), (x, min(bottom, y + course))], seam, 0.002)
        y, row = y + course, row + 1
    for _ in range(5):  # damp: dark streaks running down the stone
        x = float(rng.uniform(0.05, 0.95))
        c.poly([(x, top), (x + 0.012, top), (x + 0.006, bottom), (x - 0.004, bottom)], (*shade(color, 0.6), 60))


def _floor(c: Canvas, color: RGB, top: float, planks: bool) -> None:
    c.poly([(0, top), (1, top), (1, 1), (0, 1)], color)
    if planks:  # boards converge on a vanishing point above the picture's centre
        for i in range(-6, 7):
            c.line([(0.5 + i * 0.02, top), (0.5 + i * 0.16, 1.0)], shade(color, 0.75), 0.002)


def _stairs(c: Canvas, pal: Palette, spec: SceneSpec, rng: np.random.Generator) -> float:
    _wall(c, pal.wall, 0.0, 1.0, curved=True)
    _stone_courses(c, pal.wall, 0.0, 1.0, rng)
    _floor(c, shade(pal.floor, 0.8), 0.9, planks=False)
    side = 1 if rng.random() < 0.5 else -1
    x, c.stage_x = 0.5 + side * 0.14, 0.5 - side * 0.26
    iron = mix(pal.ink, pal.wall, 0.3)
    start = float(rng.uniform(0, math.tau))
    steps = [(start + i * 0.5, 0.93 - i * 0.062) for i in range(18)]
    for front in (False, True):  # back half, the central column, then the front half over it
        if front:
            half = c.dx(0.022)
            c.poly([(x - half, 0), (x + half, 0), (x + half, 1), (x - half, 1)], iron, outline=pal.ink, width=0.002)
        run: list[tuple[float, float]] = []
        for angle, y in steps:
            if (math.sin(angle) > 0) != front:
                _rail(c, iron, run)
                run = []
                continue
            post = _stair_step(c, pal, iron, x, angle, y)
            run.append(post)
        _rail(c, iron, run)
    swing = float(rng.uniform(-0.05, 0.05))
    hook = x - side * c.dx(0.34)
    draw_lantern(c, pal, hook + swing, 0.34, 0.1, chain_from=(hook, 0.0))
    return 0.95


def _stair_step(c: Canvas, pal: Palette, iron: RGB, x: float, angle: float, y: float) -> tuple[float, float]:
    """One wedge of the spiral seen a little from above; returns the top of its baluster."""
    radius, tilt, thick = 0.46, 0.05, 0.018
    front = math.sin(angle) > 0
    top = mix(shade(iron, 2.2), pal.lamp, 0.15) if front else shade(iron, 1.5)
    arc = [(x + c.dx(radius * math.cos(a)), y + tilt * math.sin(a)) for a in np.linspace(angle - 0.26, angle + 0.26, 6)]
    if front:  # the tread's thickness shows only on the side facing us
        c.poly(arc + [(px, py + thick) for px, py in reversed(arc)], shade(iron, 0.9), outline=pal.ink, width=0.0015)
    c.poly([(x, y)] + arc, top, outline=pal.ink, width=0.0015)
    end = arc[len(arc) // 2]
    c.line([end, (end[0], end[1] - 0.11)], iron, 0.003)
    return end[0], end[1] - 0.11


def _rail(c: Canvas, iron: RGB, posts: list[tuple[float, float]]) -> None:
    if len(posts) > 1:
        c.line(posts, shade(iron, 0.8), 0.005)


def draw_lantern(c: Canvas, pal: Palette, x: float, y: float, size: float,
                 chain_from: tuple[float, float] | None = None) -> None:
    """An oil lantern (hanging on a chain if ``chain_from`` is given) and its glow."""
    if chain_from:
        c.line([chain_from, (x, y - size * 0.6)], pal.ink, 0.003)
    half = c.dx(size * 0.3)
    c.poly([(x - half, y - size * 0.35), (x + half, y - size * 0.35), (x, y - size * 0.6)], pal.ink)
    c.poly([(x - half, y - size * 0.35), (x + half, y - size * 0.35), (x + half * 0.8, y + size * 0.3),
            (x - half * 0.8, y + size * 0.3)], mix(pal.lamp, (255, 255, 230), 0.4), outline=pal.ink, width=0.003)
    c.poly([(x - half * 1.1, y + size * 0.3), (x + half * 1.1, y + size * 0.3), (x + half, y + size * 0.4),
            (x - half, y + size * 0.4)], pal.ink)
    c.lights.append(Light(x, y, size * 5.5, pal.lamp, 0.75))


def draw_candle(c: Canvas, pal: Palette, x: float, y: float, size: float) -> None:
    """A candle standing at (x, y) with a flame and a warm glow around it."""
    half = c.dx(size * 0.12)
    c.poly([(x - half, y), (x + half, y), (x + half, y - size), (x - half, y - size)], (238, 226, 196),
           outline=pal.ink, width=0.0015)
    c.oval(x, y - size * 1.18, size * 0.07, size * 0.16, fill=(255, 214, 120))
    c.oval(x, y - size * 1.12, size * 0.03, size * 0.07, fill=(255, 250, 220))
    c.lights.append(Light(x, y - size * 1.2, size * 5.0, pal.lamp, 0.7))


def _lamp_room(c: Canvas, pal: Palette, spec: SceneSpec, rng: np.random.Generator) -> float:
    sill, floor_top = 0.6, 0.8
    if spec.fog:
        c.soft_band(0.35, 0.3, pal.fog, 0.8, rng)
    draw_weather(c, pal, spec, rng, box=(0.0, 0.0, 1.0, sill))
    iron = mix(pal.ink, pal.wall, 0.2)
    panes = max(4, round(5 * c.aspect))
    for i in range(panes + 1):
        x = i / panes
        c.line([(x, 0), (x, sill)], iron, 0.012)
    c.line([(0, sill * 0.5), (1, sill * 0.5)], iron, 0.006)
    c.poly([(0, 0), (1, 0), (1, 0.05), (0, 0.05)], iron)
    _wall(c, shade(pal.wall, 0.85), sill, floor_top, curved=True)
    _floor(c, shade(pal.floor, 0.7), floor_top, planks=False)
    lens_x = 0.5 + float(rng.choice([-0.12, 0.12]))
    c.stage_x = 1.0 - lens_x  # characters beside the lens, not in front of it
    _draw_lens(c, pal, spec, lens_x, 0.1, 0.72, 0.19)
    return 0.95


def _draw_lens(c: Canvas, pal: Palette, spec: SceneSpec, x: float, top: float, bottom: float, half: float) -> None:
    """The great Fresnel lens: a barrel of glass rings in brass bands on an iron pedestal."""
    c.poly([(x - c.dx(half * 0.5), bottom), (x + c.dx(half * 0.5), bottom), (x + c.dx(half * 0.7), 0.86),
            (x - c.dx(half * 0.7), 0.86)], mix(pal.ink, pal.wall, 0.3), outline=pal.ink, width=0.002)
    lit = spec.lit and not spec.match  # a girl holding a match means the lamp is not lit yet
    rings = 11
    for i in range(rings):
        t = (i + 0.5) / rings
        y = top + (bottom - top) * t
        w = half * (0.55 + 0.45 * math.sin(math.pi * t))
        glass = mix(GLASS, pal.lamp, 0.6) if lit else mix(GLASS, pal.fog, 0.35)
        c.oval(x, y, w, (bottom - top) / rings * 0.75, fill=(*glass, 210), outline=BRASS, width=0.003)
    c.poly([(x - c.dx(half * 0.06), top), (x + c.dx(half * 0.06), top), (x + c.dx(half * 0.06), bottom),
            (x - c.dx(half * 0.06), bottom)], (*BRASS, 200))
    c.oval(x, top, half * 0.6, 0.025, fill=BRASS, outline=pal.ink, width=0.002)
    # Highlights on the glass: the lens should look like it holds light even when dark.
    c.line([(x - c.dx(half * 0.55), top + 0.08), (x - c.dx(half * 0.7), (top + bottom) / 2),
            (x - c.dx(half * 0.55), bottom - 0.08)], (255, 255, 255, 110), 0.006)
    if lit:
        c.lights.append(Light(x, (top + bottom) / 2, 0.35, pal.lamp, 0.9))


def _window(c: Canvas, pal: Palette, box: tuple[float, float, float, float]) -> None:
    """Leave the sky showing through ``box``: paint the wall around it first, then call this for the frame."""
    x0, y0, x1, y1 = box
    frame = shade(pal.wall, 0.55)
    c.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], None, outline=frame, width=0.012)
    c.line([((x0 + x1) / 2, y0), ((x0 + x1) / 2, y1)], frame, 0.007)
    c.line([(x0, (y0 + y1) / 2), (x1, (y0 + y1) / 2)], frame, 0.007)


def _wall_around(c: Canvas, color: RGB, box: tuple[float, float, float, float], bottom: float) -> None:
    x0, y0, x1, y1 = box
    for part in ((0, 0, 1, y0), (0, y1, 1, bottom), (0, y0, x0, y1), (x1, y0, 1, y1)):
        c.poly([(part[0], part[1]), (part[2], part[1]), (part[2], part[3]), (part[0], part[3])], color)


def _planks(c: Canvas, color: RGB, bottom: float) -> None:
    for i in range(int(16 * c.aspect)):
        x = i / (16 * c.aspect)
        c.line([(x, 0), (x, bottom)], (*shade(color, 0.7), 140), 0.003)


def _workshop(c: Canvas, pal: Palette, spec: SceneSpec, rng: np.random.Generator) -> float:
    bench_top, floor_top = 0.62, 0.82
    window = (0.06, 0.1, 0.06 + c.dx(0.3), 0.4) if rng.random() < 0.5 else (0.94 - c.dx(0.3), 0.1, 0.94, 0.4)
    _wall_around(c, pal.wall, window, floor_top)
    _planks(c, pal.wall, floor_top)
    _window(c, pal, window)
    _floor(c, pal.floor, floor_top, planks=True)
    shelf = shade(pal.wall, 0.6)
    c.poly([(0.3, 0.3), (0.7, 0.3), (0.7, 0.32), (0.3, 0.32)], shelf)
    for i in range(5):  # jars and a clock on the shelf
        x = 0.33 + i * 0.08
        if i == 2:
            c.oval(x, 0.245, 0.05, fill=(236, 226, 200), outline=pal.ink, width=0.003)
            c.line([(x, 0.245), (x, 0.215)], pal.ink, 0.003)
            c.line([(x, 0.245), (x + c.dx(0.02), 0.255)], pal.ink, 0.003)
        else:
            jar = ((96, 140, 120), (150, 90, 60), (200, 170, 90), (110, 120, 160))[i % 4]
            c.poly([(x - 0.015, 0.3), (x + 0.015, 0.3), (x + 0.015, 0.25), (x - 0.015, 0.25)],
                   jar, outline=pal.ink, width=0.0015)
            c.poly([(x - 0.012, 0.25), (x + 0.012, 0.25), (x + 0.012, 0.24), (x - 0.012, 0.24)], pal.ink)
    for _ in range(4):
        c.gear(float(rng.uniform(0.22, 0.78)), float(rng.uniform(0.4, 0.55)), float(rng.uniform(0.03, 0.06)),
               int(rng.integers(8, 14)), shade(BRASS, 0.8), shade(BRASS, 0.45), float(rng.uniform(0, 1)))
    _bench(c, pal, bench_top, rng)
    draw_candle(c, pal, 0.8 if window[0] < 0.5 else 0.2, bench_top + 0.01, 0.09)
    return 0.95


def _bench(c: Canvas, pal: Palette, top: float, rng: np.random.Generator) -> None:
    wood = mix(pal.floor, (150, 100, 60), 0.4)
    for leg in (0.04, 0.92):
        c.poly([(leg, top + 0.08), (leg + 0.04, top + 0.08), (leg + 0.04, 0.95), (leg, 0.95)], shade(wood, 0.6))
    c.poly([(0.02, top + 0.02), (0.98, top + 0.02), (0.98, top + 0.09), (0.02, top + 0.09)], shade(wood, 0.8),
           outline=pal.ink, width=0.003)
    c.poly([(0.05, top - 0.01), (0.95, top - 0.01), (0.98, top + 0.02), (0.02, top + 0.02)], wood)
    for _ in range(7):
        c.gear(float(rng.uniform(0.1, 0.9)), top + 0.0, float(rng.uniform(0.012, 0.028)), int(rng.integers(7, 12)),
               BRASS, shade(BRASS, 0.5), float(rng.uniform(0, 1)))
    for _ in range(2):  # coiled springs
        x = float(rng.uniform(0.15, 0.85))
        coil = [(x + c.dx(0.012 * math.cos(a)), top - 0.015 + 0.006 * math.sin(a) - a * 0.0015)
                for a in np.linspace(0, 6 * math.pi, 40)]
        c.line(coil, (150, 150, 160), 0.002)


def _fireplace(c: Canvas, pal: Palette, x: float, floor: float) -> None:
    """A stone hearth with three tongues of flame and the glow they throw into the room."""
    c.poly([(x - 0.1, floor + 0.02), (x + 0.1, floor + 0.02), (x + 0.1, 0.5), (x - 0.1, 0.5)],
           shade(pal.wall, 0.6), outline=pal.ink, width=0.003)
    c.poly([(x - 0.06, floor + 0.02), (x + 0.06, floor + 0.02), (x + 0.06, 0.6), (x - 0.06, 0.6)], pal.ink)
    for dx, height, flame in ((-0.03, 0.09, (236, 110, 50)), (0.03, 0.1, (250, 170, 60)), (0.0, 0.13, (255, 210, 90))):
        c.poly([(x + dx - 0.022, floor), (x + dx + 0.022, floor), (x + dx, floor - height)], flame)
    c.lights.append(Light(x, floor - 0.05, 0.4, pal.lamp, 0.9))


def _snow_on_sill(c: Canvas, box: tuple[float, float, float, float], rng: np.random.Generator) -> None:
    """Snow heaped on the sill and in the bottom corners of the panes."""
    x0, y0, x1, y1 = box
    points = [(x0, y1)] + [(x0 + (x1 - x0) * t, y1 - 0.012 - 0.01 * float(rng.random())) for t in np.linspace(0, 1, 9)]
    c.poly(points + [(x1, y1), (x1, y1 + 0.015), (x0, y1 + 0.015)], (246, 248, 252))
    for cx in (x0, (x0 + x1) / 2, x1):
        c.oval(cx, (y0 + y1) / 2 - 0.008, 0.02, 0.01, fill=(240, 244, 250, 200))


def _room(c: Canvas, pal: Palette, spec: SceneSpec, rng: np.random.Generator) -> float:
    floor_top = 0.76
    furnish = FURNISHERS.get(spec.room)
    side = 0
    if furnish is None:
        window = (0.5 - c.dx(0.16), 0.12, 0.5 + c.dx(0.16), 0.46)
    else:
        side = 1 if rng.random() < 0.5 else -1
        centre = 0.5 + side * 0.3
        window = (centre - c.dx(0.2), 0.1, centre + c.dx(0.2), 0.5)
    _wall_around(c, pal.wall, window, floor_top)
    if spec.room == "barn":
        _planks(c, pal.wall, floor_top)
    if spec.room in TOWN_ROOMS:
        draw_view_across(c, pal, spec, window, rng)
    draw_weather(c, pal, spec, rng, box=window)
    _window(c, pal, window)
    if spec.snow:
        _snow_on_sill(c, window, rng)
    _floor(c, pal.floor, floor_top, planks=True)
    if furnish is not None:
        c.stage_x = furnish(c, pal, floor_top, side, rng)
        if spec.lantern and spec.room != "cafe":
            draw_lantern(c, pal, 0.5 + side * 0.08, 0.3, 0.07, chain_from=(0.5 + side * 0.08, 0.0))
        if "clock" in spec.props:
            wall_clock(c, pal, 0.5, 0.12)
        return 0.95
    if "clock" in spec.props:
        wall_clock(c, pal, 0.2, 0.2)
    if spec.fire:
        x = 0.18 if rng.random() < 0.5 else 0.82
        c.stage_x = 1.0 - x
        _fireplace(c, pal, x, floor_top)
    elif spec.lantern or spec.time in ("night", "predawn", "dusk"):
        draw_lantern(c, pal, 0.82, 0.5, 0.08, chain_from=(0.82, 0.0))
    return 0.95
