"""What a picture must show: the scene's structured facts, and the prompt's words for the details.

The facts (indoor or outdoor, kind of place, props, time of day, weather) come from the
scene_prompt answer when the request carries them, else from the prompt's words read with the
same vocabulary the rules backend uses. They decide the composition: "a bakery with a wood-fired
oven, snow on the window" is a bakery seen from inside with snow at its window, never a snowy
forest. The words then add details (boats, a lighthouse, autumn leaves, a lit lamp); the
painters decide what those look like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import xxhash

from ..llm import vocabulary
from .interface import SceneFacts


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
    """What a picture shows: time, place, things, weather, lights."""

    time: str
    room: str  # "" outdoors; else "stairs", "lamp_room", "workshop", "bakery", "cafe", ... or "room"
    horizon: float
    place: str = ""
    props: tuple[str, ...] = ()
    street: bool = False
    hills: bool = False
    storm: bool = False
    wind: bool = False
    cloudy: bool = False
    barn: bool = False
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


# Indoor places the painters furnish; any other indoor place is a plain room.
ROOMS = {"stairs": "stairs", "lamp room": "lamp_room", "workshop": "workshop", "bakery": "bakery",
         "café": "cafe", "tavern": "tavern", "kitchen": "kitchen", "library": "library", "shop": "shop",
         "barn": "barn"}
# The facts' times of day, as the six lights the palettes know.
_LIGHTS = {"dawn": "dawn", "morning": "day", "day": "day", "afternoon": "day", "dusk": "dusk",
           "evening": "dusk", "night": "night"}


def facts_from_words(prompt: str) -> SceneFacts:
    """The facts a prompt's words give, for requests that carry none (read as the rules backend does)."""
    place, setting = vocabulary.place_of(prompt)
    return SceneFacts(
        setting=setting, place=place, props=vocabulary.props_of(prompt),
        time_of_day=vocabulary.first_of(prompt, vocabulary.TIMES),
        weather=vocabulary.first_of(prompt, vocabulary.WEATHER),
    )


def _light(facts: SceneFacts, words: list[str]) -> str:
    light = _LIGHTS.get(facts.time_of_day or "", "") or time_of_day(words)
    if light == "dawn" and time_of_day(words) == "predawn":
        return "predawn"
    return light


def read_scene(prompt: str, style: str = "", facts: SceneFacts | None = None) -> SceneSpec:
    """The :class:`SceneSpec` of ``facts`` (or the prompt's own), detailed by the prompt's words."""
    facts = facts or facts_from_words(prompt)
    words = words_of(prompt)
    both = words + words_of(style)
    props = tuple(facts.props)
    # A model may say "a small coffee house": read it with the vocabulary to a kind the painters know.
    kind = facts.place if facts.place in vocabulary.PLACES else vocabulary.place_of(facts.place)[0]
    place = vocabulary.fold(kind)
    indoor = facts.setting == "indoor"
    room = ROOMS.get(kind, "room") if indoor else ""
    outdoors = not indoor
    weather = facts.weather or ""
    sea = outdoors and (place in ("harbor", "sea", "beach") or _any(
        words, "sea", "harbor", "harbour", "ocean", "waves", "bay", "lake", "shore", "coast"))
    return SceneSpec(
        time=_light(facts, words),
        room=room,
        horizon=0.56 if sea else 0.62,
        place=place,
        props=props,
        street=outdoors and place in ("street", "cafe", "bakery", "shop", "tavern"),
        hills=outdoors and place == "mountain",
        storm=weather == "storm",
        wind=weather == "wind",
        cloudy=weather in ("cloudy", "storm", "rain", "snow"),
        barn=outdoors and _any(words, "barn", "farmhouse", "stable"),
        sea=sea,
        boats=_any(words, "boat", "boats", "ship", "ships", "fishing", "sail", "sails"),
        lighthouse=_any(words, "lighthouse"),
        lit=_any(words, "light", "lit", "beam", "shining", "glowing", "lamp"),
        quay=outdoors and (place == "harbor" or _any(words, "quay", "pier", "dock", "wharf", "jetty")),
        balcony=_any(words, "balcony", "gallery", "railing"),
        trees=outdoors and (place in ("forest", "garden") or _any(words, "forest", "woods", "trees", "tree", "grove")),
        autumn=_any(both, "autumn", "fall", "leaves", "october"),
        village=outdoors and _any(words, "village", "town", "houses", "cottages", "city"),
        path=_any(words, "path", "road", "lane", "track", "trail"),
        castle=outdoors and (place == "castle" or _any(words, "castle", "palace", "fortress", "tower", "towers")),
        tower_only=_any(words, "tower") and not _any(words, "castle", "palace", "fortress"),
        fog=weather == "fog" or _any(words, "fog", "foggy", "mist", "misty", "haze", "hazy"),
        rain=weather in ("rain", "storm") or _any(words, "rain", "raining", "rainy", "drizzle"),
        snow=weather == "snow" or _any(words, "snow", "snowing", "snowy", "blizzard"),
        candle="candle" in props or _any(words, "candle", "candles", "candlelight"),
        lantern=_any(words, "lantern", "lamp", "lamplight"),
        match=_any(words, "match"),
        fire=bool({"fireplace", "hearth"} & set(props)) or _any(words, "fire", "flame", "flames", "hearth", "fireplace", "campfire"),
    )
