"""Procedural sound synthesis for the embedded SFX backend: sounds made with numpy from the words of a cue.

A cue is read as a sequence of parts separated by "then" (or "followed by", "before", ";"); each
part layers every kind of sound its words name ("rain and wind"), and the parts follow one another
in proportion to their natural lengths ("a match striking, then a soft roar of flame"). Adjectives
shape a part's level: "soft", "faint", "distant" lower it (distant also dulls it), "loud" and
"heavy" raise it. Words naming no known kind give a quiet room tone.

The same (text, duration, seed, sample rate) always gives the same bytes: the random generator is
seeded from a BLAKE2 hash of the text and seed, never from Python's salted ``hash()``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Callable

import numpy as np
from numpy.random import Generator

from ...errors import BackendError
from .interface import SoundRequest

__all__ = ["KINDS", "PEAK", "kinds_in", "natural_length", "render"]

Synth = Callable[[Generator, int, int], np.ndarray]

PEAK = 0.9
_TARGET_RMS = 0.12  # about -18 dBFS, so long beds and single knocks sit at similar loudness
_FADE = 0.015


def _noise(rng: Generator, n: int) -> np.ndarray:
    return rng.standard_normal(n)


def _band(x: np.ndarray, rate: int, low: float | None, high: float | None, order: int = 4) -> np.ndarray:
    """``x`` band-, low- or high-passed (Butterworth, second-order sections for stability)."""
    # Imported here, not at the top: reading a cue's words (natural_length) must not cost the
    # 1-2 s import of scipy.signal.
    from scipy import signal

    # Edges are clamped below Nyquist so low sample rates get a duller sound, not an error.
    lo = min(low / (rate / 2), 0.9) if low else None
    hi = min(high / (rate / 2), 0.95) if high else None
    if lo and hi:
        sos = signal.butter(order, [lo, hi], "bandpass", output="sos")
    elif lo:
        sos = signal.butter(order, lo, "highpass", output="sos")
    else:
        sos = signal.butter(order, hi, "lowpass", output="sos")
    return signal.sosfilt(sos, x)


def _brown(rng: Generator, n: int, rate: int, corner: float) -> np.ndarray:
    """Noise with a -6 dB/octave tilt above ``corner`` Hz: rumble, surf, roar."""
    from scipy import signal

    b, a = signal.butter(1, corner / (rate / 2))
    return signal.lfilter(b, a, _noise(rng, n))


def _lfo(rng: Generator, n: int, rate: int, hz: float, depth: float) -> np.ndarray:
    """A slow random gain curve around 1 (gusts, swells), made by smoothing sparse noise."""
    points = max(4, int(n / rate * hz) + 4)
    curve = np.interp(np.linspace(0, points - 3, n), np.arange(points), rng.standard_normal(points))
    return np.clip(1 + depth * curve, 0.05, None)


def _impulses(n: int, times: np.ndarray, rate: int, shape: np.ndarray) -> np.ndarray:
    """``shape`` dropped at each of ``times`` seconds (scaled by nothing: shapes carry their level)."""
    out = np.zeros(n + len(shape))
    starts = (np.asarray(times) * rate).astype(int)
    starts = starts[(starts >= 0) & (starts < n)]
    idx = starts[:, None] + np.arange(len(shape))[None, :]
    np.add.at(out, idx, np.broadcast_to(shape, idx.shape))
    return out[:n]


def _decay(count: int, rate: int, tau: float) -> np.ndarray:
    return np.exp(-np.arange(count) / (tau * rate))


def _partials(count: int, rate: int, freqs: list[float], taus: list[float], rng: Generator) -> np.ndarray:
    """A struck object: ``count`` samples of decaying sines at ``freqs`` with random phases."""
    t = np.arange(count) / rate
    phases = rng.uniform(0, 2 * np.pi, len(freqs))
    return sum(np.sin(2 * np.pi * f * t + p) * np.exp(-t / tau) / (i + 1) ** 0.5
               for i, (f, tau, p) in enumerate(zip(freqs, taus, phases)))


def _times(rng: Generator, n: int, rate: int, every: float, jitter: float, start: float = 0.1) -> np.ndarray:
    count = int((n / rate - start) / every) + 1
    return start + every * np.arange(count) + rng.uniform(-jitter, jitter, count)


def _rain(rng: Generator, n: int, rate: int) -> np.ndarray:
    """Broadband hiss above 1.5 kHz with scattered droplet clicks."""
    hiss = _band(_noise(rng, n), rate, 1500, 9000) * 0.5
    size = int(0.004 * rate)
    drop = _band(_noise(rng, size), rate, 2000, 7000) * _decay(size, rate, 0.002)
    drops = _impulses(n, rng.uniform(0, n / rate, int(n / rate * 60)), rate, drop)
    return hiss * _lfo(rng, n, rate, 0.5, 0.15) + drops * rng.uniform(0.3, 1.0)


def _wind(rng: Generator, n: int, rate: int) -> np.ndarray:
    """Two bands of noise, each swelling and dropping in slow gusts."""
    low = _band(_noise(rng, n), rate, 150, 600, order=2) * _lfo(rng, n, rate, 0.4, 0.7)
    high = _band(_noise(rng, n), rate, 500, 1400, order=2) * _lfo(rng, n, rate, 0.6, 0.8)
    return low + 0.5 * high


def _thunder(rng: Generator, n: int, rate: int) -> np.ndarray:
    """A crack, then a low rumble that swells and dies away over seconds."""
    crack = _band(_noise(rng, n), rate, 300, 3000) * np.exp(-np.arange(n) / (0.08 * rate))
    rumble = _brown(rng, n, rate, 60) * _lfo(rng, n, rate, 3.0, 0.6)
    swell = np.minimum(1, np.arange(n) / (0.15 * rate)) * np.exp(-np.arange(n) / (1.6 * rate))
    return 0.6 * crack + 4 * _band(rumble, rate, None, 250) * swell


def _storm(rng: Generator, n: int, rate: int) -> np.ndarray:
    """Rain, wind and thunder together."""
    return _rain(rng, n, rate) + 0.8 * _wind(rng, n, rate) + _thunder(rng, n, rate)


def _footsteps(rng: Generator, n: int, rate: int) -> np.ndarray:
    """Low thuds every half second or so, slightly uneven."""
    size = int(0.09 * rate)
    step = _band(_noise(rng, size), rate, 80, 900) * _decay(size, rate, 0.02)
    thump = _partials(size, rate, [95], [0.025], rng)
    return _impulses(n, _times(rng, n, rate, 0.55, 0.03), rate, step + 2 * thump)


def _horn(rng: Generator, n: int, rate: int) -> np.ndarray:
    """A low (98 Hz) buzzy tone with slow attack and release: a foghorn."""
    t = np.arange(n) / rate
    f0 = 98 * (1 + 0.004 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    tone = sum(np.sin(k * phase) / k for k in range(1, 12))
    env = np.minimum(1, t / 0.4) * np.minimum(1, (t[-1] - t) / 0.8 + 0.01)
    return _band(tone, rate, None, 1200) * env


def _bell(rng: Generator, n: int, rate: int) -> np.ndarray:
    """Inharmonic, slowly decaying partials, struck every 2.5 s."""
    f = rng.uniform(420, 520)
    strike = _partials(3 * rate, rate, [f * r for r in (0.5, 1, 1.19, 1.5, 2, 2.74, 3.0, 4.1)],
                       [2.5, 2.0, 1.6, 1.2, 1.0, 0.6, 0.5, 0.3], rng)
    return _impulses(n, np.arange(0.05, n / rate, 2.5), rate, strike)


def _fire(rng: Generator, n: int, rate: int) -> np.ndarray:
    """A low flickering roar with sharp crackles."""
    roar = _band(_brown(rng, n, rate, 200), rate, 40, 700) * _lfo(rng, n, rate, 2.0, 0.3)
    size = int(0.0025 * rate)
    crack = _band(_noise(rng, size), rate, 2500, None) * _decay(size, rate, 0.0015)
    cracks = _impulses(n, rng.uniform(0, n / rate, int(n / rate * 14)), rate, crack)
    return 6 * roar + cracks * 0.8


def _strike(rng: Generator, n: int, rate: int) -> np.ndarray:
    """A short high scrape, then the duller flare of a lit match."""
    scrape = _band(_noise(rng, n), rate, 2000, 8000) * np.exp(-np.arange(n) / (0.06 * rate))
    flare = _band(_noise(rng, n), rate, 300, 3000) * np.exp(-np.arange(n) / (0.35 * rate))
    return scrape * (np.arange(n) < 0.18 * rate) + 0.4 * flare * (np.arange(n) >= 0.12 * rate)


def _knock(rng: Generator, n: int, rate: int) -> np.ndarray:
    """Three knocks: a wooden resonance with a little click."""
    size = int(0.18 * rate)
    click = _band(_noise(rng, size), rate, 500, 3000) * _decay(size, rate, 0.004)
    hit = _partials(size, rate, [160, 370, 720], [0.04, 0.02, 0.01], rng) + 0.3 * click
    return _impulses(n, np.array([0.1, 0.35, 0.6]) + rng.uniform(-0.02, 0.02, 3), rate, hit)


def _ticking(rng: Generator, n: int, rate: int) -> np.ndarray:
    """A clock: alternating high tick and lower tock, twice a second."""
    size = int(0.006 * rate)
    tick = _band(_noise(rng, size), rate, 3000, 9000) * _decay(size, rate, 0.001)
    tock = _band(_noise(rng, size), rate, 1200, 4000) * _decay(size, rate, 0.0015)
    beats = np.arange(0.1, n / rate, 0.5)
    return _impulses(n, beats[::2], rate, tick) + _impulses(n, beats[1::2], rate, tock)


def _keys(rng: Generator, n: int, rate: int) -> np.ndarray:
    """Small high metallic pings at random: keys or coins."""
    ping = _partials(rate // 4, rate, [3100, 4700, 6900], [0.08, 0.05, 0.03], rng)
    return _impulses(n, rng.uniform(0.05, max(0.06, n / rate - 0.3), int(n / rate * 10)), rate, ping)


def _birds(rng: Generator, n: int, rate: int) -> np.ndarray:
    """Short sine chirps sweeping between 1 and 6 kHz."""
    out = np.zeros(n)
    length = int(0.12 * rate)
    t = np.arange(length) / rate
    for start in rng.uniform(0, max(0.01, n / rate - 0.15), int(n / rate * 4)):
        f = rng.uniform(2500, 4500) + rng.uniform(-1500, 1500) * t / t[-1]
        chirp = np.sin(2 * np.pi * np.cumsum(f) / rate) * np.sin(np.pi * t / t[-1]) ** 2
        i = int(start * rate)
        out[i:i + length] += chirp[: n - i]
    return out


def _leaves(rng: Generator, n: int, rate: int) -> np.ndarray:
    """High noise in irregular rustling bursts."""
    bursts = _impulses(n, rng.uniform(0, n / rate, int(n / rate * 30)), rate, np.hanning(int(0.08 * rate)))
    return _band(_noise(rng, n), rate, 2000, 7000) * (0.15 + bursts)


def _waves(rng: Generator, n: int, rate: int) -> np.ndarray:
    """Surf swelling and retreating on a seven-second cycle."""
    t = np.arange(n) / rate
    swell = 0.55 + 0.45 * np.sin(2 * np.pi * t / 7.0 + rng.uniform(0, 2 * np.pi)) ** 3
    surf = _band(_brown(rng, n, rate, 300), rate, 60, 1500) * swell
    wash = _band(_noise(rng, n), rate, 1500, 5000) * np.clip(swell - 0.6, 0, None)
    return 4 * surf + 0.6 * wash


def _metal(rng: Generator, n: int, rate: int) -> np.ndarray:
    """A struck iron bar: bright inharmonic partials and a clank."""
    hit = _partials(2 * rate, rate, [520, 1377, 2143, 3011, 4210], [0.9, 0.6, 0.4, 0.3, 0.2], rng)
    clank = _band(_noise(rng, len(hit)), rate, 1000, 6000) * _decay(len(hit), rate, 0.01)
    return _impulses(n, np.arange(0.05, n / rate, 1.8), rate, hit + 0.5 * clank)


def _crowd(rng: Generator, n: int, rate: int) -> np.ndarray:
    """Several voice-band noises, each switching on and off at syllable rate."""
    voices = np.zeros(n)
    for f in rng.uniform(300, 1100, 6):
        syllables = _band(np.abs(_noise(rng, n)), rate, 2, 5, order=1) > 0.0
        voices += _band(_noise(rng, n), rate, f * 0.8, f * 1.6, order=2) * (0.3 + syllables)
    return voices


def _laugh(rng: Generator, n: int, rate: int) -> np.ndarray:
    """A crowd with rhythmic 'ha' bursts on top."""
    ha = _band(_noise(rng, int(0.12 * rate)), rate, 500, 2000) * np.hanning(int(0.12 * rate))
    return _crowd(rng, n, rate) * 0.3 + _impulses(n, _times(rng, n, rate, 0.2, 0.02), rate, 3 * ha)


def _creak(rng: Generator, n: int, rate: int) -> np.ndarray:
    """A slow train of pulses whose rate rises and falls: a door hinge."""
    t = np.arange(n) / rate
    f = 70 + 40 * np.sin(2 * np.pi * 0.4 * t) ** 2
    pulses = (np.diff(np.floor(np.cumsum(f) / rate), prepend=0) > 0).astype(float)
    return _band(pulses, rate, 300, 2500) * np.sin(np.pi * np.arange(n) / max(n - 1, 1))


def _room(rng: Generator, n: int, rate: int) -> np.ndarray:
    """A quiet low room tone, for words that name nothing known."""
    return _band(_brown(rng, n, rate, 100), rate, 40, 400) * 0.3


# kind -> (keywords, weak keywords, synthesiser, natural length in seconds). Weak keywords count
# only when a part names nothing else: "a ship at sea" is a foghorn, "the ship's bell" a bell.
# Order breaks ties when two kinds start at the same word.
KINDS: dict[str, tuple[str, str, Synth, float]] = {
    "storm": (r"storms?|tempest", "", _storm, 8.0),
    "thunder": (r"thunder\w*|lightning", "", _thunder, 5.0),
    "rain": (r"rain\w*|drizzl\w*|downpour", "", _rain, 6.0),
    "wind": (r"wind|winds|gusts?|gale|breeze|howl\w*", "", _wind, 6.0),
    "footsteps": (r"foot ?steps?|steps|boots?|walk\w*|running|stomp\w*", "", _footsteps, 3.0),
    "horn": (r"(fog)?horns?|hooter|siren", r"ships?|boats?|harbou?r", _horn, 4.0),
    "bell": (r"bells?|chim\w*|toll\w*", "", _bell, 5.0),
    "strike": (r"match(es)?|strik\w*|scrap\w*", "", _strike, 1.0),
    "fire": (r"fire|flames?|roar\w*|crackl\w*|burn\w*", r"hearth|fireplace", _fire, 6.0),
    "knock": (r"knock\w*|thud\w*|bang\w*|slam\w*", r"doors?", _knock, 1.5),
    "ticking": (r"tick\w*|clocks?|tock", "", _ticking, 4.0),
    "keys": (r"keys?|jingl\w*|coins?", "", _keys, 2.0),
    "birds": (r"birds?|birdsong|chirp\w*|twitter\w*", "", _birds, 5.0),
    "leaves": (r"leaves|rustl\w*|branches", r"grass|trees?|forest", _leaves, 4.0),
    "waves": (r"waves?|sea|surf|ocean|tide|splash\w*", r"water|shore|beach", _waves, 8.0),
    "metal": (r"metal\w*|iron|steel|clang\w*|anvil", r"ring\w*|rang", _metal, 3.0),
    "laugh": (r"laugh\w*|giggl\w*", "", _laugh, 3.0),
    "crowd": (r"crowds?|murmur\w*|chatter\w*", r"voices|tavern|market", _crowd, 6.0),
    "creak": (r"creak\w*|hinges?|squeak\w*", "", _creak, 2.0),
}
_PATTERNS = {kind: re.compile(rf"\b({strong})\b") for kind, (strong, _, _, _) in KINDS.items()}
_WEAK = {kind: re.compile(rf"\b({weak})\b") for kind, (_, weak, _, _) in KINDS.items() if weak}
_SEQUENCE = re.compile(r"\bthen\b|\bfollowed by\b|\bbefore\b|;")
_QUIET = re.compile(r"\b(soft\w*|faint\w*|quiet\w*|gentle|gently|distant|far off|far away|muffled)\b")
_LOUD = re.compile(r"\b(loud\w*|heavy|violent\w*|crash\w*|great)\b")
_DISTANT = re.compile(r"\b(distant|far off|far away|muffled)\b")


# A kind that already contains others: "a storm" is not also rain, wind and thunder on top.
_ABSORBS = {"storm": ("rain", "wind", "thunder"), "bell": ("metal",), "laugh": ("crowd",)}


def _find(patterns: dict[str, re.Pattern[str]], words: str) -> list[tuple[int, int, str]]:
    order = list(KINDS)
    return sorted((m.start(), order.index(k), k) for k, p in patterns.items() if (m := p.search(words)))


def _parse(text: str) -> list[tuple[str, list[str]]]:
    """``text`` split into sequential parts, each with the kinds it layers, in order of mention."""
    parts = []
    for words in _SEQUENCE.split(text.lower()):
        found = _find(_PATTERNS, words) or _find(_WEAK, words)
        kinds = [k for _, _, k in found]
        absorbed = {a for k in kinds for a in _ABSORBS.get(k, ())}
        kinds = [k for k in kinds if k not in absorbed]
        if kinds:
            parts.append((words, kinds))
    return parts or [(text.lower(), ["room"])]


def kinds_in(text: str) -> list[list[str]]:
    """The kinds of sound ``text`` names, as sequential parts of layered kinds (["room"] if none)."""
    return [kinds for _, kinds in _parse(text)]


def natural_length(kinds: list[str]) -> float:
    return max(KINDS[k][3] if k in KINDS else 3.0 for k in kinds)


def _seed(text: str, seed: int) -> int:
    digest = hashlib.blake2b(f"{seed}\0{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _level(x: np.ndarray) -> np.ndarray:
    """``x`` scaled to the common loudness, its peak kept under ``PEAK``."""
    if not np.any(x):
        return x
    peak, rms = float(np.max(np.abs(x))), float(np.sqrt(np.mean(x**2)))
    return x * min(_TARGET_RMS / rms, PEAK / peak)


def _part(rng: Generator, words: str, kinds: list[str], n: int, rate: int) -> np.ndarray:
    """One part: its kinds layered, each at the common level, then shaped by the adjectives."""
    synths = {**{k: v[2] for k, v in KINDS.items()}, "room": _room}
    x = sum(_level(synths[k](rng, n, rate)) for k in kinds) / np.sqrt(len(kinds))
    if _DISTANT.search(words):
        x = _band(x, rate, None, 1500, order=2)
    if _QUIET.search(words):
        x = x * 0.45
    elif _LOUD.search(words):
        x = x * 1.6
    return x


def _fade(x: np.ndarray, rate: int, seconds: float = _FADE) -> np.ndarray:
    k = min(len(x) // 2, int(seconds * rate))
    if k:
        ramp = np.sin(np.linspace(0, np.pi / 2, k)) ** 2
        x[:k] *= ramp
        x[-k:] *= ramp[::-1]
    return x


def render(request: SoundRequest) -> np.ndarray:
    """The sound ``request`` describes, as float64 mono samples, exactly its length."""
    rate, n = request.sample_rate, round(request.duration * request.sample_rate)
    if not np.isfinite(request.duration) or n < 0 or rate <= 0:
        raise BackendError(f"cannot make {request.duration} s of sound at {rate} Hz")
    rng = np.random.default_rng(_seed(request.text, request.seed))
    parts = _parse(request.text)
    weights = np.array([natural_length(kinds) for _, kinds in parts])
    bounds = np.round(np.concatenate([[0], np.cumsum(weights) / weights.sum()]) * n).astype(int)
    overlap = int(0.05 * rate)  # parts crossfade so a sequence has no gap or click between them
    out = np.zeros(n)
    for (words, kinds), start, end in zip(parts, bounds[:-1], bounds[1:]):
        lo, hi = max(0, start - overlap), min(n, end + overlap)
        if hi > lo:
            out[lo:hi] += _fade(_part(rng, words, kinds, hi - lo, rate), rate, 0.05 if len(parts) > 1 else _FADE)
    out = _fade(out, rate)
    peak = float(np.max(np.abs(out), initial=0.0))
    return out * (PEAK / peak) if peak > PEAK else out
