"""The words the rules backend reads a scene description with: places, props, times, weather, sounds.

A model reads a description; rules can only look words up. The lists are small on purpose: each
word maps to one fact the picture can show, and the first place word in the description wins
("a bakery on a snowy street" is a bakery, seen from inside).
"""

from __future__ import annotations

import re
import unicodedata

# place kind -> (setting, the words that name it). Order matters: earlier kinds win a tie.
PLACES: dict[str, tuple[str, tuple[str, ...]]] = {
    "lamp room": ("indoor", ("lamp room", "lantern room", "lens")),
    "stairs": ("indoor", ("staircase", "stairs", "stairway", "spiral stair")),
    "bakery": ("indoor", ("bakery", "bakehouse", "baker's", "boulangerie", "patisserie", "pâtisserie")),
    "café": ("indoor", ("café", "cafe", "coffee house", "coffeehouse", "tea room", "tearoom", "bistro", "brasserie")),
    "tavern": ("indoor", ("tavern", "inn", "pub", "alehouse")),
    "kitchen": ("indoor", ("kitchen", "scullery", "pantry")),
    "workshop": ("indoor", ("workshop", "workbench", "forge", "clockmaker", "smithy", "atelier")),
    "library": ("indoor", ("library", "study", "bookshop", "bookstore", "archive")),
    "shop": ("indoor", ("shop", "store", "market stall", "grocer")),
    "barn": ("indoor", ("barn", "stable", "hayloft")),
    "classroom": ("indoor", ("classroom", "schoolroom")),
    "bedroom": ("indoor", ("bedroom", "nursery", "bedchamber")),
    "cellar": ("indoor", ("cellar", "basement", "dungeon", "crypt")),
    "hall": ("indoor", ("great hall", "ballroom", "throne room", "hall")),
    "room": ("indoor", ("room", "parlour", "parlor", "attic", "cabin", "inside", "interior", "indoors")),
    "harbor": ("outdoor", ("harbor", "harbour", "port", "quay", "wharf", "dock", "pier", "jetty")),
    "beach": ("outdoor", ("beach", "shore", "coast", "seaside", "cliff")),
    "sea": ("outdoor", ("sea", "ocean", "lake", "bay")),
    "forest": ("outdoor", ("forest", "woods", "wood", "grove", "jungle", "trees")),
    "street": ("outdoor", ("street", "square", "alley", "avenue", "boulevard", "town", "city", "market")),
    "village": ("outdoor", ("village", "hamlet", "cottages")),
    "garden": ("outdoor", ("garden", "orchard", "park", "yard")),
    "castle": ("outdoor", ("castle", "palace", "fortress", "tower")),
    "mountain": ("outdoor", ("mountain", "mountains", "peak", "hill", "hills", "valley")),
    "field": ("outdoor", ("field", "meadow", "farm", "farmyard", "pasture", "countryside", "road", "path")),
}

PROPS = (
    "oven", "bread", "loaves", "counter", "table", "tables", "chair", "chairs", "cup", "cups", "teapot",
    "stove", "pot", "pots", "fireplace", "hearth", "candle", "candles", "lantern", "lamp", "lens", "window",
    "door", "clock", "bench", "gears", "bookshelf", "bookshelves", "books", "bed", "hay", "barrels", "boat",
    "boats", "lighthouse", "bridge", "fountain", "well", "cart", "flowers", "awning", "sign", "match", "key",
    "piano", "mirror", "map", "rug", "basket", "jars",
)

TIMES: dict[str, tuple[str, ...]] = {
    "dawn": ("dawn", "sunrise", "daybreak", "first light", "before dawn"),
    "night": ("night", "midnight", "moonlight", "moonlit", "starry", "stars"),
    "dusk": ("dusk", "sunset", "twilight", "sundown"),
    "evening": ("evening",),
    "morning": ("morning",),
    "afternoon": ("afternoon",),
    "day": ("noon", "midday", "sunny", "daylight", "day"),
}

