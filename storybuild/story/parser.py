"""Read story.txt into a Story, or say where and why it does not parse (``file:line:col: message``).

Columns are 1-based characters of the line as an editor shows it: a leading BOM is not counted,
a tab counts as one, and text is NFC-normalized first so ``zoë`` typed either way is one name.

Where STORY_FORMAT.md is silent, this parser decides:

- The header ends only at the first scene or spoken line; a ``{cue}`` line does not end it. The
  colon follows the key directly (``title : x`` is prose). An empty value is accepted: an empty
  title falls back to the slug, an empty language to ``en``.
- Scene ids and speaker tags may use Unicode letters and digits, with combining marks after the
  first character (Devanagari, Thai...). Both are at most 48 characters, since they become file
  names and 48 four-byte characters still leave room under the 255-byte limit.
- Scene ids are kept as written but compared case-insensitively: ``Harbor`` and ``harbor`` would be
  one file on macOS and Windows. Speaker names are case-folded.
- ``(`` and ``{`` inside a spoken line cannot nest or hold brackets (an error says where); a stray
  ``)`` or ``}`` is read as text. ``()`` is an error like ``{}``. Where a hint or cue is taken out,
  no space is left before the punctuation that follows it.
- A line holding only ``{cues}`` is that many cues between lines. A tagged line with only a cue, or
  only stage directions, is an error: there is nothing to read aloud.
- Inline cues follow their line in ``Scene.items``; cues are numbered in the order they are written.
- A scene with no lines is accepted.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ..errors import StoryError
from .model import NARRATOR, OPENING_SCENE, Character, Cue, Line, Scene, Story

__all__ = ["MAX_FILE_BYTES", "MAX_ID_CHARS", "MAX_LINE_CHARS", "parse_story", "parse_text"]

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_LINE_CHARS = 2000
MAX_ID_CHARS = 48

_HEADER_KEYS = ("title", "style", "language")
_GENDER_PREFIXES = (("male_", "male"), ("female_", "female"))

# ASCII-only matching: with Unicode case folding 'ſtyle' and 'tİtle' would be header keys too.
_HEADER = re.compile(rf"(?ai)({'|'.join(_HEADER_KEYS)}):(.*)")
# What a header someone meant would look like: a short word, a colon (``author: me``).
_HEADER_LIKE = re.compile(r"(?a)([A-Za-z][A-Za-z0-9_-]{0,23}):")
_SCENE = re.compile(r"\(([^)]*)\)")
_TAG = re.compile(r"\[([^\]]*)\]")
_SLUG = re.compile(r"[a-z0-9-]+")
_SCENE_ID = re.compile(r"[^\W_][\w.-]*")
_SPEAKER_ID = re.compile(r"\w+")
_BRACKET = re.compile(r"[(){}]")
# Plain text, a (hint), a {cue}, or an opener that neither closes cleanly: the last is an error.
_BODY = re.compile(r"[^({]+|\((?P<hint>[^(){}]*)\)|\{(?P<cue>[^(){}]*)\}|(?P<open>[({])")
_MARKS = frozenset(("Mn", "Mc"))
_PUNCTUATION = frozenset(".,;:!?…")


def parse_story(path: Path | str, slug: str | None = None, *, shown: Path | str | None = None) -> Story:
    """Read and parse ``.../<slug>/story.txt``; the slug defaults to the folder's name.

    ``shown`` is the path messages name (relative to the project root), when ``path`` is not it.
    """
    if slug is None:
        slug = Path(path).absolute().parent.name
    source, path = path, shown if shown is not None else path
    try:
        with open(source, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise StoryError(path, 1, 1, f"cannot read the story: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise StoryError(path, 1, 1, "file is over 5 MB: expected a story of at most 5 MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(data, exc.start)
        raise StoryError(
            path, line, column,
            f"not UTF-8 (byte 0x{data[exc.start]:02X}): expected UTF-8 text; "
            "save the file as UTF-8",
        ) from exc
    return parse_text(text, path, slug)


def parse_text(text: str, path: Path | str, slug: str) -> Story:
    """Parse story text (a BOM and CRLF are fine) into a Story; ``path`` is for messages."""
    if not _SLUG.fullmatch(slug):
        raise StoryError(
            path, 1, 1,
            f"story folder {slug!r} is not a valid slug: "
            "expected lowercase letters, digits and '-'",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return _Parser(path, slug).parse(text)


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of the byte at ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    before = data[line_start:offset].decode("utf-8")  # valid: the first bad byte is at offset
    if line_start == 0 and before.startswith("\ufeff"):
        before = before[1:]
    return data.count(b"\n", 0, offset) + 1, len(before) + 1


def _first_bad(ident: str, allowed: re.Pattern[str], extra: str) -> int:
    """Index of the first character not allowed in ``ident``, or -1 when all are."""
    if allowed.fullmatch(ident):
        return -1
    for i, char in enumerate(ident):
        if char.isalnum() or (i and char in extra):
            continue
        # re's \w has no combining marks, yet many scripts cannot write a name without them.
        if i and unicodedata.category(char) in _MARKS:
            continue
        return i
    return -1


class _Parser:
    """One pass over the lines; holds what the story has said so far."""

    def __init__(self, path: Path | str, slug: str) -> None:
        self.path = path
        self.slug = slug
        self.header: dict[str, tuple[str, int]] = {}
        self.in_header = True
        self.scenes: list[tuple[str, str, int, list[Line | Cue]]] = []  # Scene fields, built last
        self.items: list[Line | Cue] | None = None
        self.scene_id = ""
        self.implicit_opening = False
        self.scene_lines: dict[str, tuple[str, int]] = {}  # folded id -> (id, line)
        self.speakers: dict[str, list] = {}  # name -> [gender, first line]
        self.line_count = 0
        self.cue_count = 0
        self.header_end = 0  # the line that ended the header
        self.warnings: list[str] = []

    def error(self, lineno: int, column: int, message: str) -> StoryError:
        return StoryError(self.path, lineno, column, message)

    def parse(self, text: str) -> Story:
        for lineno, line in enumerate(text.split("\n"), 1):
            line = line.rstrip()
            if not line:
                continue
            if len(line) > MAX_LINE_CHARS:
                raise self.error(
                    lineno, MAX_LINE_CHARS + 1,
                    f"line is {len(line):,} characters long: expected at most "
                    f"{MAX_LINE_CHARS:,}; split it into several lines",
                )
            start = len(line) - len(line.lstrip())
            first = line[start]
            if first == "#":
                continue
            if first == "(":
                self.scene(line, start, lineno)
            elif first == "[":
                self.tagged(line, start, lineno)
            elif not (self.in_header and self.header_line(line, start, lineno)):
                self.warn_header_like(line, start, lineno)
                self.spoken(line, start, lineno, NARRATOR, None, None)
        if not self.line_count:
            raise self.error(
                1, 1, "no spoken line: expected at least one '[speaker] text' or narrator line"
            )
        return self.story()

    def header_line(self, line: str, start: int, lineno: int) -> bool:
        match = _HEADER.match(line, start)
        if match is None:
            return False
        key = match.group(1).lower()
        if key in self.header:
            raise self.error(
                lineno, start + 1,
                f"header key '{key}' given twice (first on line {self.header[key][1]}): "
                "expected each header key once",
            )
        self.header[key] = (match.group(2).strip(), lineno)
        return True

    def warn_header_like(self, line: str, start: int, lineno: int) -> None:
        """Warn about a narration line that was probably meant as a header: it is read aloud."""
        where = f"{self.path}:{lineno}:{start + 1}"
        known = ", ".join(f"{key}:" for key in _HEADER_KEYS)
        if self.in_header:
            match = _HEADER_LIKE.match(line, start)
            if match is not None:
                self.warnings.append(
                    f"{where}: '{match.group(1)}:' is not a header (headers are {known}): "
                    "this line is read aloud as narration, and every line after it is story, not header"
                )
            return
        match = _HEADER.match(line, start)
        if match is not None:
            self.warnings.append(
                f"{where}: '{match.group(1)}:' comes after the header ended on line {self.header_end}: "
                "it is read aloud as narration; move it above the first scene or spoken line"
            )

    def end_header(self, lineno: int) -> None:
        if self.in_header:
            self.in_header, self.header_end = False, lineno

    def scene(self, line: str, start: int, lineno: int) -> None:
        match = _SCENE.match(line, start)
        if match is None:
            raise self.error(lineno, start + 1, "unclosed '(': expected ')' to end the scene id")
        scene_id = match.group(1)
        column = start + 2
        if not scene_id:
            raise self.error(
                lineno, start + 1, "empty scene id '()': expected an id such as (harbor)"
            )
        self.check_id(scene_id, lineno, column)
        known = self.scene_lines.get(scene_id.casefold())
        if known is not None:
            if self.implicit_opening and known[0] == OPENING_SCENE:
                already = f"the lines before the first scene (from line {known[1]}) already form " \
                    f"the implicit scene '{OPENING_SCENE}'"
            else:
                already = f"scene '{known[0]}' is on line {known[1]}"
            # Ids that differ only in case would be one file on macOS and Windows.
            case = " (ids are compared ignoring case)" if known[0] != scene_id else ""
            raise self.error(
                lineno, column,
                f"duplicate scene id '{scene_id}': {already}; expected each scene id once{case}",
            )
        self.new_scene(scene_id, " ".join(line[match.end():].split()), lineno)
        self.end_header(lineno)

    def check_id(self, scene_id: str, lineno: int, column: int) -> None:
        bad = _first_bad(scene_id, _SCENE_ID, "_.-")
        dots = scene_id.find("..")
        if dots >= 0 and (bad < 0 or dots <= bad):
            raise self.error(
                lineno, column + dots,
                "scene id contains '..': expected no '..' in an id, since ids become file names",
            )
        if bad >= 0:
            char = scene_id[bad]
            if char in "/\\":
                why = f"scene id contains {char!r}: expected no '/' or '\\' in an id, " \
                    "since ids become file names"
            elif bad == 0:
                why = f"scene id starts with {char!r}: expected a letter or digit first"
            else:
                why = f"scene id contains {char!r}: expected only letters, digits, '_', '.' and " \
                    "'-', then ')' (a line starting with '(' starts a scene)"
            raise self.error(lineno, column + bad, why)
        if len(scene_id) > MAX_ID_CHARS:
            raise self.error(
                lineno, column + MAX_ID_CHARS,
                f"scene id is {len(scene_id)} characters long: expected at most {MAX_ID_CHARS}",
            )

    def new_scene(self, scene_id: str, description: str, lineno: int) -> None:
        self.items = []
        self.scene_id = scene_id
        self.scene_lines[scene_id.casefold()] = (scene_id, lineno)
        self.scenes.append((scene_id, description, lineno, self.items))

    def open_implicitly(self, lineno: int) -> None:
        self.new_scene(OPENING_SCENE, "", lineno)
        self.implicit_opening = True

    def tagged(self, line: str, start: int, lineno: int) -> None:
        match = _TAG.match(line, start)
        if match is None:
            raise self.error(lineno, start + 1, "unclosed '[': expected ']' to end the speaker tag")
        tag = match.group(1)
        column = start + 2
        if not tag:
            raise self.error(
                lineno, start + 1, "empty speaker tag '[]': expected a name such as [mara]"
            )
        bad = _first_bad(tag, _SPEAKER_ID, "")
        if bad >= 0:
            raise self.error(
                lineno, column + bad,
                f"speaker tag contains {tag[bad]!r}: expected only letters, digits and '_', "
                "then ']'",
            )
        name, gender, skip = tag.casefold(), None, 0
        for prefix, sex in _GENDER_PREFIXES:
            if name.startswith(prefix):
                name, gender, skip = name[len(prefix):], sex, len(prefix)
                break
        if not name:
            raise self.error(
                lineno, column + skip,
                f"speaker tag [{tag}] has a gender prefix but no name: expected e.g. [{tag}fox]",
            )
        if len(tag) - skip > MAX_ID_CHARS:
            raise self.error(
                lineno, column + skip + MAX_ID_CHARS,
                f"speaker name is {len(tag) - skip} characters long: "
                f"expected at most {MAX_ID_CHARS}",
            )
        self.spoken(line, match.end(), lineno, name, gender, tag)

    def spoken(
        self, line: str, start: int, lineno: int, speaker: str, gender: str | None, tag: str | None
    ) -> None:
        """Add a spoken line (with its hints and inline cues), or the cues of a cue-only line."""
        body = line[start:]
        if _BRACKET.search(body) is None:
            text, hints, cues = " ".join(body.split()), [], []
        else:
            text, hints, cues = self.body(line, start, lineno)
        if not text:
            text_column = start + len(body) - len(body.lstrip()) + 1
            if hints:
                raise self.error(
                    lineno, text_column,
                    "line has only stage directions: expected words to read aloud",
                )
            if tag is not None:
                raise self.error(
                    lineno, text_column,
                    f"[{tag}] has nothing to say: expected words to read aloud after ']'"
                    + (" (a sound cue alone goes on its own line)" if cues else ""),
                )
            for cue_text, _ in cues:
                self.add_cue(cue_text, lineno, "between", 0.0)
            return
        if self.items is None:
            self.open_implicitly(lineno)
        self.end_header(lineno)
        self.line_count += 1
        self.items.append(Line(
            index=self.line_count, speaker=speaker, text=text, hints=hints,
            lineno=lineno, scene=self.scene_id,
        ))
        known = self.speakers.get(speaker)
        if known is None:
            self.speakers[speaker] = [gender, lineno]
        elif known[0] is None:
            known[0] = gender
        for cue_text, position in cues:
            self.add_cue(cue_text, lineno, "inline", position)

    def body(
        self, line: str, start: int, lineno: int
    ) -> tuple[str, list[str], list[tuple[str, float]]]:
        """Split a spoken line's text from its (hints) and {cues}, and place each cue in it."""
        pieces: list[str] = []
        hints: list[str] = []
        raw_cues: list[tuple[str, str]] = []
        removed = False
        for match in _BODY.finditer(line, start):
            kind = match.lastgroup
            if kind is None:
                piece = match.group()
                # "light it (softly)." must read "light it.", not "light it .".
                if removed and pieces and piece[0] in _PUNCTUATION:
                    pieces[-1] = pieces[-1].rstrip()
                pieces.append(piece)
                removed = False
                continue
            removed = True
            if kind == "open":
                raise self.bracket_error(line, match.start(), lineno)
            inner = " ".join(match.group(kind).split())
            if kind == "hint":
                if not inner:
                    raise self.error(
                        lineno, match.start() + 1,
                        "empty stage direction '()': expected words between '(' and ')'",
                    )
                hints.append(inner)
            else:
                if not inner:
                    raise self.error(
                        lineno, match.start() + 1,
                        "empty sound cue '{}': expected a sound between '{' and '}'",
                    )
                raw_cues.append((inner, "".join(pieces)))
        text = " ".join("".join(pieces).split())
        cues = []
        for inner, before in raw_cues:
            # Count in the collapsed text; a space just before the cue puts it after that space.
            offset = len(" ".join(before.split()))
            if offset and before[-1].isspace():
                offset += 1
            cues.append((inner, min(offset / len(text), 1.0) if text else 0.0))
        return text, hints, cues

    def bracket_error(self, line: str, at: int, lineno: int) -> StoryError:
        opener = line[at]
        closer, what = (")", "stage direction") if opener == "(" else ("}", "sound cue")
        if closer not in line[at + 1:]:
            return self.error(
                lineno, at + 1, f"unclosed '{opener}': expected '{closer}' to end the {what}"
            )
        inner = _BRACKET.search(line, at + 1)
        return self.error(
            lineno, inner.start() + 1,
            f"{inner.group()!r} inside the {what} opened on column {at + 1}: expected '{closer}' "
            "first; stage directions and sound cues cannot nest",
        )

    def add_cue(self, text: str, lineno: int, anchor: str, position: float) -> None:
        if self.items is None:
            self.open_implicitly(lineno)
        self.cue_count += 1
        self.items.append(Cue(
            index=self.cue_count, text=text, lineno=lineno, scene=self.scene_id,
            anchor=anchor, line=self.line_count, position=position,
        ))

    def story(self) -> Story:
        header = {key: value for key, (value, _) in self.header.items()}
        title = header.get("title") or " ".join(
            word.capitalize() for word in self.slug.split("-") if word
        )
        characters = [
            Character(name=name, gender=gender, first_line=first)
            for name, (gender, first) in self.speakers.items()
        ]
        # Built last: a validated model copies its lists, so items appended later would be lost.
        scenes = [
            Scene(id=scene_id, description=description, lineno=lineno, items=items)
            for scene_id, description, lineno, items in self.scenes
        ]
        return Story(
            slug=self.slug, path=Path(self.path), title=title, style=header.get("style", ""),
            language=header.get("language") or "en", scenes=scenes, characters=characters,
            header_lines={key: line for key, (_, line) in self.header.items()}, warnings=self.warnings,
        )
