"""Painting a storybook card: the picture, its frame, its caption.

The implementation behind ``storybook.StorybookImage``; it imports numpy and Pillow, so it loads
only when an image is actually drawn.
"""


from __future__ import annotations


import numpy as np
from PIL import Image, ImageDraw

from ...errors import BackendError
from .canvas import Canvas, apply_lights, from_planes, to_planes
from .figures import FigureLook, draw_figure, draw_name_tag, look_from_character
from .interface import ImageRequest
from .interiors import draw_interior
from .lettering import fit_text, font
from .palette import Palette, mix, palette_from_words
from .scenery import draw_outdoors, draw_sky, draw_weather
from .spec import SceneSpec, read_scene, stable_int

__all__ = ["card_layout", "render"]

MIN_SIDE = 64  # below this a card has no room for a frame, let alone a figure
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels


def render(request: ImageRequest) -> Image.Image:
    """The card for ``request`` as an RGB image."""
    if min(request.width, request.height) < MIN_SIDE:
        raise BackendError(f"storybook: {request.width}x{request.height} is too small; sides must be >= {MIN_SIDE}")
    spec = read_scene(request.prompt, request.style, request.scene)
    weather = "storm" if spec.storm else "snow" if spec.snow else "rain" if spec.rain else "cloudy" if spec.cloudy else ""
    pal = palette_from_words(request.prompt, request.style, spec.time, weather)
    facts = request.scene.model_dump_json() if request.scene else ""
    rng = np.random.default_rng(
        stable_int("storybook", request.kind, request.prompt, request.style, facts, request.seed)
    )
    picture_box, band = card_layout(request.width, request.height, has_caption=bool(_caption_of(request)))
    x0, y0, x1, y1 = picture_box
    picture = paint_picture(request, pal, spec, rng, x1 - x0, y1 - y0)
    card = frame_card(picture, picture_box, request.width, request.height, pal, rng)
    draw_caption(card, _caption_of(request), band, pal)
    return card


def _caption_of(request: ImageRequest) -> str:
    if request.caption or request.kind == "scene":
        return request.caption
    return look_from_character(request.characters[0]).label if request.characters else ""