WEATHER: dict[str, tuple[str, ...]] = {
    "storm": ("storm", "thunder", "lightning", "gale", "tempest"),
    "snow": ("snow", "snowy", "snowing", "snowfall", "blizzard", "sleet"),
    "rain": ("rain", "raining", "rainy", "drizzle", "downpour", "showers"),
    "fog": ("fog", "foggy", "mist", "misty", "haze", "hazy"),
    "wind": ("wind", "windy", "gust", "breeze"),
    "cloudy": ("cloud", "clouds", "cloudy", "overcast", "grey sky", "gray sky"),
    "clear": ("clear sky", "clear", "cloudless"),
}

CAMERA: dict[str, tuple[str, ...]] = {
    "pan right": ("running", "walking", "rounding", "sailing", "crossing", "stepping"),
    "zoom out": ("vast", "huge", "wide", "panorama", "seen from", "distance", "across"),
    "zoom in": ("close", "closeup", "close-up", "small", "tiny", "detail", "holding"),
}

# sound word -> the cue text a sound backend understands; read from narration and dialogue.
SOUNDS: dict[str, tuple[str, ...]] = {
    "a knock at the door": ("knock", "knocked", "knocking", "knocks"),
    "a door creaking open": ("creaked", "creaking", "door opened", "opened the door"),
    "a door slamming shut": ("slammed", "slam", "slams"),
    "thunder rolling": ("thunder", "thundered"),
    "rain pattering": ("rain fell", "raining", "pouring rain", "rain began"),
    "wind howling": ("howled", "howling wind", "wind howled", "the wind"),
    "a bell ringing": ("bell rang", "bells rang", "bell", "bells", "chimed", "chiming"),
    "a clock ticking": ("ticking", "ticked", "tick"),
    "a dog barking": ("barked", "barking"),
    "birdsong": ("birds sang", "birdsong", "singing birds", "chirped"),
    "footsteps": ("footsteps", "ran", "running", "climbed", "stairs"),
    "waves on the shore": ("waves", "surf"),
    "a fire crackling": ("crackled", "crackling", "flame caught", "fire"),
    "glass shattering": ("shattered", "smashed", "broke the window"),
    "a horse galloping": ("galloped", "hooves"),
    "a splash": ("splash", "splashed"),
}


def fold(text: str) -> str:
    """``text`` lower-cased without accents, so "Café" and "cafe" read alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def find(text: str, phrase: str) -> int:
    """Where ``phrase`` occurs in ``text`` as whole words (accents ignored), or -1."""
    match = re.search(rf"(?<![a-z]){re.escape(fold(phrase))}(?![a-z])", fold(text))
    return match.start() if match else -1


def first_of(text: str, table: dict[str, tuple[str, ...]]) -> str | None:
    """The key of ``table`` whose word comes first in ``text``; None if none occurs."""
    best: tuple[int, int, str] | None = None
    for rank, (key, words) in enumerate(table.items()):
        hits = [at for at in (find(text, word) for word in words) if at >= 0]
        if hits and (best is None or (min(hits), rank) < best[:2]):
            best = (min(hits), rank, key)
    return best[2] if best else None


INSIDE = ("inside", "interior", "indoors", "within")
OUTSIDE = ("outside the", "outside a", "outside of", "outdoors", "terrace", "pavement", "sidewalk", "exterior", "in front of")


def place_of(text: str) -> tuple[str, str]:
    """The kind of place ``text`` describes and whether it is indoor or outdoor.

    The first place word wins ("a farmyard, a red barn" is outdoors, "a bakery with snow on the
    window" inside); a word like "inside" anywhere puts the picture in the first indoor place
    named ("inside the lighthouse tower: a spiral staircase" is the stairs), and one like "outside"
    or "terrace" puts it outdoors ("a café terrace" is a street with café tables). Nothing: a field.
    """
    if any(find(text, word) >= 0 for word in INSIDE):
        specific = {k: w for k, (setting, w) in PLACES.items() if setting == "indoor" and k != "room"}
        return first_of(text, specific) or "room", "indoor"
    kind = first_of(text, {k: w for k, (_, w) in PLACES.items()})
    if kind is None:
        return "field", "outdoor"
    if any(find(text, word) >= 0 for word in OUTSIDE):  # "a café terrace": the café seen from outside
        return kind, "outdoor"
    return kind, PLACES[kind][0]


def props_of(text: str) -> list[str]:
    """The props ``text`` names, in the order it names them."""
    found = sorted((at, prop) for prop in PROPS if (at := find(text, prop)) >= 0)
    return [prop for _, prop in found]
