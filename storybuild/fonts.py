"""Fonts with a glyph for every character they draw, so names like Renée or Дмитрий never come out as boxes.

Pillow's bundled font covers ASCII only. The default face is Noto Sans from the ``fontpkg-noto-sans``
wheel (OFL; Latin, Greek, Cyrillic, Vietnamese; a variable font whose weight axis gives the bold),
so those scripts render the same on every machine from pip alone. For text it cannot draw (CJK,
Hebrew, Georgian, ...) the system's fonts are asked through fontconfig (``fc-list``), and the face
covering the most characters is used; characters no face has are drawn as boxes with one warning
per script, naming them.

Coverage is judged by drawing: a character a face lacks renders as that face's ``.notdef`` box,
exactly like a code point no font maps (U+10FFFD), so no font-table parser is needed.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import unicodedata
import warnings
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from .errors import BackendUnavailable

__all__ = ["MissingGlyphWarning", "font_for", "font_identity", "fonts_dir"]

_SHIPPED = "NotoSans[wdth,wght].ttf"
_UNMAPPED = "\U0010fffd"  # a private-use code point no font maps: always drawn as .notdef
_PROBE_SIZE = 32
_MAX_CANDIDATES = 8
_WEIGHTS = {False: 400, True: 700}

_warned: set[str] = set()
_warned_lock = threading.Lock()


class MissingGlyphWarning(UserWarning):
    """Some characters have no glyph in any font found: they render as boxes."""


@lru_cache(maxsize=1)
def _shipped() -> str:
    """The path of the Noto Sans variable font installed by pip."""
    try:
        import fontpkg_noto_sans
    except ImportError as exc:
        raise BackendUnavailable("the Noto Sans font is not installed; pip install fontpkg-noto-sans") from exc
    path = Path(fontpkg_noto_sans.ROOT) / "files" / _SHIPPED
    if not path.is_file():
        raise BackendUnavailable(f"{path} is missing; reinstall fontpkg-noto-sans")
    return str(path)


def fonts_dir() -> Path:
    """The folder holding the shipped .ttf files, for ffmpeg's ``subtitles=...:fontsdir=`` (family "Noto Sans")."""
    return Path(_shipped()).parent


