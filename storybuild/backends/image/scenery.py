"""Outdoor scenery, painted back to front: sky, far hills, water or forest, near ground, weather.

Each layer is mixed a little toward the fog/sky colour the further away it is (aerial
perspective); that, more than detail, is what makes flat silhouettes read as depth.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .canvas import Canvas, Light
from .palette import RGB, Palette, mix, shade
from .spec import SceneSpec


def draw_sky(c: Canvas, pal: Palette, spec: SceneSpec, rng: np.random.Generator) -> None:
    """Fill the canvas with a sky gradient, the sun's or moon's glow, and stars at night."""
    ys = np.linspace(0.0, 1.0, c.h, dtype=np.float32)
    xs = np.linspace(0.0, c.aspect, c.w, dtype=np.float32)
    top, low = (np.asarray(col, dtype=np.float32) for col in (pal.sky_top, pal.sky_low))
    base = top + (low - top) * (np.clip(ys / spec.horizon, 0.0, 1.0) ** 1.4)[:, None]

    c.sun_x = float(rng.uniform(0.22, 0.78))
    sun_y, radius, strength = _sun_height(spec)
    dx = xs - c.sun_x * c.aspect
    # A round glow is separable: exp(-(dx²+dy²)) = exp(-dx²)·exp(-dy²), two 1-D passes and an outer product.
    if spec.time == "predawn":  # no sun yet: a wide band of light along the horizon
        gx, gy = np.exp(-((dx * 0.35) ** 2) / radius**2), np.exp(-6 * (ys - spec.horizon) ** 2 / radius**2)
    else:
        gx, gy = np.exp(-(dx**2) / radius**2), np.exp(-((ys - sun_y) ** 2) / radius**2)
    # Channel by channel (an (h, w) outer product each): numpy is slow on a trailing axis of 3.
    planes = []
    for channel in range(3):
        lift = (pal.sun[channel] - base[:, channel]) * gy * strength
        plane = base[:, channel, None] + lift[:, None] * gx[None, :]
        planes.append(Image.fromarray(plane.astype(np.uint8), "L"))
    c.image.paste(Image.merge("RGB", planes))

    if spec.time == "night":
        _draw_stars(c, pal, rng, spec.horizon)
    c.sun_visible = spec.time in ("dawn", "day", "dusk")
    if spec.time in ("night", "dawn", "day", "dusk") and not (spec.fog and spec.time == "day"):
        disc = mix(pal.sun, (255, 255, 255), 0.5)
        c.oval(c.sun_x, sun_y, 0.055 if spec.time != "night" else 0.04, fill=disc)


def _sun_height(spec: SceneSpec) -> tuple[float, float, float]:
    """Where the sun/moon sits and how wide and strong its glow is, by time of day."""
    return {
        "night": (0.16, 0.16, 0.35),
        "predawn": (spec.horizon, 0.5, 0.55),
        "dawn": (spec.horizon - 0.05, 0.42, 0.85),
        "day": (0.16, 0.3, 0.5),
        "dusk": (spec.horizon - 0.06, 0.45, 0.85),
    }[spec.time]


def _draw_stars(c: Canvas, pal: Palette, rng: np.random.Generator, horizon: float) -> None:
    for _ in range(int(90 * c.aspect)):
        x, y = rng.uniform(0, 1), rng.uniform(0, horizon * 0.8) ** 1.2
        alpha = int(rng.uniform(90, 230))
        c.oval(x, y, float(rng.uniform(0.0012, 0.0032)), fill=(*pal.sun, alpha))


def ridge(rng: np.random.Generator, base: float, amp: float, bumps: float,
          steps: int = 48) -> list[tuple[float, float]]:
    """Points of a rolling hill line across the picture, from x=0 to x=1, closed at the bottom."""
    phases = rng.uniform(0, 2 * math.pi, 3)
    xs = np.linspace(0.0, 1.0, steps)
    wave = (np.sin(xs * bumps * math.pi + phases[0]) * 0.6
            + np.sin(xs * bumps * 2.3 * math.pi + phases[1]) * 0.3
            + np.sin(xs * bumps * 5.1 * math.pi + phases[2]) * 0.1)
    ys = base - amp * (0.5 + 0.5 * wave)
    return [(0.0, 1.0), *zip(xs.tolist(), ys.tolist()), (1.0, 1.0)]


def draw_outdoors(c: Canvas, pal: Palette, spec: SceneSpec, rng: np.random.Generator) -> float:
    """Paint the landscape below the sky; returns the y where figures should stand."""
    if spec.street:
        from .street import draw_street

        return draw_street(c, pal, spec, rng)
    hz = spec.horizon
    c.poly(ridge(rng, hz + 0.02, 0.12 if not spec.sea else 0.06, 1.6), mix(pal.far, pal.sky_low, 0.3))
    if spec.castle:
        _draw_castle(c, pal, spec, float(rng.uniform(0.2, 0.8)), hz + 0.01)
    if spec.fog:
        c.soft_band(hz, 0.08, pal.fog, 0.85, rng)
    if spec.sea:
        ground = _draw_sea(c, pal, spec, rng)
    else:
        ground = _draw_land(c, pal, spec, rng)
    if spec.balcony:
        ground = _draw_balcony(c, pal, rng)
    elif spec.quay:
        ground = _draw_quay(c, pal, rng)
    elif spec.sea:  # something to stand on: nobody in a storybook walks on water
        c.poly(ridge(rng, 0.9, 0.05, 0.7), mix(pal.near, (200, 176, 130), 0.35), outline=pal.ink, width=0.002)
    if spec.autumn:  # a few leaves blow in from somewhere even without trees in view
        _draw_falling_leaves(c, pal, rng, 40 if spec.trees else 10)
    return ground


def _draw_sea(c: Canvas, pal: Palette, spec: SceneSpec, rng: np.random.Generator) -> float:
    hz = spec.horizon
    _draw_water(c, pal, hz, rng)
    side = 1 if rng.random() < 0.5 else -1
    if c.sun_visible:  # the lighthouse stands clear of the sun, never in front of it
        side = 1 if c.sun_x < 0.5 else -1
    c.stage_x = 0.5 - side * 0.12  # characters stand on the side away from the lighthouse
    if spec.lighthouse:
        x = 0.5 + side * float(rng.uniform(0.2, 0.3))
        draw_lighthouse(c, pal, spec, x, hz + 0.03, 0.3 if spec.balcony else 0.24, depth=0.35 if spec.fog else 0.15)
    if spec.fog:
        c.soft_band(hz + 0.04, 0.1, pal.fog, 0.9, rng)
    if spec.boats:
        count = 1 if spec.balcony else int(rng.integers(2, 4))
        for i in range(count):
            x = 0.5 - side * (0.08 + 0.16 * i) + float(rng.uniform(-0.04, 0.04))
            y = hz + float(rng.uniform(0.07, 0.16))
            _draw_boat(c, pal, x, y, 0.11 + (y - hz) * 0.6, depth=0.3 if spec.fog else 0.1)
        if spec.fog:  # the story's fog swallows the hulls; only the masts show above it
            c.soft_band(hz + 0.13, 0.08, pal.fog, 0.8, rng)
    return 0.93


def _draw_water(c: Canvas, pal: Palette, hz: float, rng: np.random.Generator) -> None:
    steps = 24
    for i in range(steps):
        y0, y1 = hz + (1 - hz) * i / steps, hz + (1 - hz) * (i + 1) / steps
        color = mix(mix(pal.water, pal.sky_low, 0.45), shade(pal.water, 0.75), i / (steps - 1))
        c.poly([(0, y0), (1, y0), (1, y1 + 0.002), (0, y1 + 0.002)], color)
    if c.sun_visible:
        _draw_sun_path(c, pal, hz, rng)
    glint = mix(pal.water, pal.sky_low, 0.8)
    for _ in range(int(70 * c.aspect)):
        y = hz + (1 - hz) * float(rng.uniform(0.02, 1.0)) ** 1.6
        x, length = float(rng.uniform(0, 1)), 0.01 + (y - hz) * 0.09
        c.line([(x, y), (x + length / 2, y - 0.003), (x + length, y)], (*glint, 110), 0.002)


def _draw_sun_path(c: Canvas, pal: Palette, hz: float, rng: np.random.Generator) -> None:
    """Golden dashes on the water under the sun, widening toward the viewer."""
    gold = mix(pal.sun, (255, 255, 255), 0.3)
    for _ in range(int(60 * c.aspect)):
        t = float(rng.uniform(0, 1)) ** 1.5
        y = hz + 0.005 + (1 - hz) * t
        spread = 0.02 + 0.18 * t
        x = c.sun_x + float(rng.normal(0, 0.35)) * spread
        length = 0.01 + 0.05 * t
        c.line([(x - length / 2, y), (x + length / 2, y)], (*gold, int(200 - 110 * t)), 0.002 + 0.003 * t)


def draw_lighthouse(c: Canvas, pal: Palette, spec: SceneSpec, x: float, base: float, height: float,
                    depth: float) -> None:
    """A white tower on a rocky point, its lamp lit (with beams and a glow) if the prompt says so."""
    rock = mix(pal.mid, pal.fog, depth)
    spread = c.dx(height * 0.9)
    c.poly([(x - spread, base + 0.02), (x - spread * 0.45, base - 0.03), (x - spread * 0.1, base - 0.045),
            (x + spread * 0.35, base - 0.035), (x + spread, base + 0.02)], rock)
    white = mix((236, 234, 226), pal.fog, depth)
    top, half_base, half_top = base - height, c.dx(height * 0.12), c.dx(height * 0.075)
    tower = [(x - half_base, base - 0.035), (x + half_base, base - 0.035), (x + half_top, top + 0.06 * height),
             (x - half_top, top + 0.06 * height)]
    c.poly(tower, white, outline=mix(pal.ink, pal.fog, depth), width=0.002)
    band = mix((170, 60, 52), pal.fog, depth + 0.1)
    for k in (0.35, 0.65):
        y, half = base - 0.035 - k * (height - 0.035), half_base - (half_base - half_top) * k
        stripe = height * 0.09
        c.poly([(x - half, y), (x + half, y), (x + half * 0.97, y - stripe), (x - half * 0.97, y - stripe)], band)
    lamp = pal.lamp if spec.lit else mix((70, 78, 90), pal.fog, depth)
    gallery = top + 0.06 * height
    c.poly([(x - half_top * 1.5, gallery), (x + half_top * 1.5, gallery), (x + half_top * 1.5, gallery - 0.008),
            (x - half_top * 1.5, gallery - 0.008)], mix(pal.ink, pal.fog, depth))
    c.poly([(x - half_top * 0.8, gallery - 0.008), (x + half_top * 0.8, gallery - 0.008),
            (x + half_top * 0.8, top + 0.005), (x - half_top * 0.8, top + 0.005)], lamp)
    c.poly([(x - half_top, top + 0.006), (x + half_top, top + 0.006), (x, top - 0.02)], mix(band, pal.ink, 0.3))
    if spec.lit:
        lamp_y = (gallery + top) / 2
        if spec.time != "day":  # beams are only seen against a dim sky
            for reach, alpha in ((0.25, 34), (0.45, 24), (0.7, 14)):  # stacked wedges fade with distance
                for direction in (-1, 1):
                    far_x = x + direction * reach
                    c.poly([(x, lamp_y), (far_x, lamp_y - reach * 0.1), (far_x, lamp_y + reach * 0.07)],
                           (*pal.lamp, alpha))
        c.lights.append(Light(x, lamp_y, 0.07, pal.lamp, 0.9))


def _draw_boat(c: Canvas, pal: Palette, x: float, y: float, size: float, depth: float) -> None:
    hull = mix(shade(pal.near, 1.3), pal.fog, depth)
    half = c.dx(size * 0.5)
    c.poly([(x - half, y - size * 0.12), (x + half * 1.1, y - size * 0.14), (x + half * 0.75, y),
            (x - half * 0.8, y)], hull)
    c.poly([(x - half * 0.45, y - size * 0.12), (x + half * 0.05, y - size * 0.12), (x + half * 0.05, y - size * 0.26),
            (x - half * 0.45, y - size * 0.26)], mix(hull, pal.fog, 0.25))
    c.line([(x + c.dx(size * 0.12), y - size * 0.12), (x + c.dx(size * 0.12), y - size * 1.05)], hull, 0.0035)
    c.line([(x + c.dx(size * 0.12), y - size * 0.95), (x + c.dx(size * 0.45), y - size * 0.15)], (*hull, 160), 0.0015)


def _draw_quay(c: Canvas, pal: Palette, rng: np.random.Generator) -> float:
    stone = mix(pal.mid, (120, 116, 110), 0.35)
    top = 0.86
    c.poly([(0, top + 0.01), (1, top - 0.01), (1, 1), (0, 1)], stone, outline=pal.ink, width=0.003)
    seam = shade(stone, 0.7)
    for row, y in enumerate((top + 0.045, top + 0.09)):
        c.line([(0, y), (1, y - 0.015)], seam, 0.002)
        for i in range(9):
            bx = (i + (0.5 if row else 0.0)) / 8 + float(rng.uniform(-0.01, 0.01))
            c.line([(bx, y - 0.045), (bx, y)], seam, 0.002)
    for _ in range(6):  # wet stone shines
        c.oval(float(rng.uniform(0.05, 0.95)), float(rng.uniform(top + 0.04, 0.98)), 0.018, 0.003,
               fill=(*mix(stone, pal.sky_low, 0.7), 120))
    return 0.93


def _draw_balcony(c: Canvas, pal: Palette, rng: np.random.Generator) -> float:
    iron = mix(pal.ink, pal.mid, 0.3)
    c.poly([(0, 0.9), (1, 0.9), (1, 1), (0, 1)], shade(pal.near, 0.8))
    for y in (0.72, 0.8):
        c.line([(0, y), (1, y)], iron, 0.007 if y < 0.75 else 0.004)
    for i in range(int(14 * c.aspect) + 1):
        x = i / (14 * c.aspect)
        c.line([(x, 0.72), (x, 0.9)], iron, 0.004)
    return 0.95


def _draw_land(c: Canvas, pal: Palette, spec: SceneSpec, rng: np.random.Generator) -> float:
    hz = spec.horizon
    c.poly(ridge(rng, hz + 0.08, 0.1, 1.2), mix(pal.mid, pal.fog, 0.35 if spec.fog else 0.1))
    if spec.village:
        _draw_village(c, pal, spec, hz + 0.06, rng)
    if spec.barn:
        _draw_barn(c, pal, spec, 0.5 + float(rng.choice([-0.28, 0.28])), hz + 0.14)
    if spec.trees:
        draw_forest_rows(c, pal, spec, rng)
    c.poly(ridge(rng, 0.9, 0.08, 0.8), pal.near)
    if spec.path:
        _draw_path(c, pal, hz + 0.1, rng)
    if spec.fog:
        c.soft_band(0.72, 0.12, pal.fog, 0.55, rng)
    return 0.94


def draw_forest_rows(c: Canvas, pal: Palette, spec: SceneSpec, rng: np.random.Generator) -> None:
    """Three rows of trees, small and pale at the back, large and dark in front, a clearing left in the middle."""
    rows = ((spec.horizon + 0.1, 0.22, 14, 0.55), (spec.horizon + 0.2, 0.36, 8, 0.3), (0.98, 0.7, 4, 0.0))
    for base, size, count, depth in rows:
        for i in range(count):
            x = (i + float(rng.uniform(0.1, 0.9))) / count
            if depth < 0.1 and 0.25 < x < 0.75:  # keep the front row at the edges: a frame, not a wall
                x = 0.12 if x < 0.5 else 0.88
            y = base + float(rng.uniform(-0.02, 0.02))
            draw_tree(c, pal, spec, x, y, size * float(rng.uniform(0.8, 1.15)), depth, rng)
        if spec.fog and depth > 0.1:
            c.soft_band(base - size * 0.3, size * 0.35, pal.fog, 0.5, rng)


def draw_tree(c: Canvas, pal: Palette, spec: SceneSpec, x: float, base: float, size: float, depth: float,
              rng: np.random.Generator) -> None:
    """One tree: a round-crowned broadleaf (autumn colours if the season says) or a pine."""
    haze = pal.fog if spec.fog else pal.sky_low
    trunk = mix(pal.trunk, haze, depth)
    c.poly([(x - c.dx(size * 0.03), base), (x + c.dx(size * 0.03), base), (x + c.dx(size * 0.015), base - size * 0.6),
            (x - c.dx(size * 0.015), base - size * 0.6)], trunk)
    if not spec.autumn and rng.random() < 0.5:
        for k in range(3):
            w, y = size * (0.26 - 0.06 * k), base - size * (0.25 + 0.22 * k)
            needles = mix(shade(pal.foliage, 0.8), haze, depth)
            c.poly([(x - c.dx(w), y), (x + c.dx(w), y), (x, y - size * 0.38)], needles)
        return
    tones = _leaf_tones(pal, spec)
    for _ in range(5):
        ox, oy = float(rng.uniform(-0.18, 0.18)) * size, float(rng.uniform(0.55, 0.85)) * size
        r = float(rng.uniform(0.14, 0.22)) * size
        color = mix(tones[int(rng.integers(len(tones)))], haze, depth)
        c.oval(x + c.dx(ox), base - oy, r, r * 0.9, fill=color)


def _leaf_tones(pal: Palette, spec: SceneSpec) -> tuple[RGB, ...]:
    if spec.autumn:
        return (pal.foliage, mix(pal.foliage, (176, 44, 36), 0.6), mix(pal.foliage, (236, 182, 60), 0.6),
                shade(pal.foliage, 0.75))
    return (pal.foliage, shade(pal.foliage, 0.8), mix(pal.foliage, (180, 200, 90), 0.3))


def _draw_falling_leaves(c: Canvas, pal: Palette, rng: np.random.Generator, count: int) -> None:
    tones = (pal.foliage, mix(pal.foliage, (176, 44, 36), 0.6), mix(pal.foliage, (236, 182, 60), 0.6))
    for _ in range(count):
        x, y, s = float(rng.uniform(0, 1)), float(rng.uniform(0.3, 0.98)), float(rng.uniform(0.005, 0.011))
        a = float(rng.uniform(0, math.pi))
        tip = (c.dx(s * math.cos(a)), s * math.sin(a))
        side = (c.dx(s * 0.45 * -math.sin(a)), s * 0.45 * math.cos(a))
        c.poly([(x + tip[0], y + tip[1]), (x + side[0], y + side[1]), (x - tip[0], y - tip[1]),
                (x - side[0], y - side[1])], tones[int(rng.integers(len(tones)))])


def _draw_village(c: Canvas, pal: Palette, spec: SceneSpec, base: float, rng: np.random.Generator) -> None:
    lit = spec.time in ("night", "predawn", "dusk")
    x = float(rng.uniform(0.0, 0.1))
    while x < 1.0:
        w, h = c.dx(float(rng.uniform(0.06, 0.1))), float(rng.uniform(0.05, 0.08))
        wall = mix(pal.wall, pal.far, 0.35)
        roof = mix((150, 74, 54), pal.far, 0.45)
        c.poly([(x, base), (x + w, base), (x + w, base - h), (x, base - h)], wall)
        c.poly([(x - w * 0.08, base - h), (x + w * 1.08, base - h), (x + w / 2, base - h - 0.04)], roof)
        if lit:
            c.poly([(x + w * 0.35, base - h * 0.6), (x + w * 0.6, base - h * 0.6), (x + w * 0.6, base - h * 0.3),
                    (x + w * 0.35, base - h * 0.3)], pal.lamp)
        x += w * float(rng.uniform(1.1, 1.8))


def _draw_barn(c: Canvas, pal: Palette, spec: SceneSpec, x: float, base: float) -> None:
    """A red barn in the middle distance: gambrel roof, a white-trimmed cross-braced door."""
    red, trim, w = mix((160, 50, 40), pal.far, 0.2), mix((236, 230, 220), pal.far, 0.2), c.dx(0.14)
    c.poly([(x - w, base), (x + w, base), (x + w, base - 0.12), (x + w * 0.7, base - 0.19), (x, base - 0.23),
            (x - w * 0.7, base - 0.19), (x - w, base - 0.12)], red, outline=pal.ink, width=0.002)
    door = c.dx(0.05)
    c.poly([(x - door, base), (x + door, base), (x + door, base - 0.09), (x - door, base - 0.09)], shade(red, 0.8),
           outline=trim, width=0.003)
    c.line([(x - door, base - 0.09), (x + door, base)], trim, 0.003)
    c.line([(x + door, base - 0.09), (x - door, base)], trim, 0.003)
    if spec.time in ("night", "predawn", "dusk"):
        c.poly([(x - c.dx(0.02), base - 0.17), (x + c.dx(0.02), base - 0.17), (x + c.dx(0.02), base - 0.14),
                (x - c.dx(0.02), base - 0.14)], pal.lamp)


def _draw_castle(c: Canvas, pal: Palette, spec: SceneSpec, x: float, base: float) -> None:
    """A far-off castle in silhouette (a wall between towers), or a lone tower, battlemented."""
    stone = mix(pal.far, pal.ink, 0.25)
    wall = 0.0 if spec.tower_only else c.dx(0.14)
    towers = ((x, 0.28),) if spec.tower_only else ((x - wall, 0.2), (x + wall, 0.2), (x, 0.28))
    if wall:
        c.poly([(x - wall, base), (x + wall, base), (x + wall, base - 0.11), (x - wall, base - 0.11)], stone)
    half = c.dx(0.025)
    for tx, height in towers:
        top = base - height
        c.poly([(tx - half, base), (tx + half, base), (tx + half, top), (tx - half, top)], stone)
        for k in (-1, 0, 1):  # crenellations
            cx = tx + k * half * 0.7
            c.poly([(cx - half * 0.22, top), (cx + half * 0.22, top), (cx + half * 0.22, top - 0.012),
                    (cx - half * 0.22, top - 0.012)], stone)
        if spec.time in ("night", "predawn", "dusk"):  # someone is still up
            c.poly([(tx - half * 0.2, base - height * 0.7), (tx + half * 0.2, base - height * 0.7),
                    (tx + half * 0.2, base - height * 0.6), (tx - half * 0.2, base - height * 0.6)], pal.lamp)


def _draw_path(c: Canvas, pal: Palette, far_y: float, rng: np.random.Generator) -> None:
    phase = float(rng.uniform(0, math.pi))
    left, right = [], []
    for i in range(21):
        t = i / 20  # 0 at the bottom of the picture, 1 far away
        y = 1.0 + (far_y - 1.0) * t
        mid = 0.5 + 0.12 * math.sin(phase + t * 3.0) * (1 - t * 0.5)
        half = 0.2 * (1 - t) ** 1.3 + 0.006
        left.append((mid - half, y))
        right.append((mid + half, y))
    c.poly(left + right[::-1], mix(pal.near, (196, 170, 130), 0.45))


def draw_weather(c: Canvas, pal: Palette, spec: SceneSpec, rng: np.random.Generator,
                 box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)) -> None:
    """Rain streaks or snowflakes inside ``box`` (x0, y0, x1, y1), over whatever is drawn there."""
    x0, y0, x1, y1 = box
    if spec.rain:
        streak = (*mix(pal.sky_low, (255, 255, 255), 0.5), 70)
        for _ in range(int(260 * (x1 - x0) * (y1 - y0) * c.aspect)):
            x, y, length = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1)), float(rng.uniform(0.02, 0.05))
            c.line([(x, y), (x - c.dx(length * 0.2), min(y1, y + length))], streak, 0.0018)
    if spec.snow:
        for _ in range(int(200 * (x1 - x0) * (y1 - y0) * c.aspect)):
            c.oval(float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1)), float(rng.uniform(0.002, 0.006)),
                   fill=(250, 250, 255, 220))
