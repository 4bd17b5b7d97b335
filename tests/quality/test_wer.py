"""Word error rate normalization: what Whisper writes differently is not an error; what it mishears is."""

from __future__ import annotations

import pytest

from storybuild.wer import align, normalize, number_words, word_error_rate


@pytest.mark.parametrize(("script", "heard"), [
    ("He counted twelve gulls.", "he counted 12 gulls"),
    ("They climbed the ninety-one steps.", "They climbed the 91 steps"),
    ("Mr. Hale and Mrs. Hale met Dr. Bell", "Mister Hale and Missus Hale met Doctor Bell"),
    ("It was the 3rd of May, 1999.", "It was the third of May, one thousand nine hundred ninety-nine."),
    ("FATHER! Father, wake up...", "father father wake up"),
    ("The ship\u2019s horn \u2014 low and long", "the ship's horn, low and long"),
    ("Only 3.5% of $1,000.", "only three point five percent of one thousand dollars"),
    ("Rock & roll, OK?", "rock and roll okay"),
])
def test_equivalent_writings_score_zero(script: str, heard: str) -> None:
    assert word_error_rate(script, heard) == 0.0


def test_a_misheard_word_is_one_substitution() -> None:
    alignment = align(normalize("The lamp is out."), normalize("The lump is out"))
    assert alignment.errors == 1
    assert alignment.wer == pytest.approx(0.25)


def test_skips_repeats_and_insertions_all_count() -> None:
    assert word_error_rate("one two three four", "one three four") == pytest.approx(0.25)
    assert word_error_rate("one two three four", "one two two three four") == pytest.approx(0.25)
    assert word_error_rate("a b", "c d e f") == pytest.approx(2.0)
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("", "something") == 1.0


def test_number_words() -> None:
    assert number_words(0) == ["zero"]
    assert number_words(91) == ["ninety", "one"]
    assert number_words(1_000_012) == ["one", "million", "twelve"]
    assert normalize("21st 1990s 40th") == ["twenty", "first", "one", "thousand", "nine", "hundred", "nineties", "fortieth"]


def test_alignment_pairs_every_word() -> None:
    alignment = align(["a", "b", "c"], ["a", "x", "c", "d"])
    assert alignment.pairs == [(0, 0), (1, 1), (2, 2), (None, 3)]


def test_script_tokens_take_the_times_of_the_words_heard_for_them() -> None:
    from storybuild.wer import token_starts

    heard = [("They", 0.0), ("climbed", 0.2), ("91", 0.6), ("steps", 1.1), ("toge", 1.4), ("slowly.", 2.0)]
    assert token_starts("They climbed the ninety-one steps together, slowly.", heard) == [
        0.0, 0.2, None, 0.6, 1.1, 1.4, 2.0,
    ]
    assert token_starts("Twelve men.", [("12", 0.3), ("men.", 0.7)]) == [0.3, 0.7]
