"""A first name's usual gender, from gender-guesser's dataset of ~45,000 names from 50+ countries.

A short hand list gave Renée a male voice and François a female one; the dataset knows both, with
their accents. It takes ~0.2 s to load, so it loads on the first question, when a cast task runs,
never when doit lists or checks tasks.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import lru_cache

from ...errors import BackendUnavailable

_LOCK = threading.Lock()

# Words that are not given names but say who someone is ("[father]", "[old_queen]").
ROLE_WORDS = {
    "female": {
        "mother", "mum", "mom", "mama", "grandmother", "granny", "grandma", "aunt", "sister", "daughter",
        "queen", "princess", "girl", "woman", "lady", "witch", "wife", "bride", "nun", "duchess", "maid",
        "madame", "mrs", "miss", "ms", "hen", "vixen",
    },
    "male": {
        "father", "dad", "papa", "grandfather", "grandpa", "uncle", "brother", "son", "king", "prince",
        "boy", "man", "wizard", "husband", "groom", "monk", "duke", "sir", "mr", "lord", "captain",
        "monsieur", "watson", "holmes",
    },
}


@lru_cache(maxsize=1)
def _detector():
    try:
        import gender_guesser.detector as detector
    except ImportError as exc:
        raise BackendUnavailable(
            "rules: the first-name dataset is missing; install it with `pip install gender-guesser`"
        ) from exc
    return detector.Detector(case_sensitive=False)


def _strip_accents(name: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))


def name_gender(name: str) -> str | None:
    """"male", "female" or None for one given name, accents as written first, then without them."""
    with _LOCK:
        detector = _detector()
    for form in dict.fromkeys((name.capitalize(), name.lower(), _strip_accents(name).capitalize())):
        answer = detector.get_gender(form)
        if answer in ("male", "mostly_male"):
            return "male"
        if answer in ("female", "mostly_female"):
            return "female"
    return None


def gender_of(tag: str) -> str | None:
    """The gender a speaker tag names: a role word anywhere in it, else its first given name."""
    parts = [part for part in tag.lower().split("_") if part]
    for gender, words in ROLE_WORDS.items():
        if any(part in words for part in parts):
            return gender
    for part in parts:
        found = name_gender(part)
        if found:
            return found
    return None
