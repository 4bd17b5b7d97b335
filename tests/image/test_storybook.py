"""The embedded storybook image backend: sizes, determinism, and that the words change the picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from storybuild.backends.image.figures import look_from_character
from storybuild.backends.image.interface import CharacterRef, ImageRequest
from storybuild.backends.image.lettering import fit_text, text_width
from storybuild.backends.image.palette import NAMED_COLORS, palette_from_words
from storybuild.backends.image.card import card_layout
from storybuild.backends.image.storybook import StorybookImage
from storybuild.backends.registry import backend_class
from storybuild.errors import BackendError

STYLE = "painterly, muted blues and warm lamplight, storybook illustration"
HARBOR = ("A small fishing harbor before dawn in late autumn. Thick fog over black water, moored wooden boats, "
          "wet stone quay, a white lighthouse on a rocky point in the distance.")
WORKSHOP = ("A cluttered clockmaker's workshop at night: gears and springs on a wooden bench, a half-finished "
            "brass fox, a candle, an old man with spectacles.")
MARA = CharacterRef(name="mara", gender="female",
                    look="a freckled twelve-year-old girl with a red wool cap and a yellow oilskin coat")
ELIAS = CharacterRef(name="elias", gender="male",
                     look="a weathered lighthouse keeper in his fifties, grey beard, navy fisherman's sweater")
FOX = CharacterRef(name="female_fox", look="a small brass clockwork fox with glowing green eyes")


def scene(prompt: str = HARBOR, **changes) -> ImageRequest:
    fields = dict(kind="scene", prompt=prompt, style=STYLE, caption="The fog came in before dawn.",
                  width=640, height=360)
    return ImageRequest(**{**fields, **changes})


def render(tmp_path: Path, request: ImageRequest, name: str = "out.png") -> tuple[bytes, np.ndarray]:
    out = tmp_path / name
    StorybookImage().generate(request, out)
    with Image.open(out) as image:
        assert image.format == "PNG"
        return out.read_bytes(), np.asarray(image.convert("RGB"), dtype=np.float32)


def luminance(pixels: np.ndarray) -> np.ndarray:
    return pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def picture_of(pixels: np.ndarray, request: ImageRequest) -> np.ndarray:
    """Just the painted picture, without the paper card and caption around it."""
    (x0, y0, x1, y1), _ = card_layout(request.width, request.height, has_caption=bool(request.caption))
    return pixels[y0 + 4:y1 - 4, x0 + 4:x1 - 4]


def test_is_registered_under_its_name() -> None:
    assert backend_class("image", "storybook") is StorybookImage
    assert StorybookImage.recipe({}) == {"backend": "storybook", "version": StorybookImage.version, "options": {}}


@pytest.mark.parametrize("size", [(1280, 720), (640, 360), (333, 211), (512, 768), (64, 64)])
def test_writes_exactly_the_requested_size_in_rgb(tmp_path: Path, size: tuple[int, int]) -> None:
    request = scene(width=size[0], height=size[1])
    StorybookImage().generate(request, tmp_path / "out.png")
    with Image.open(tmp_path / "out.png") as image:
        assert image.size == size
        assert image.mode == "RGB"


def test_is_a_picture_not_a_placeholder(tmp_path: Path) -> None:
    request = scene(characters=[MARA, ELIAS])
    _, pixels = render(tmp_path, request)
    picture = picture_of(pixels, request)
    assert luminance(picture).std() > 12
    colors = np.unique(picture.astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colors) > 2000


def test_different_scenes_look_substantially_different(tmp_path: Path) -> None:
    _, harbor = render(tmp_path, scene(HARBOR), "harbor.png")
    _, workshop = render(tmp_path, scene(WORKSHOP), "workshop.png")
    assert np.abs(harbor - workshop).mean() > 20


def test_night_is_darker_than_dawn(tmp_path: Path) -> None:
    night_request = scene("A quiet village at night under the moon, houses on a hill.")
    dawn_request = scene("A quiet village at dawn under the sunrise, houses on a hill.")
    _, night = render(tmp_path, night_request, "night.png")
    _, dawn = render(tmp_path, dawn_request, "dawn.png")
    assert luminance(picture_of(dawn, dawn_request)).mean() - luminance(picture_of(night, night_request)).mean() > 40


def test_same_request_gives_identical_bytes(tmp_path: Path) -> None:
    request = scene(characters=[MARA, FOX])
    first, _ = render(tmp_path, request, "a.png")
    second, _ = render(tmp_path, request, "b.png")
    assert first == second


def test_seed_rearranges_the_picture_but_keeps_its_palette(tmp_path: Path) -> None:
    base, pixels = render(tmp_path, scene(seed=0), "a.png")
    reroll, rerolled = render(tmp_path, scene(seed=1), "b.png")
    _, other = render(tmp_path, scene(WORKSHOP), "c.png")
    assert base != reroll
    assert np.abs(pixels - rerolled).mean() > 2  # visibly moved
    mean_shift = np.abs(pixels.mean(axis=(0, 1)) - rerolled.mean(axis=(0, 1))).max()
    other_shift = np.abs(pixels.mean(axis=(0, 1)) - other.mean(axis=(0, 1))).max()
    assert mean_shift < 10 < other_shift  # same colour family; another scene is another family


def test_portrait_is_two_by_three_with_the_character_large(tmp_path: Path) -> None:
    request = ImageRequest(kind="portrait", prompt=f"portrait of mara, {MARA.look}", style=STYLE,
                           characters=[MARA], width=512, height=768)
    empty = request.model_copy(update={"characters": []})
    _, with_figure = render(tmp_path, request, "a.png")
    _, without = render(tmp_path, empty, "b.png")
    assert with_figure.shape[1] * 3 == with_figure.shape[0] * 2
    changed = np.abs(with_figure - without).max(axis=2) > 30
    assert changed[100:700, 100:412].mean() > 0.25  # the figure fills much of the middle


def test_characters_appear_as_figures_in_the_foreground(tmp_path: Path) -> None:
    request = scene(characters=[MARA, ELIAS])
    _, with_people = render(tmp_path, request, "a.png")
    _, empty = render(tmp_path, scene(), "b.png")
    changed = np.abs(with_people - empty).max(axis=2) > 30
    rows = np.nonzero(changed.any(axis=1))[0]
    assert changed.mean() > 0.03
    assert rows.min() > 360 * 0.3  # figures stand in the lower part, under the sky


def test_each_name_gets_its_own_tag(tmp_path: Path) -> None:
    renamed = MARA.model_copy(update={"name": "nora"})
    _, mara = render(tmp_path, scene(characters=[MARA]), "a.png")
    _, nora = render(tmp_path, scene(characters=[renamed]), "b.png")
    changed = np.abs(mara - nora).max(axis=2) > 40
    _, band = card_layout(640, 360, has_caption=True)
    tag_rows = changed[int(360 * 0.75):band[1]]
    assert tag_rows.sum() > 30  # the label under the feet reads differently


def test_caption_is_written_under_the_picture(tmp_path: Path) -> None:
    _, captioned = render(tmp_path, scene(caption="They climbed the ninety-one steps together."), "a.png")
    _, other = render(tmp_path, scene(caption="The flame caught."), "b.png")
    _, band = card_layout(640, 360, has_caption=True)
    region = np.abs(captioned - other)[band[1]:band[3], band[0]:band[2]]
    assert (region.max(axis=2) > 80).sum() > 200


def test_a_very_long_caption_still_renders(tmp_path: Path) -> None:
    request = scene(caption="word " * 300)
    _, pixels = render(tmp_path, request)
    assert pixels.shape == (360, 640, 3)


@pytest.mark.parametrize("prompt", [
    "Inside the lighthouse tower: a narrow spiral iron staircase, lit by a single swinging oil lantern.",
    "The lamp room: a huge glass lens with brass fittings, rain streaking the windows, fog outside.",
    "A cosy room with a fire in the hearth at night.",
    "A snowy pine forest at dusk with a path.",
    "A village street in the rain at noon.",
])
def test_every_kind_of_place_renders(tmp_path: Path, prompt: str) -> None:
    request = scene(prompt, characters=[ELIAS, FOX])
    _, pixels = render(tmp_path, request)
    assert luminance(picture_of(pixels, request)).std() > 10


def test_too_small_a_picture_is_a_backend_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="too small"):
        StorybookImage().generate(scene(width=32, height=32), tmp_path / "out.png")


def test_unwritable_output_is_a_backend_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="cannot write"):
        StorybookImage().generate(scene(), tmp_path / "missing" / "out.png")


def test_look_words_dress_the_figure() -> None:
    mara, elias, fox = (look_from_character(ref) for ref in (MARA, ELIAS, FOX))
    assert (mara.hat, mara.coat) == (NAMED_COLORS["red"], NAMED_COLORS["yellow"])
    assert mara.child and mara.freckles and mara.bobble and not mara.fox
    assert (elias.beard, elias.coat) == (NAMED_COLORS["grey"], NAMED_COLORS["navy"])
    assert not elias.child and elias.hat is None
    assert fox.fox and fox.clockwork and fox.glowing_eyes
    assert (fox.coat, fox.eyes, fox.label) == (NAMED_COLORS["brass"], NAMED_COLORS["green"], "Fox")


def test_style_words_bend_the_palette() -> None:
    cool = palette_from_words("a field at noon", "muted blues")
    warm = palette_from_words("a field at noon", "warm golden")
    assert cool.sky_low[2] - cool.sky_low[0] > warm.sky_low[2] - warm.sky_low[0]
    assert palette_from_words("the sea at night").sky_top != palette_from_words("the sea at dawn").sky_top


def test_fit_text_never_overflows_its_lines_or_width() -> None:
    size, lines = fit_text("an extraordinarily " * 40, max_width=300, max_height=60, max_lines=2,
                           largest=40, smallest=10)
    assert len(lines) <= 2 and lines[-1].endswith("…")
    assert all(text_width(line, size) <= 300 for line in lines)


# The pictures follow the text: structured facts (or the words, read the same way) choose the place.
BAKERY = "a bakery with a wood-fired oven, snow on the window"
CAFE = "a Parisian café"


def snow_white(picture: np.ndarray) -> np.ndarray:
    """Pixels as white as snow (the wall, floor and bread of a bakery never are)."""
    return picture.min(axis=2) > 235


@pytest.mark.parametrize("seed", [0, 1])
def test_a_snowy_bakery_is_a_room_with_snow_at_its_window(tmp_path: Path, seed: int) -> None:
    from storybuild.backends.image.spec import read_scene

    spec = read_scene(BAKERY)
    assert (spec.room, spec.snow, spec.trees, spec.sea) == ("bakery", True, False, False)
    request = scene(BAKERY, style="", seed=seed)
    _, pixels = render(tmp_path, request)
    picture = picture_of(pixels, request)
    white = snow_white(picture)
    h, w = white.shape
    ys, xs = np.nonzero(white)
    assert white.sum() > 300  # snow heaped on the sill
    assert (xs.max() - xs.min()) / w < 0.3  # ...inside one window, not a snowy landscape
    assert white[int(h * 0.6):].sum() == 0  # no snow on the floor: it is indoors
    dry = scene("a bakery with a wood-fired oven, warm and dry", style="", seed=seed)
    _, dry_pixels = render(tmp_path, dry, "dry.png")
    assert snow_white(picture_of(dry_pixels, dry)).sum() == 0


def test_structured_facts_beat_the_prompt_words(tmp_path: Path) -> None:
    from storybuild.backends.image.interface import SceneFacts
    from storybuild.backends.image.spec import read_scene

    facts = SceneFacts(setting="indoor", place="bakery", props=["oven"], weather="snow", time_of_day="night")
    spec = read_scene("a misty forest at noon", "", facts)
    assert (spec.room, spec.snow, spec.time, spec.trees) == ("bakery", True, "night", False)
    free_text = SceneFacts(setting="indoor", place="a small coffee house")
    assert read_scene("anything", "", free_text).room == "cafe"
    request = scene("a misty forest at noon", scene=facts, style="")
    _, pixels = render(tmp_path, request)
    assert snow_white(picture_of(pixels, request)).sum() > 300


def greenness(picture: np.ndarray) -> float:
    """The share of pixels where green clearly leads: grass, hills, leaves."""
    r, g, b = picture[..., 0], picture[..., 1], picture[..., 2]
    return float(((g > r + 8) & (g > b + 8)).mean())


def test_a_cafe_is_a_room_or_a_street_never_hills(tmp_path: Path) -> None:
    from storybuild.backends.image.spec import read_scene

    assert read_scene(CAFE).room == "cafe"
    terrace = read_scene("a café terrace on a street in Paris at night")
    assert terrace.room == "" and terrace.street and not terrace.trees
    hills_request = scene("green hills and meadows at noon", style="")
    _, hills = render(tmp_path, hills_request, "hills.png")
    assert greenness(picture_of(hills, hills_request)) > 0.2  # the check can tell hills
    for prompt in (CAFE, "a café terrace on a street in Paris at night"):
        request = scene(prompt, style="")
        _, pixels = render(tmp_path, request)
        assert greenness(picture_of(pixels, request)) < 0.02, prompt


def test_two_styles_paint_measurably_different_palettes(tmp_path: Path) -> None:
    warm_request = scene(CAFE, style="watercolor, warm lamplight")
    noir_request = scene(CAFE, style="noir")
    _, warm = render(tmp_path, warm_request, "warm.png")
    _, noir = render(tmp_path, noir_request, "noir.png")
    warm, noir = picture_of(warm, warm_request), picture_of(noir, noir_request)
    chroma = lambda p: float((p.max(axis=2) - p.min(axis=2)).mean())  # noqa: E731
    assert chroma(warm) > 3 * chroma(noir)  # noir is nearly grey
    assert np.abs(warm.mean(axis=(0, 1)) - noir.mean(axis=(0, 1))).max() > 10
    # A style with none of the known words still changes the colours.
    one, other = palette_from_words(CAFE, "art nouveau poster"), palette_from_words(CAFE, "ukiyo-e print")
    assert one.wall != other.wall != palette_from_words(CAFE, "").wall
