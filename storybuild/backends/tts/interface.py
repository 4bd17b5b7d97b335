"""The text-to-speech interface every TTS backend implements, and what of a line is speakable."""

from __future__ import annotations

import re
import unicodedata
from abc import abstractmethod
from pathlib import Path

from pydantic import BaseModel

from ..base import Backend


class Voice(BaseModel):
    """A character's voice as cast.json records it.

    ``name`` is the backend's own voice name (espeak: a variant such as ``f3``); ``pitch`` and
    ``rate`` are optional nudges (0-100 pitch, words per minute) that make voices sharing a name
    distinct; ``sample`` is a reference recording in the story's ``voices/``: cloning backends
    imitate it, espeak picks the variant and pitch closest to its measured pitch.
    """

    name: str
    pitch: int | None = None
    rate: int | None = None
    volume: int | None = None
    sample: Path | None = None


class SpeechRequest(BaseModel):
    """What to say and how."""

    text: str
    voice: Voice
    language: str = "en"
    hints: list[str] = []
    seed: int = 0


# Symbols voices read as names or noise but that belong in running text, so they stay.
_SPOKEN_SYMBOLS = frozenset("°©®™℃℉№")
_ZWJ = "\u200d"
_EMOJI_MARKS = frozenset("\ufe0e\ufe0f\u20e3")  # text/emoji presentation selectors, keycap


def _pictographic(char: str) -> bool:
    """Whether ``char`` is an emoji or other pictograph, or a mark that only shapes one.

    Category So/Co covers the emoji and symbol blocks; code points in U+1F000-1FFFD that are not
    yet assigned (Cn) or are skin-tone modifiers (Sk) are Extended_Pictographic too; tag
    characters (U+E0020-E007F) spell subdivision flags.
    """
    if char in _SPOKEN_SYMBOLS:
        return False
    code, category = ord(char), unicodedata.category(char)
    return (
        category in ("So", "Co")
        or char in _EMOJI_MARKS
        or (0x1F000 <= code <= 0x1FFFD and category in ("Cn", "Sk"))
        or 0xE0020 <= code <= 0xE007F
    )


def speakable_text(text: str) -> str:
    """``text`` without emoji and pictographs, which a voice reads as names or noise (they stay in subtitles).

    A zero-width joiner goes only when it joins pictographs: Persian and Indic text need theirs.
    Text with nothing to drop comes back unchanged, so lines without emoji voice exactly as before.
    """
    dropped = [_pictographic(c) for c in text]
    if not any(dropped):
        return text
    for i, char in enumerate(text):
        if char == _ZWJ and ((i > 0 and dropped[i - 1]) or (i + 1 < len(text) and dropped[i + 1])):
            dropped[i] = True
    kept = "".join(" " if gone else c for c, gone in zip(text, dropped))
    return re.sub(r"[ \t]{2,}", " ", kept).strip()


class TTSBackend(Backend):
    """Turns text into speech.

    ``controls`` names which of a Voice's ``rate``, ``pitch`` and ``volume`` the backend honours;
    ``storybuild check`` rejects a story.toml that sets one it does not.
    """

    controls: frozenset[str] = frozenset()

    @abstractmethod
    def synthesize(self, request: SpeechRequest, out: Path) -> None:
        """Write the spoken ``request`` to ``out`` as a mono wav (any sample rate)."""

    @abstractmethod
    def voice_pool(self, gender: str | None, language: str) -> list[Voice]:
        """Distinct voices to hand out for ``gender`` (``male``/``female``/None), best first."""

    def narrator_voice(self, language: str) -> Voice:
        """The narrator's voice, kept apart from the characters' pools."""
        return self.voice_pool("male", language)[0]

    def check_voice(self, voice: str, sample: Path | None) -> str | None:
        """None if ``voice`` (or the wav ``sample`` in voices/, when given) can be spoken, else what is wrong.

        ``storybuild check`` shows the message, which should name the voices the backend knows. This
        default accepts any name and any sample that exists: a remote cloner's server decides.
        """
        if sample is not None and not Path(sample).is_file():
            return f"voice sample {sample} is missing; put a wav of a few seconds of speech there"
        return None

    def languages(self) -> list[str]:
        """The language codes this backend can speak; empty when it cannot tell (a remote model)."""
        return []
