"""Word error rate of what was heard against what was written, on text normalized for speech.

Whisper writes "12" where the script says "twelve" (and the reverse), "Mr" for "Mister", keeps or
drops commas at will: none of that is a wrong take. Both sides are therefore normalized the same
way before they are compared: Unicode folded (curly quotes, dashes), lower case, abbreviations of
address spelled out (``_ABBREVIATIONS``: "Mr." and "mister" agree, "St." reads "saint"), numbers
spelled as words ("12" and "twelve", "1st" and "first", "3.5" and "three point five", "ninety-one"
and "ninety one"; years are read as cardinals, so "1999" is "one thousand nine hundred ninety
nine" on both sides), "%" as "percent", "&" as "and", apostrophes dropped ("don't" is "dont") and
every other punctuation mark a word break.

The score is the classic Levenshtein word error rate: (substitutions + deletions + insertions) /
words of the script, so a take that adds words can score above 1. ``align`` also keeps which
script token each heard word stands for, which is what word-timed subtitles need.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Alignment", "align", "normalize", "number_words", "token_starts", "tokens", "word_error_rate"]

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL_ENDINGS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth",
    "twelve": "twelfth",
}
# Spoken the same however they are written; a period after them is part of the abbreviation.
_ABBREVIATIONS = {
    "mr": "mister", "mrs": "missus", "ms": "miz", "dr": "doctor", "st": "saint", "prof": "professor",
    "capt": "captain", "sgt": "sergeant", "lt": "lieutenant", "col": "colonel", "gen": "general",
    "jr": "junior", "sr": "senior", "vs": "versus", "etc": "etcetera", "ok": "okay",
}
_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": " ", "\u2212": "-", "\u00a0": " ",
})
_NUMBER = re.compile(r"^(\d+(?:,\d{3})*)(?:\.(\d+))?(st|nd|rd|th|s)?$")
_TOKEN = re.compile(r"\S+")


def number_words(value: int) -> list[str]:
    """``value`` (0 or more) as English cardinal words: 91 -> ["ninety", "one"]."""
    if value < 20:
        return [_ONES[value]]
    if value < 100:
        tens, ones = divmod(value, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    for scale, name in _SCALES:
        if value >= scale:
            high, rest = divmod(value, scale)
            return number_words(high) + [name] + (number_words(rest) if rest else [])
    raise AssertionError(value)  # pragma: no cover - every value >= 100 meets a scale


def _ordinal(words: list[str]) -> list[str]:
    last = words[-1]
    if last in _ORDINAL_ENDINGS:
        last = _ORDINAL_ENDINGS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return words[:-1] + [last]


def _word(token: str) -> list[str]:
    """The normalized words one whitespace-separated token of text stands for."""
    token = token.strip("\"'()[]{}<>*_~")
    bare = token.rstrip(".!?,;:")
    if bare.lower() in _ABBREVIATIONS:
        return [_ABBREVIATIONS[bare.lower()]]
    words: list[str] = []
    for part in re.split(r"[^\w'%$&.,]+|(?<=\D)[.,]|[.,](?!\d)", token):
        if not part:
            continue
        words += _part(part)
    return words


def _part(part: str) -> list[str]:
    prefix: list[str] = []
    suffix: list[str] = []
    if part.startswith("$"):
        part, suffix = part[1:], ["dollars"]
    if part.endswith("%"):
        part, suffix = part[:-1], ["percent"] + suffix
    if part == "&":
        return ["and"]
    match = _NUMBER.match(part.lower())
    if match:
        whole, fraction, ending = match.groups()
        words = number_words(int(whole.replace(",", "")))
        if fraction:
            words += ["point"] + [_ONES[int(d)] for d in fraction]
        if ending in ("st", "nd", "rd", "th"):
            words = _ordinal(words)
        elif ending == "s":
            last = words[-1]
            words = words[:-1] + [last[:-1] + "ies" if last.endswith("y") else last + "s"]
        return prefix + words + suffix
    cleaned = part.lower().replace("'", "")
    cleaned = re.sub(r"[^\w]+", " ", cleaned).replace("_", " ")
    return prefix + cleaned.split() + suffix


def tokens(text: str) -> list[tuple[str, list[str]]]:
    """Every whitespace-separated token of ``text`` with the normalized words it stands for."""
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return [(match.group(0), _word(match.group(0))) for match in _TOKEN.finditer(folded)]


def normalize(text: str) -> list[str]:
    """``text`` as the list of words it is spoken as: case, punctuation and numbers normalized."""
    return [word for _, words in tokens(text) for word in words]


@dataclass(frozen=True)
class Alignment:
    """How heard words line up with the script's: the edit counts and the pairs."""

    reference: list[str]
    hypothesis: list[str]
    pairs: list[tuple[int | None, int | None]]  # (reference index, hypothesis index); None is a gap

    @property
    def errors(self) -> int:
        """Substitutions + deletions + insertions."""
        return sum(
            1 for r, h in self.pairs
            if r is None or h is None or self.reference[r] != self.hypothesis[h]
        )

    @property
    def wer(self) -> float:
        """Errors per script word; a script with no words scores 0 if nothing was heard, else 1."""
        if not self.reference:
            return 0.0 if not self.hypothesis else 1.0
        return self.errors / len(self.reference)


def align(reference: Sequence[str], hypothesis: Sequence[str]) -> Alignment:
    """The minimum-edit alignment of two word lists (Levenshtein, ties prefer a substitution)."""
    ref, hyp = list(reference), list(hypothesis)
    rows, cols = len(ref) + 1, len(hyp) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        above, here = cost[i - 1], cost[i]
        for j in range(1, cols):
            here[j] = min(above[j - 1] + (ref[i - 1] != hyp[j - 1]), above[j] + 1, here[j - 1] + 1)
    pairs: list[tuple[int | None, int | None]] = []
    i, j = len(ref), len(hyp)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((None, j - 1))
            j -= 1
    pairs.reverse()
    return Alignment(ref, hyp, pairs)


def word_error_rate(script: str, heard: str) -> float:
    """The word error rate of ``heard`` against ``script``, both normalized."""
    return align(normalize(script), normalize(heard)).wer


def token_starts(script: str, heard: Sequence[tuple[str, float]]) -> list[float | None]:
    """When each whitespace token of ``script`` began, from the heard ``(word, start)`` pairs; None where unknown.

    Both sides are normalized and aligned; a token takes the start of the first heard word aligned
    with any of its words (a match or a substitution), so "12" gets the time of "twelve" and a
    misheard word still has its time. A token the voice skipped has None.
    """
    spans = tokens(script)
    owner = [number for number, (_, words) in enumerate(spans) for _ in words]
    hypothesis: list[str] = []
    times: list[float] = []
    for word, start in heard:
        for part in normalize(word):
            hypothesis.append(part)
            times.append(start)
    starts: list[float | None] = [None] * len(spans)
    for ref, hyp in align([w for _, words in spans for w in words], hypothesis).pairs:
        if ref is not None and hyp is not None and starts[owner[ref]] is None:
            starts[owner[ref]] = times[hyp]
    return starts
