"""Every character of a caption or title is drawn as its glyph, never as the font's .notdef box."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from components import missing
from PIL import Image, ImageDraw, ImageFont

from storybuild import fonts
from storybuild.backends.image.lettering import fit_text, font, text_width
from storybuild.fonts import MissingGlyphWarning, font_for, font_identity, fonts_dir
from storybuild.media.thumbnail import render_thumbnail

NAMES = "Renée, François, Ødegaard — Ελένη, Дмитрий"
UNMAPPED = "\U0010fffd"  # no font maps it: whatever a face draws for it is that face's .notdef box
CJK = "東京夜空"


def drawn(face: ImageFont.FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    mask = face.getmask(char)
    return mask.size, bytes(mask)


def boxes(face: ImageFont.FreeTypeFont, text: str) -> list[str]:
    """The characters of ``text`` that ``face`` draws as its .notdef box."""
    notdef = drawn(face, UNMAPPED)
    return [c for c in text if not c.isspace() and drawn(face, c) == notdef]


def system_font_covers(text: str) -> bool:
    """Whether fontconfig knows a scalable font with every character of ``text``; CI must have fc-list."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        missing("fc-list (fontconfig) is not installed", "apt-get install fontconfig")
    charset = " ".join(f"{ord(c):x}" for c in text)
    found = subprocess.run([fc_list, f":scalable=true:charset={charset}", "file"], capture_output=True, text=True)
    return bool(found.stdout.strip())


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget which scripts were already warned about, so this test sees its own first warning."""
    monkeypatch.setattr(fonts, "_warned", set())


def test_pillows_own_font_draws_these_names_as_boxes() -> None:
    """The check below can fail: the old font really does lack these glyphs."""
    assert set(boxes(ImageFont.load_default(size=40), NAMES)) >= set("ΕλένηДмитрий")


@pytest.mark.parametrize("bold", [False, True])
def test_latin_greek_cyrillic_come_from_the_shipped_font(bold: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        face = font_for(NAMES, 40, bold=bold)
    assert boxes(face, NAMES) == []
    assert Path(face.path).parent == fonts_dir()
    assert face.getname()[0] == "Noto Sans"


def test_bold_is_heavier_than_regular() -> None:
    regular = np.asarray(font_for(NAMES, 40).getmask(NAMES), dtype=np.float64).sum()
    heavy = np.asarray(font_for(NAMES, 40, bold=True).getmask(NAMES), dtype=np.float64).sum()
    assert heavy > 1.25 * regular


def test_a_caption_draws_every_name(tmp_path: Path) -> None:
    size, lines = fit_text(NAMES, max_width=400, max_height=200, max_lines=3, largest=48, smallest=12)
    face = font(size, NAMES)
    assert boxes(face, NAMES) == []
    assert all(text_width(line, size, 0, NAMES) <= 400 for line in lines)
    image = Image.new("L", (420, 220), 0)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((10, 10 + i * size * 1.2), line, font=face, fill=255)
    ink = np.asarray(image) > 128
    assert ink.mean() > 0.02 and ink[:, :410].any()


@pytest.mark.filterwarnings("ignore::storybuild.fonts.MissingGlyphWarning")  # the box itself, drawn on purpose
def test_the_thumbnail_draws_each_letter_not_a_box(tmp_path: Path) -> None:
    scene = tmp_path / "scene.png"
    Image.new("RGB", (320, 180), (40, 60, 90)).save(scene)

    def pixels(title: str) -> np.ndarray:
        render_thumbnail(scene, title, tmp_path / "thumb.png", width=320, height=180)
        with Image.open(tmp_path / "thumb.png") as image:
            return np.asarray(image.convert("L"), dtype=np.int16)

    box = pixels(UNMAPPED)
    same_as_box = [c for c in sorted(set(NAMES) - set(" ,")) if np.array_equal(pixels(c), box)]
    assert same_as_box == []


def test_other_scripts_use_a_system_font_when_one_covers_them() -> None:
    text = "שלום, Tbilisi: გამარჯობა"
    if not system_font_covers("שგ"):
        missing("no system font covers Hebrew and Georgian", "apt-get install fonts-dejavu-core")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        face = font_for(text, 40)
    assert boxes(face, text) == []
    assert Path(face.path).parent != fonts_dir()
    assert "italic" not in face.getname()[1].lower() and "oblique" not in face.getname()[1].lower()
    assert font_identity(text) != font_identity("plain")


def test_cjk_renders_with_a_system_font_or_warns_once(fresh_warnings: None) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        face = font_for(CJK, 40)
        font_for("日本海", 32)  # same script again: no second warning
        font_for(CJK, 40, bold=True)
    missing = [w for w in caught if issubclass(w.category, MissingGlyphWarning)]
    if system_font_covers(CJK):
        assert boxes(face, CJK) == [] and missing == []
    else:
        assert len(missing) == 1
        assert "CJK" in str(missing[0].message) and "東" in str(missing[0].message)


def test_a_script_no_font_has_warns_once_naming_the_characters(fresh_warnings: None) -> None:
    ol_chiki = "ᱚᱛᱜ"
    if system_font_covers(ol_chiki[0]):  # a machine with an Ol Chiki font draws it, silently
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert boxes(font_for(ol_chiki, 20), ol_chiki) == []
        return
    with pytest.warns(MissingGlyphWarning, match="OL.*ᱚ"):
        font_for(ol_chiki, 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        font_for("ᱝᱞ", 20)  # another Ol Chiki text: already warned


def test_fonts_dir_holds_the_shipped_fonts_for_subtitles() -> None:
    files = sorted(p.name for p in fonts_dir().glob("*.ttf"))
    assert "NotoSans[wdth,wght].ttf" in files
    assert ImageFont.truetype(str(fonts_dir() / files[0]), 12).getname()[0] == "Noto Sans"


def test_font_identity_names_the_files_and_is_stable() -> None:
    identity = font_identity()
    assert identity == font_identity(NAMES) == font_identity()
    name, size, digest = identity.split(":")
    assert name == "NotoSans[wdth,wght].ttf"
    assert int(size) == (fonts_dir() / name).stat().st_size and len(digest) == 16
