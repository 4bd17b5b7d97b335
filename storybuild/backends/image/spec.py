"""What a prompt asks to see: its words, and the scene they describe.

Reading is deliberately plain: a word list per thing, no grammar. "A small fishing harbor before
dawn... thick fog... a white lighthouse" turns on ``sea``, ``boats``, ``fog`` and ``lighthouse``
at ``predawn``; the painters decide what those look like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import xxhash


def words_of(text: str) -> list[str]:
    """The lower-case words of ``text``, in order (``fisherman's`` -> ``fisherman``, ``s``)."""
    return re.findall(r"[a-z]+", text.lower())


def stable_int(*parts: object) -> int:
    """A 64-bit integer hash of ``parts`` that is the same on every run and machine."""
    return xxhash.xxh3_64_intdigest("\x1f".join(str(part) for part in parts).encode("utf-8"))


_TIME_WORDS = {
    "night": ("night", "midnight", "moon", "moonlight", "moonlit", "stars", "starry", "dark"),
    "dawn": ("dawn", "sunrise", "morning", "daybreak"),
    "dusk": ("dusk", "sunset", "evening", "twilight", "sundown"),
    "day": ("noon", "afternoon", "day", "sunny", "midday"),
}


def time_of_day(words: list[str]) -> str:
    """The time a prompt describes: night, predawn, dawn, day or dusk (day if it does not say)."""
    text = " ".join(words)
    if "before dawn" in text or "before sunrise" in text:
        return "predawn"
    for time, cues in _TIME_WORDS.items():
        if any(cue in words for cue in cues):
            return time
    return "day"


@dataclass(frozen=True)
class SceneSpec:
    """What a prompt asks to see, read from its words: time, place, things, weather, lights."""

    time: str
    room: str  # "" outdoors; else "stairs", "lamp_room", "workshop" or "room"
    horizon: float
    sea: bool = False
    boats: bool = False
    lighthouse: bool = False
    lit: bool = False
    quay: bool = False
    balcony: bool = False
    trees: bool = False
    autumn: bool = False
    village: bool = False
    path: bool = False
    castle: bool = False
    tower_only: bool = False
    fog: bool = False
    rain: bool = False
    snow: bool = False
    candle: bool = False
    lantern: bool = False
    match: bool = False
    fire: bool = False


def _any(words: list[str], *cues: str) -> bool:
    return any(cue in words for cue in cues)


def _room_of(words: list[str]) -> str:
    text = " ".join(words)
    if _any(words, "staircase", "stairs", "stairway", "steps") and not _any(words, "outside"):
        return "stairs"
    if "lamp room" in text or "lantern room" in text or _any(words, "lens"):
        return "lamp_room"
    if _any(words, "workshop", "workbench", "forge", "clockmaker"):
        return "workshop"
    if _any(words, "inside", "interior", "room", "kitchen", "bedroom", "cellar", "attic", "hall", "indoors"):
        return "room"
    return ""


def read_scene(prompt: str, style: str = "") -> SceneSpec:
    """The :class:`SceneSpec` a prompt (and the style's season words) describe."""
    words = words_of(prompt)
    both = words + words_of(style)
    sea = _any(words, "sea", "harbor", "harbour", "ocean", "water", "waves", "bay", "lake", "shore", "coast")
    return SceneSpec(
        time=time_of_day(words),
        room=_room_of(words),
        horizon=0.56 if sea else 0.62,
        sea=sea,
        boats=_any(words, "boat", "boats", "ship", "ships", "fishing", "sail", "sails"),
        lighthouse=_any(words, "lighthouse"),
        lit=_any(words, "light", "lit", "beam", "shining", "glowing", "lamp"),
        quay=_any(words, "quay", "pier", "dock", "wharf", "jetty", "harbor", "harbour"),
        balcony=_any(words, "balcony", "gallery", "railing"),
        trees=_any(words, "forest", "woods", "wood", "trees", "tree", "grove", "orchard"),
        autumn=_any(both, "autumn", "fall", "leaves", "october"),
        village=_any(words, "village", "town", "houses", "cottages", "street", "city"),
        path=_any(words, "path", "road", "lane", "track", "trail"),
        castle=_any(words, "castle", "palace", "fortress", "tower", "towers"),
        tower_only=_any(words, "tower") and not _any(words, "castle", "palace", "fortress"),
        fog=_any(words, "fog", "foggy", "mist", "misty", "haze", "hazy"),
        rain=_any(words, "rain", "raining", "rainy", "storm", "drizzle"),
        snow=_any(words, "snow", "snowing", "snowy", "blizzard"),
        candle=_any(words, "candle", "candles", "candlelight"),
        lantern=_any(words, "lantern", "lamp", "lamplight"),
        match=_any(words, "match"),
        fire=_any(words, "fire", "flame", "flames", "hearth", "fireplace", "campfire"),
    )
