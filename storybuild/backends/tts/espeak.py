"""The embedded TTS backend: libespeak-ng from the ``espeakng-loader`` wheel, through ctypes.

Nothing outside pip is needed: the wheel ships the shared library and its ``espeak-ng-data``.

Two properties of the library shape this module:

* It is one global engine and not thread-safe, so every use goes through ``_LOCK`` (doit runs
  tasks in threads with ``-P thread``).
* It keeps static state across utterances (the pitch-flutter phase, the glottal phase), so the
  same line comes out a few samples different depending on what was spoken before it. Every
  synthesis therefore loads a fresh instance of the library and unloads it afterwards (about a
  millisecond): a line's audio then depends only on its request, and cached artifacts are
  reproducible.

Emoji and pictographs are dropped before speaking (``speakable_text``): espeak would read them
as names or noise. A line that is only emoji becomes a short silence.

A voice sample (``Voice.sample``, a wav in the story's ``voices/``) cannot be imitated by espeak;
it is matched instead: its median pitch is measured (``pitch.sample_f0``) and the character speaks
with the m/f variant whose own pitch is nearest (``_VARIANT_F0``), nudged by espeak's pitch
setting to land on the sample's. A low male recording gets a low male variant, a high female one
a high female variant. The narrator's m5 is never chosen.

Stage-direction hints nudge the delivery (see ``_HINTS``); several hints combine:

    quiet / softly / murmur      volume x0.65, rate x0.95, range -10
    whisper                      volume x0.45, rate x0.90, pitch -5, range -20
    shout / yell / loud / cry    volume x1.40, rate x1.05, pitch +10, range +20
    angry / furious              volume x1.20, rate x1.10, range +15
    slowly                       rate x0.80
    quickly / hurried            rate x1.20
    laugh / chuckle / giggle     rate x1.05, pitch +8, range +25
    out of breath / panting      volume x0.85, rate x1.15, range -10
    sad / sobbing / tearful      rate x0.85, pitch -5, range -15
    excited / eager              rate x1.10, pitch +8, range +20
    nervous / trembling / timid  volume x0.85, rate x1.05, pitch +5
    calm / gently                rate x0.90, range -10
    tired / sleepy / yawning     rate x0.80, pitch -5, range -20
"""

from __future__ import annotations

import ctypes
import re
import sys
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from pydantic import BaseModel, ConfigDict, Field

from ...errors import BackendError, BackendUnavailable
from .interface import SpeechRequest, TTSBackend, Voice, speakable_text
from .pitch import sample_f0

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SAMPLE_RATE", "EspeakOptions", "EspeakTTS", "languages", "variants"]

SAMPLE_RATE = 22050

# espeak_lib.h constants.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # without it a missing data file calls exit() in our process
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH, _RANGE, _WORDGAP = 1, 2, 3, 4, 7
_ERRORS = {-1: "internal error", 1: "buffer full", 2: "not found"}

_LOCK = threading.Lock()


