"""The surface a storybook picture is painted on, and the glows added once it is shrunk.

Shapes are drawn at ``SCALE`` times the final size and shrunk once at the end: Pillow draws
polygons without antialiasing, and a 2x box-filtered reduce is the cheapest way to soft edges.
Positions are fractions of the picture's width (x) and height (y); sizes are fractions of its
height, so a circle stays round whatever the aspect ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from .palette import RGB

SCALE = 2


@dataclass(frozen=True)
class Light:
    """A warm glow added after drawing (lamp, candle, lit lantern room), in picture fractions."""

    x: float
    y: float
    radius: float
    color: RGB
    strength: float = 0.6


@dataclass
class Canvas:
    """A picture being painted at SCALE x size, plus the lights to glow once it is shrunk."""

    width: int
    height: int
    layer_of: RGB | None = None  # set: a transparent layer whose hidden colour is this (the ink)
    image: Image.Image = field(init=False)
    draw: ImageDraw.ImageDraw = field(init=False)
    lights: list[Light] = field(default_factory=list)
    sun_x: float = 0.5  # where the sky put the sun or moon, so water can reflect it
    sun_visible: bool = False
    stage_x: float | None = None  # where the scenery leaves room for the characters, if it cares

    def __post_init__(self) -> None:
        self.w, self.h = self.width * SCALE, self.height * SCALE
        if self.layer_of is None:
            self.image = Image.new("RGB", (self.w, self.h))
            # "RGBA" drawing on an RGB image blends translucent fills instead of overwriting.
            self.draw = ImageDraw.Draw(self.image, "RGBA")
        else:
            # Transparent pixels carry the outline colour, so shrinking averages edges into ink
            # rather than into black fringes.
            self.image = Image.new("RGBA", (self.w, self.h), (*self.layer_of, 0))
            self.draw = ImageDraw.Draw(self.image)

    def shrunk(self) -> Image.Image:
        """The picture at its final size."""
        return self.image.reduce(SCALE)

    @property
    def aspect(self) -> float:
        """Width over height."""
        return self.w / self.h

    def px(self, x: float, y: float) -> tuple[float, float]:
        """A fractional position in working pixels."""
        return x * self.w, y * self.h

    def size(self, s: float) -> int:
        """A size given as a fraction of the height, in working pixels (at least 1)."""
        return max(1, round(s * self.h))

    def box(self, x: float, y: float, rx: float, ry: float | None = None) -> tuple[float, float, float, float]:
        """The pixel bounding box of an ellipse centred at fractional (x, y), radii fractions of the height."""
        cx, cy = self.px(x, y)
        ax, ay = rx * self.h, (rx if ry is None else ry) * self.h
        return cx - ax, cy - ay, cx + ax, cy + ay

    def poly(self, points, fill, outline=None, width: float = 0.0) -> None:
        """Fill the polygon through fractional ``points``."""
        self.draw.polygon([self.px(x, y) for x, y in points], fill=fill, outline=outline,
                          width=self.size(width) if outline else 0)

    def oval(self, x: float, y: float, rx: float, ry: float | None = None, fill=None,
             outline=None, width: float = 0.0) -> None:
        """An ellipse centred at fractional (x, y) with radii as fractions of the height."""
        self.draw.ellipse(self.box(x, y, rx, ry), fill=fill, outline=outline,
                          width=self.size(width) if outline else 0)

    def line(self, points, fill, width: float) -> None:
        """A polyline through fractional ``points``, ``width`` a fraction of the height."""
        self.draw.line([self.px(x, y) for x, y in points], fill=fill, width=self.size(width), joint="curve")

    def dx(self, s: float) -> float:
        """A horizontal size given as a fraction of the height, as a fraction of the width."""
        return s / self.aspect

    def soft_band(self, y: float, half: float, color: RGB, density: float, rng: np.random.Generator) -> None:
        """A soft, wispy horizontal band (fog, mist) centred on ``y``, ``half`` tall each side."""
        y0, y1 = max(0, round((y - half) * self.h)), min(self.h, round((y + half) * self.h))
        if y1 - y0 < 2:
            return
        rows = np.linspace(-1.0, 1.0, 16, dtype=np.float32)[:, None]
        vertical = (1.0 - rows**2) ** 2  # reaches exactly 0 at the band's edges: no seams
        wisps = rng.random((16, 20), dtype=np.float32)
        alpha = np.clip(density * vertical * (0.45 + 0.75 * wisps), 0, 1) * 255
        mask = Image.fromarray(alpha.astype(np.uint8), "L").resize((self.w, y1 - y0), Image.BICUBIC)
        self.image.paste(color, (0, y0, self.w, y1), mask)

    def gear(self, x: float, y: float, r: float, teeth: int, fill, outline, turn: float = 0.0) -> None:
        """A toothed gear wheel with a hub, radius ``r`` (fraction of height)."""
        cx, cy = self.px(x, y)
        outer, inner = r * self.h, r * self.h * 0.8
        points = []
        for i in range(teeth * 4):
            angle = turn + i * math.pi / (teeth * 2)
            radius = outer if i % 4 in (1, 2) else inner
            points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
        self.draw.polygon(points, fill=fill, outline=outline, width=self.size(0.003))
        self.oval(x, y, r * 0.28, fill=outline)


def to_planes(image: Image.Image) -> np.ndarray:
    """An RGB image as a float array of shape (3, H, W).

    Channel-first because numpy is about twice as fast on whole planes as on a trailing axis of 3.
    """
    return np.stack([np.asarray(band, dtype=np.float32) for band in image.split()])


def from_planes(planes: np.ndarray) -> Image.Image:
    """The RGB image of a (3, H, W) float array, rounded and clipped to 0..255."""
    bands = [Image.fromarray(np.clip(plane + 0.5, 0, 255).astype(np.uint8), "L") for plane in planes]
    return Image.merge("RGB", bands)


def apply_lights(planes: np.ndarray, lights: list[Light]) -> None:
    """Add each light's soft glow to a (3, H, W) float array in place; only its box is touched."""
    h, w = planes.shape[1:]
    for light in lights:
        cx, cy, r = light.x * w, light.y * h, light.radius * h
        x0, x1 = max(0, int(cx - 2.5 * r)), min(w, int(cx + 2.5 * r) + 1)
        y0, y1 = max(0, int(cy - 2.5 * r)), min(h, int(cy + 2.5 * r) + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        gy = np.exp(-(((np.arange(y0, y1, dtype=np.float32) - cy) / r) ** 2) * 1.6)
        gx = np.exp(-(((np.arange(x0, x1, dtype=np.float32) - cx) / r) ** 2) * 1.6)
        glow = np.outer(gy * light.strength, gx)
        for channel, value in enumerate(light.color):
            box = planes[channel, y0:y1, x0:x1]
            # Screen blend: brightens toward the light's colour without blowing out to white.
            box += value * glow * (1.0 - box / 255.0)