@lru_cache(maxsize=256)
def _face(path: str, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    """``path`` loaded at ``size`` pixels, its weight axis set for ``bold`` when it has one."""
    try:
        face = ImageFont.truetype(path, max(1, size))
    except OSError as exc:
        raise BackendUnavailable(f"cannot load font {path}: {exc}") from exc
    try:
        axes = face.get_variation_axes()
    except OSError:  # not a variable font
        return face
    values = [_WEIGHTS[bold] if axis["name"] == b"Weight" else axis["default"] for axis in axes]
    face.set_variation_by_axes(values)
    return face


def _needs_glyph(char: str) -> bool:
    """Whether ``char`` must be drawn: spaces, controls, joiners and variation selectors draw nothing."""
    if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
        return False
    code = ord(char)
    return not (0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF)


@lru_cache(maxsize=65536)
def _covers(path: str, char: str) -> bool:
    """Whether the face at ``path`` has a real glyph for ``char`` (it does not draw its .notdef box)."""
    face = _face(path, _PROBE_SIZE, False)

    def drawn(text: str) -> tuple[tuple[int, int], bytes]:
        mask = face.getmask(text)
        return mask.size, bytes(mask)

    return drawn(char) != drawn(_UNMAPPED)


def _script(char: str) -> str:
    """A rough script name for warnings: SYMBOL, or the first word of the character's Unicode name."""
    if unicodedata.category(char).startswith("S"):
        return "SYMBOL"
    name = unicodedata.name(char, "")
    return name.split()[0] if name else f"U+{ord(char):04X}"


@lru_cache(maxsize=1024)
def _system_fonts(chars: str) -> tuple[tuple[str, str], ...]:
    """(path, style) of scalable system fonts that fontconfig says cover every character of ``chars``."""
    fc_list = shutil.which("fc-list")
    if fc_list is None or not chars:
        return ()
    charset = " ".join(f"{ord(c):x}" for c in sorted(set(chars)))
    try:
        found = subprocess.run(
            [fc_list, "--format", "%{file}\t%{style}\n", f":scalable=true:charset={charset}"],
            capture_output=True, text=True, timeout=30, check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    rows = {tuple(line.split("\t", 1)) for line in found.splitlines() if "\t" in line}
    return tuple(sorted((p, s) for p, s in rows if p.lower().endswith((".ttf", ".otf", ".ttc"))))


def _rank(style: str, bold: bool) -> tuple[bool, bool, bool]:
    """Sort key putting upright faces of the wanted weight first, plain Regular/Bold before Light or Condensed."""
    words = set(style.lower().replace(",", " ").split())
    upright = not words & {"italic", "oblique"}
    weight = ("bold" in words) == bold
    plain = not words & {"light", "extralight", "thin", "condensed", "black", "mono"}
    return not upright, not weight, not plain


def _candidates(missing: list[str], bold: bool) -> list[str]:
    """System fonts worth trying for ``missing``, best styled first: ones covering all of it, else per script."""
    found = list(_system_fonts("".join(missing)))
    if not found:
        for script in sorted({_script(c) for c in missing}):
            chars = "".join(c for c in missing if _script(c) == script)
            found += [row for row in _system_fonts(chars) if row not in found]
    ranked = sorted(found, key=lambda row: (_rank(row[1], bold), row[0]))
    return [path for path, _ in ranked[:_MAX_CANDIDATES]]


@lru_cache(maxsize=1024)
def _choose(text: str, bold: bool) -> tuple[str, str]:
    """The font path that draws the most characters of ``text`` and the characters it cannot draw."""
    needed = sorted({c for c in text if _needs_glyph(c)})
    shipped = _shipped()
    missing = [c for c in needed if not _covers(shipped, c)]
    if not missing:
        return shipped, ""
    best, best_missing = shipped, missing
    for path in _candidates(missing, bold):
        try:
            lacking = [c for c in needed if not _covers(path, c)]
        except BackendUnavailable:
            continue  # an unreadable system font is skipped, not fatal
        if len(lacking) < len(best_missing):
            best, best_missing = path, lacking
    return best, "".join(best_missing)


def _warn_missing(chars: str) -> None:
    """Warn once per script about characters that will render as boxes."""
    by_script: dict[str, str] = {}
    for char in chars:
        by_script[_script(char)] = by_script.get(_script(char), "") + char
    for script, found in sorted(by_script.items()):
        with _warned_lock:
            if script in _warned:
                continue
            _warned.add(script)
        warnings.warn(
            f"no font has glyphs for the {script} characters {found!r}; they render as boxes. "
            "Install a system font that covers them (e.g. apt-get install fonts-noto-cjk for Chinese, "
            "Japanese and Korean; check with fc-list ':charset=<hex>') and rebuild.",
            MissingGlyphWarning,
            stacklevel=3,
        )


def font_for(text: str, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A face at ``size`` pixels that draws every character of ``text``: Noto Sans, else a system font.

    Characters no face can draw are warned about once per script; the face drawing the most wins.
    """
    path, missing = _choose(text, bold)
    if missing:
        _warn_missing(missing)
    return _face(path, size, bold)


@lru_cache(maxsize=64)
def _file_identity(path: str) -> str:
    """``name:size:xxh3`` of a font file, so a changed font changes cache keys."""
    import xxhash

    data = Path(path).read_bytes()
    return f"{Path(path).name}:{len(data)}:{xxhash.xxh3_64_hexdigest(data)}"


def font_identity(text: str = "") -> str:
    """The fonts that draw ``text`` (always including the shipped one), for cache keys and recipes."""
    paths = {_shipped(), _choose(text, False)[0], _choose(text, True)[0]}
    return ";".join(sorted(_file_identity(p) for p in paths))