class _Event(ctypes.Structure):
    """espeak_EVENT, declared only so the callback's pointer type is right."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class EspeakOptions(BaseModel):
    """Settings shared by every line the backend speaks."""

    model_config = ConfigDict(extra="forbid")

    rate: int = Field(165, ge=80, le=450, description="base speaking rate, words per minute")
    pitch: int = Field(50, ge=0, le=100, description="base pitch for voices that do not set one")
    pitch_range: int = Field(50, ge=0, le=100, description="intonation range; 0 is monotone")
    volume: int = Field(100, ge=10, le=200, description="amplitude, 100 is espeak's default")
    word_gap: int = Field(0, ge=0, le=50, description="extra pause between words, 10 ms units")


@dataclass(frozen=True)
class _Steer:
    """How one kind of stage direction changes the delivery."""

    rate: float = 1.0
    pitch: int = 0
    range: int = 0
    volume: float = 1.0


_HINTS: list[tuple[re.Pattern[str], _Steer]] = [
    (re.compile(p), s)
    for p, s in [
        (r"\b(quiet\w*|soft\w*|murmur\w*|mutter\w*|hush\w*)\b", _Steer(0.95, 0, -10, 0.65)),
        (r"\bwhisper\w*\b", _Steer(0.90, -5, -20, 0.45)),
        (r"\b(shout\w*|yell\w*|loud\w*|scream\w*|cr(y|ies|ied|ying) out|bellow\w*)\b", _Steer(1.05, 10, 20, 1.4)),
        (r"\b(angr\w*|furious\w*|snap\w*)\b", _Steer(1.10, 0, 15, 1.2)),
        (r"\bslow\w*\b", _Steer(rate=0.80)),
        (r"\b(quick\w*|fast|hurried\w*|hast\w*|rapid\w*)\b", _Steer(rate=1.20)),
        (r"\b(laugh\w*|chuckl\w*|giggl\w*)\b", _Steer(1.05, 8, 25)),
        (r"\b(out of breath|breathless\w*|panting|gasp\w*)\b", _Steer(1.15, 0, -10, 0.85)),
        (r"\b(sad\w*|sob\w*|tearful\w*|weep\w*)\b", _Steer(0.85, -5, -15)),
        (r"\b(excit\w*|eager\w*|delight\w*)\b", _Steer(1.10, 8, 20)),
        (r"\b(nervous\w*|trembl\w*|timid\w*|anxious\w*)\b", _Steer(1.05, 5, 0, 0.85)),
        (r"\b(calm\w*|gentl\w*)\b", _Steer(0.90, 0, -10)),
        (r"\b(tired\w*|sleep\w*|drows\w*|yawn\w*)\b", _Steer(0.80, -5, -20)),
    ]
]

# Pools, best first: each voice differs from the ones before it by variant or by at least 8
# pitch points, so the first characters cast get the most distinct voices. m5 is kept out of
# both pools because it is the narrator's variant (intonation 2: the calmest reading).
_POOLS: dict[str, list[tuple[str, int, int]]] = {
    # (variant, pitch, rate offset from the base rate)
    "male": [
        ("m3", 50, 0), ("m1", 44, -8), ("m7", 58, 6), ("m2", 40, -4), ("m4", 54, 10),
        ("m6", 36, -12), ("m8", 48, 4), ("m3", 66, 12), ("m1", 30, -14), ("m7", 40, 0),
        ("m6", 62, 8), ("m4", 34, -6),
    ],
    "female": [
        ("f3", 50, 0), ("f1", 44, -6), ("f4", 58, 8), ("f2", 40, -10), ("f5", 54, 4),
        ("f3", 66, 12), ("f1", 30, -14), ("f4", 38, -2), ("f2", 62, 10), ("f5", 36, -8),
    ],
}
_NARRATOR = ("m5", 42, -15)

# Median f0 in Hz of each variant at espeak pitch 0, 25, 50, 75 and 100, measured once with
# pitch.median_f0 on "The keeper climbed the stairs and looked out over the dark water." (rate 165,
# range 50, espeakng-loader 0.2.4). Recompute if espeak-ng's voices change.
_PITCH_STEPS = (0, 25, 50, 75, 100)
_VARIANT_F0: dict[str, tuple[int, ...]] = {
    "m1": (65, 77, 95, 121, 159), "m2": (65, 78, 102, 134, 178), "m3": (70, 85, 105, 134, 172),
    "m4": (69, 78, 96, 121, 154), "m6": (68, 82, 103, 133, 172), "m7": (79, 92, 109, 136, 171),
    "m8": (65, 73, 88, 110, 141),
    "f1": (114, 140, 179, 235, 306), "f2": (134, 160, 199, 253, 324), "f3": (154, 178, 214, 269, 339),
    "f4": (117, 144, 181, 237, 311), "f5": (133, 165, 206, 269, 350),
}
_SILENCE = 0.25  # seconds of silence for a line with nothing speakable (only emoji)


def _data_path() -> Path:
    try:
        import espeakng_loader

        return Path(espeakng_loader.get_data_path())
    except (ImportError, RuntimeError) as exc:
        raise BackendUnavailable(f"espeak-ng data not found; is espeakng-loader installed? ({exc})") from exc


def _library_path() -> str:
    try:
        import espeakng_loader
    except ImportError as exc:
        raise BackendUnavailable("espeakng-loader is not installed; pip install espeakng-loader") from exc
    return espeakng_loader.get_library_path()


@lru_cache(maxsize=1)
def languages() -> dict[str, str]:
    """The languages espeak-ng can speak: lower-case code -> the code as its data spells it."""
    return {p.name.lower(): p.name for p in (_data_path() / "lang").rglob("*") if p.is_file()}


@lru_cache(maxsize=1)
def variants() -> frozenset[str]:
    """The voice variants (m1, f3, whisper, ...) shipped in espeak-ng-data/voices/!v."""
    return frozenset(p.name for p in (_data_path() / "voices" / "!v").iterdir() if p.is_file())


def _language_code(language: str) -> str:
    code = languages().get(language.strip().lower().replace("_", "-"))
    if code is None:
        raise BackendError(f"espeak has no language {language!r}; known codes include en, fr, de, es, it, nl, pt")
    return code


def _unload(handle: int) -> None:
    import _ctypes

    if sys.platform == "win32":
        _ctypes.FreeLibrary(handle)
    else:
        _ctypes.dlclose(handle)


@contextmanager
def _engine(callback: _Callback) -> Iterator[ctypes.CDLL]:
    """A freshly loaded, initialised libespeak-ng, unloaded on exit so no state outlives one line."""
    try:
        lib = ctypes.CDLL(_library_path())
    except OSError as exc:
        raise BackendUnavailable(f"cannot load libespeak-ng: {exc}") from exc
    initialised = False
    try:
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(_data_path()).encode(), _INITIALIZE_DONT_EXIT
        )
        if rate != SAMPLE_RATE:
            raise BackendUnavailable(f"libespeak-ng failed to initialise (returned {rate})")
        initialised = True
        lib.espeak_SetSynthCallback(callback)
        yield lib
    finally:
        if initialised:
            lib.espeak_Terminate()
        _unload(lib._handle)


def match_sample(f0: float) -> tuple[str, int]:
    """The variant whose natural pitch is nearest ``f0`` Hz, and the pitch setting that lands on it."""
    import math

    import numpy as np

    def distance(variant: str) -> float:
        return abs(math.log(_VARIANT_F0[variant][2] / f0))

    variant = min(sorted(_VARIANT_F0), key=distance)
    curve = np.log(np.array(_VARIANT_F0[variant], dtype=np.float64))
    pitch = float(np.interp(math.log(f0), curve, np.array(_PITCH_STEPS, dtype=np.float64)))
    return variant, _clamp(pitch, 0, 100)


def _known_voices() -> str:
    """The voice names for an error message: the m/f variants, then the best known of the rest."""
    names = variants()
    gendered = [f"{g}1..{g}{max(int(n[1:]) for n in names if n[:1] == g and n[1:].isdigit())}" for g in "fm"]
    others = sorted(n for n in names if not (n[:1] in "fm" and n[1:].isdigit()))
    shown = [n for n in ("whisper", "whisperf", "croak", "klatt", "grandma", "grandpa") if n in names]
    return f"{', '.join(gendered + shown)} and {len(others) - len(shown)} more in espeak-ng-data/voices/!v"


def _clamp(value: float, low: int, high: int) -> int:
    return int(min(max(round(value), low), high))


def _check(what: str, status: int) -> None:
    if status != 0:
        raise BackendError(f"espeak {what} failed: {_ERRORS.get(status, f'status {status}')}")


def _clean(text: str) -> bytes:
    """UTF-8 text with control characters removed: espeak reads U+0001 as an embedded command."""
    kept = "".join(c if unicodedata.category(c) != "Cc" else " " for c in text)
    return kept.encode("utf-8") + b"\0"


class EspeakTTS(TTSBackend):
    """Speech from libespeak-ng: robotic but instant, offline and pip-installable."""

    name = "espeak"
    version = "2"  # 2: emoji are no longer voiced; voice samples are matched by pitch
    Options = EspeakOptions
    controls = frozenset({"rate", "pitch", "volume"})

    @property
    def _options(self) -> EspeakOptions:
        return self.options  # type: ignore[return-value]

    def _settings(self, request: SpeechRequest) -> tuple[bytes, dict[int, int]]:
        """The voice name and parameter values for ``request``, hints applied."""
        voice, opts = request.voice, self._options
        variant, pitch = voice.name, voice.pitch if voice.pitch is not None else opts.pitch
        if voice.sample is not None:
            variant, matched = match_sample(sample_f0(voice.sample))
            pitch = voice.pitch if voice.pitch is not None else matched
        elif voice.name not in variants():
            raise BackendError(self.check_voice(voice.name, None) or f"espeak cannot speak {voice.name!r}")
        rate = float(voice.rate or opts.rate)
        span, volume = opts.pitch_range, float(opts.volume) * (voice.volume or 100) / 100
        for hint in request.hints:
            for pattern, steer in _HINTS:
                if pattern.search(hint.lower()):
                    rate, pitch = rate * steer.rate, pitch + steer.pitch
                    span, volume = span + steer.range, volume * steer.volume
        params = {
            _RATE: _clamp(round(rate), 80, 450),
            _PITCH: _clamp(pitch, 0, 100),
            _RANGE: _clamp(span, 0, 100),
            _VOLUME: _clamp(round(volume), 0, 200),
            _WORDGAP: opts.word_gap,
        }
        name = f"{_language_code(request.language)}+{variant}"
        return name.encode("ascii"), params

    def render(self, request: SpeechRequest) -> np.ndarray:
        """The spoken ``request`` as int16 samples at ``SAMPLE_RATE``."""
        import numpy as np

        voice_name, params = self._settings(request)
        speakable = speakable_text(request.text)
        if not any(c.isalnum() for c in speakable):
            return np.zeros(round(_SILENCE * SAMPLE_RATE), np.int16)
        text = _clean(speakable)
        chunks: list[np.ndarray] = []

        def collect(wav: ctypes._Pointer, count: int, _events: ctypes._Pointer) -> int:
            if wav and count > 0:
                chunks.append(np.ctypeslib.as_array(wav, (count,)).copy())
            return 0

        callback = _Callback(collect)  # kept referenced until the library is unloaded
        with _LOCK, _engine(callback) as lib:
            _check(f"voice {voice_name.decode()!r}", lib.espeak_SetVoiceByName(voice_name))
            lib.espeak_ng_SetRandSeed(1)
            for parameter, value in params.items():
                _check("parameter", lib.espeak_SetParameter(parameter, value, 0))
            status = lib.espeak_Synth(text, len(text), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            _check("synthesis", status)
            _check("synchronise", lib.espeak_Synchronize())
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)

    def synthesize(self, request: SpeechRequest, out: Path) -> None:
        """Write the spoken ``request`` to ``out`` as a mono 16-bit wav at 22050 Hz."""
        import soundfile as sf

        samples = self.render(request)
        try:
            sf.write(str(out), samples, SAMPLE_RATE, subtype="PCM_16", format="WAV")
        except (OSError, RuntimeError) as exc:
            raise BackendError(f"cannot write {out}: {exc}") from exc

    def voice_pool(self, gender: str | None, language: str) -> list[Voice]:
        """Distinct voices for ``gender``; with no gender, the two pools interleaved."""
        _language_code(language)
        base = self._options.rate
        if gender is None:
            male, female = self.voice_pool("male", language), self.voice_pool("female", language)
            return [v for pair in zip(male, female) for v in pair] + male[len(female):] + female[len(male):]
        pool = _POOLS.get(gender.lower())
        if pool is None:
            raise BackendError(f"espeak voice pools are 'male' and 'female', not {gender!r}")
        return [Voice(name=v, pitch=p, rate=_clamp(base + r, 80, 450)) for v, p, r in pool]

    def narrator_voice(self, language: str) -> Voice:
        """A calm male reader (variant m5: flatter intonation, slower) used by no character."""
        _language_code(language)
        variant, pitch, offset = _NARRATOR
        return Voice(name=variant, pitch=pitch, rate=max(80, self._options.rate + offset))

    def check_voice(self, voice: str, sample: Path | None) -> str | None:
        """None if espeak can speak ``voice``: a variant it ships, or a wav ``sample`` whose pitch it can measure."""
        if sample is not None:
            try:
                sample_f0(sample)
            except BackendError as exc:
                return str(exc)
            return None
        if voice in variants():
            return None
        return f"espeak has no voice {voice!r}; known: {_known_voices()}; or a .wav file in the story's voices/ folder"

    def languages(self) -> list[str]:
        """The language codes espeak-ng's data ships (en, en-US, fr, de, ...), sorted."""
        return sorted(languages().values())