def card_layout(width: int, height: int, has_caption: bool) -> tuple[Box, Box]:
    """Where the picture and the caption band sit on the card, as pixel boxes (x0, y0, x1, y1)."""
    margin = round(min(width, height) * 0.035)
    band = round(height * 0.13) if has_caption else 0
    bottom = height - margin - band
    return (margin, margin, width - margin, bottom), (margin, bottom, width - margin, height - margin // 3)


def paint_picture(request: ImageRequest, pal: Palette, spec: SceneSpec, rng: np.random.Generator,
                  width: int, height: int) -> Image.Image:
    """The picture inside the frame: scenery, then figures, then the glow of every light."""
    scene = Canvas(width, height)
    draw_sky(scene, pal, spec, rng)
    ground = draw_interior(scene, pal, spec, rng) if spec.room else draw_outdoors(scene, pal, spec, rng)
    if not spec.room:
        draw_weather(scene, pal, spec, rng)
    figures = Canvas(width, height, layer_of=pal.ink)
    looks = [look_from_character(ref) for ref in request.characters]
    if request.kind == "portrait":
        draw_portrait_figure(scene, figures, looks, pal)
    else:
        draw_scene_figures(figures, looks, min(ground, 0.89), scene.stage_x, pal, rng)
    picture = scene.shrunk()
    layer = figures.shrunk()
    picture.paste(layer, (0, 0), layer)
    planes = to_planes(picture)
    apply_lights(planes, scene.lights + figures.lights)
    return from_planes(planes)


def draw_scene_figures(c: Canvas, looks: list[FigureLook], feet: float, stage_x: float | None, pal: Palette,
                       rng: np.random.Generator) -> None:
    """Stand the characters side by side in the foreground, each with a name tag beneath."""
    if not looks:
        return
    height = 0.42 if len(looks) <= 3 else 0.36
    spacing = min(c.dx(height * 0.62), 0.86 / len(looks))
    half_group = spacing * (len(looks) - 1) / 2 + c.dx(height * 0.3)
    centre = stage_x if stage_x is not None else 0.5 + float(rng.uniform(-0.14, 0.14))
    centre = min(max(centre, half_group + 0.02), 0.98 - half_group)
    for i, look in enumerate(looks):
        x = centre + (i - (len(looks) - 1) / 2) * spacing
        draw_figure(c, look, x, feet, height * look.scale, pal.ink, facing=1 if x < 0.5 else -1)
        draw_name_tag(c, look.label, x, feet + 0.015, 0.03, pal.paper, pal.ink)


def draw_portrait_figure(scene: Canvas, c: Canvas, looks: list[FigureLook], pal: Palette) -> None:
    """One character large and centred on a cameo oval; the name goes in the caption band."""
    scene.oval(0.5, 0.5, 0.44 * scene.aspect, 0.44, fill=(*pal.paper, 110), outline=(*pal.ink, 120),
               width=0.004)
    if not looks:
        return
    look = looks[0]
    if look.fox:  # a fox is long, not tall: size it by the width it needs
        draw_figure(c, look, 0.55, 0.8, min(0.45, c.aspect * 0.85 / 1.7), pal.ink)
    else:
        draw_figure(c, look, 0.5, 0.97, 0.8, pal.ink)


def frame_card(picture: Image.Image, box: Box, width: int, height: int, pal: Palette,
               rng: np.random.Generator) -> Image.Image:
    """The picture on a paper card: rounded corners, an ink frame, a vignette, paper tooth and washes."""
    x0, y0, x1, y1 = box
    distance = _rounded_box_distance(width, height, box, radius=min(width, height) * 0.03)
    inside = np.clip(0.5 - distance, 0.0, 1.0)  # 1 inside, 0 outside, a one-pixel antialiased edge
    line = max(1.5, min(width, height) * 0.004)
    frame = np.clip(line / 2 + 0.5 - np.abs(distance), 0.0, 1.0)
    rule = np.clip(1.0 - np.abs(distance - min(x0, y0) * 0.55), 0.0, 1.0) * 0.5  # thin second line on the paper

    card = Image.new("RGB", (width, height), pal.paper)
    card.paste(picture, (x0, y0), _mask(inside[y0:y1, x0:x1]))
    card.paste(pal.ink, (0, 0, width, height), _mask(np.maximum(frame, rule)))

    ys = (np.arange(height, dtype=np.float32)[:, None] - (y0 + y1) / 2) / max(1, (y1 - y0) / 2)
    xs = (np.arange(width, dtype=np.float32)[None, :] - (x0 + x1) / 2) / max(1, (x1 - x0) / 2)
    vignette = 1.0 - 0.2 * np.clip(xs**2 * 0.6 + ys**2, 0, 1.5) ** 1.5
    wash = _smooth_noise(width, height, 60, rng) * pal.wash
    # Paper tooth on the border only: over the picture, fine noise would triple the PNG, slow its
    # writing fourfold and shimmer once the video pans across it; the washes texture the picture.
    tooth = _smooth_noise(width, height, 2, rng) * 0.035
    light = 1.0 + (1.0 - inside) * tooth + inside * (wash + vignette - 1.0)
    return from_planes(to_planes(card) * light)


def _mask(alpha: np.ndarray) -> Image.Image:
    return Image.fromarray((alpha * 255 + 0.5).astype(np.uint8), "L")


def _rounded_box_distance(width: int, height: int, box: Box, radius: float) -> np.ndarray:
    """Signed distance in pixels to a rounded rectangle's edge: negative inside, positive outside."""
    x0, y0, x1, y1 = box
    cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    qx = np.abs(np.arange(width, dtype=np.float32)[None, :] + 0.5 - cx) - hx + radius
    qy = np.abs(np.arange(height, dtype=np.float32)[:, None] + 0.5 - cy) - hy + radius
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    return outside + np.minimum(np.maximum(qx, qy), 0) - radius


def _smooth_noise(width: int, height: int, cell: int, rng: np.random.Generator) -> np.ndarray:
    """Noise in -1..1 varying smoothly over ``cell`` pixels: washes when coarse, paper tooth when fine."""
    coarse = rng.random((max(2, height // cell + 1), max(2, width // cell + 1)), dtype=np.float32) * 2 - 1
    return np.asarray(Image.fromarray(coarse, "F").resize((width, height), Image.BICUBIC), dtype=np.float32)


def draw_caption(card: Image.Image, caption: str, band: Box, pal: Palette) -> None:
    """The caption in ink, centred in the band under the picture, in at most two lines."""
    if not caption.strip():
        return
    x0, y0, x1, y1 = band
    width, tall = (x1 - x0) * 0.92, (y1 - y0) * 0.72
    size, lines = fit_text(caption, width, tall, max_lines=2, largest=round((y1 - y0) * 0.42),
                           smallest=max(8, round((y1 - y0) * 0.2)))
    face, gap = font(size, caption), round(size * 0.15)
    block = len(lines) * size + (len(lines) - 1) * gap
    top = y0 + (y1 - y0 - block) / 2 + size * 0.08  # the font's caps sit a little high in their box
    draw = ImageDraw.Draw(card)
    ink = mix(pal.ink, (0, 0, 0), 0.2)
    for i, text in enumerate(lines):
        draw.text(((x0 + x1) / 2, top + i * (size + gap)), text, font=face, fill=ink, anchor="mt")
