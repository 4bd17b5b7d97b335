"""The thumbnail: the key scene filled to size with a big, high-contrast title."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from storybuild.backends.image.interface import ImageRequest
from storybuild.backends.image.lettering import text_width
from storybuild.backends.image.storybook import StorybookImage
from storybuild.errors import MediaError
from storybuild.media.thumbnail import MAX_LINES, _title_lines, render_thumbnail


@pytest.fixture(scope="module")
def key_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scene") / "scene.png"
    request = ImageRequest(kind="scene", prompt="The harbor at sunrise, a lighthouse, golden light on the water.",
                           style="muted blues", width=960, height=540)
    StorybookImage().generate(request, out)
    return out


def load(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32)


def luminance(pixels: np.ndarray) -> np.ndarray:
    return pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def test_fills_1280x720_from_any_source_size(key_scene: Path, tmp_path: Path) -> None:
    render_thumbnail(key_scene, "The Lamp at Gull Point", tmp_path / "thumb.png")
    with Image.open(tmp_path / "thumb.png") as image:
        assert (image.size, image.mode, image.format) == ((1280, 720), "RGB", "PNG")


def test_custom_size_and_a_tall_source_are_cropped_to_fill(tmp_path: Path) -> None:
    tall = tmp_path / "tall.png"
    Image.new("RGB", (300, 900), (200, 40, 40)).save(tall)
    render_thumbnail(tall, "Red", tmp_path / "thumb.png", width=640, height=360)
    pixels = load(tmp_path / "thumb.png")
    assert pixels.shape == (360, 640, 3)
    assert np.allclose(pixels[5, 5], (200, 40, 40), atol=2)  # no letterbox bars: the source fills the frame


def test_title_band_has_strong_contrast(key_scene: Path, tmp_path: Path) -> None:
    render_thumbnail(key_scene, "The Lamp at Gull Point", tmp_path / "thumb.png")
    source = luminance(np.asarray(Image.open(key_scene).convert("RGB").resize((1280, 720)), dtype=np.float32))
    band = luminance(load(tmp_path / "thumb.png"))[400:680, 64:1216]
    assert band.std() > 70 > source[400:680, 64:1216].std()
    assert (band > 230).mean() > 0.05 and (band < 40).mean() > 0.1  # light letters, dark outline and shade


def test_same_inputs_give_identical_bytes(key_scene: Path, tmp_path: Path) -> None:
    render_thumbnail(key_scene, "The Clockwork Fox", tmp_path / "a.png")
    render_thumbnail(key_scene, "The Clockwork Fox", tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_title_changes_the_picture(key_scene: Path, tmp_path: Path) -> None:
    render_thumbnail(key_scene, "The Clockwork Fox", tmp_path / "a.png")
    render_thumbnail(key_scene, "The Lamp at Gull Point", tmp_path / "b.png")
    assert np.abs(load(tmp_path / "a.png") - load(tmp_path / "b.png")).mean() > 3


@pytest.mark.parametrize("title", [
    "Fox",
    "The Extraordinarily Long and Winding Tale of the Lighthouse Keeper's Daughter Who Relit the Great Lamp",
    "Supercalifragilisticexpialidociouslyunbelievablylongsingleword",
    "word " * 120,
    "",
    "Renée, François et Ødegaard — Ελένη και Дмитрий на маяке у Чайкиной косы",
    "הסיפור של המגדלור — შუქურის ამბავი",
])
def test_any_title_fits_in_three_lines(key_scene: Path, tmp_path: Path, title: str) -> None:
    render_thumbnail(key_scene, title, tmp_path / "thumb.png")
    size, lines = _title_lines(title, 1280, 720)
    assert len(lines) <= MAX_LINES
    assert lines or not title.strip()
    whole = " ".join(title.split())  # measured in the face that draws the whole title
    assert all(text_width(line, size, round(size * 0.09), whole) <= 1280 * 0.9 for line in lines)


def test_short_titles_are_big(tmp_path: Path) -> None:
    short, _ = _title_lines("Fox", 1280, 720)
    long, _ = _title_lines("The Extraordinarily Long and Winding Tale of the Keeper's Daughter", 1280, 720)
    assert short >= 720 * 0.18 > long


def test_unreadable_scene_is_a_media_error(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(MediaError, match="cannot read"):
        render_thumbnail(tmp_path / "broken.png", "Title", tmp_path / "thumb.png")
    with pytest.raises(MediaError, match="cannot read"):
        render_thumbnail(tmp_path / "missing.png", "Title", tmp_path / "thumb.png")
