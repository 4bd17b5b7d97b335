"""The listening check flags a line whose audio says something else, and retakes keep the better take."""

from __future__ import annotations

from pathlib import Path

import pytest

from storybuild.backends.transcribe.settings import DEFAULT_MAX_WER
from storybuild.graph.quality import report_table, score_line
from storybuild.graph.retakes import best_take
from storybuild.seeds import record_seed
from storybuild.config import read_toml
from storybuild.story.model import Line

from .conftest import speak

SCRIPT = "The fog came in before dawn, as it always did at the end of October."
OTHER = "A little cat slept on the warm mat beside the kitchen fire."


def line(text: str = SCRIPT, index: int = 1) -> Line:
    return Line(index=index, speaker="narrator", text=text, lineno=index, scene="harbor")


@pytest.fixture(scope="module")
def heard(whisper, espeak, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """What Whisper hears in a good take of SCRIPT and in a take that says OTHER instead."""
    folder = tmp_path_factory.mktemp("takes")
    return {
        "good": whisper.transcribe(speak(espeak, folder / "good.wav", SCRIPT), "en"),
        "wrong": whisper.transcribe(speak(espeak, folder / "wrong.wav", OTHER), "en"),
    }


def test_a_line_that_says_something_else_is_flagged(heard: dict) -> None:
    good, wrong = score_line(line(), heard["good"], DEFAULT_MAX_WER), score_line(line(), heard["wrong"], DEFAULT_MAX_WER)
    assert not good.flagged and good.wer <= 0.1
    assert wrong.flagged and wrong.wer >= 0.8
    assert "kitchen fire" in wrong.heard.lower()


def test_the_table_shows_flagged_lines_with_what_was_heard(heard: dict) -> None:
    from storybuild.graph.quality import QualityReport

    scores = [score_line(line(), heard["good"], 0.5), score_line(line(index=2), heard["wrong"], 0.5)]
    table = report_table(QualityReport(
        story="s", max_wer=0.5, transcriber="faster-whisper", wer=0.5, score=0.5, flagged=1,
        lines=sorted(scores, key=lambda s: -s.wer),
    ))
    rows = table.splitlines()
    assert rows[2].startswith("! 0002") and "heard:" in rows[3] and "kitchen" in rows[3].lower()
    assert rows[4].startswith("  0001")


def test_a_retake_replaces_a_take_that_fails(whisper, espeak, tmp_path: Path) -> None:
    spoken: list[int] = []

    def wrong_first(seed: int, out: Path) -> None:
        spoken.append(seed)
        speak(espeak, out, OTHER if seed == 7 else SCRIPT)

    target = tmp_path / "0001.wav"
    best, takes = best_take(wrong_first, lambda p: whisper.transcribe(p, "en"), line(), 7, 3, DEFAULT_MAX_WER, target)
    assert spoken == [7, 8]  # the second take passed: no third
    assert best.seed == 8 and not best.score.flagged and takes[0].score.flagged
    assert [p.name for p in tmp_path.iterdir()] == [best.path.name]  # the losing take is gone
    assert "fog" in best.heard.text.lower()


def test_without_a_passing_take_the_best_one_is_kept(espeak, tmp_path: Path) -> None:
    """Scores come from canned transcripts here: which take wins is the logic under test, not Whisper."""
    from storybuild.backends.transcribe import Transcript

    heard_texts = iter(["a cat", "the fog came in before the cat", "nothing"])
    hear = lambda path: Transcript(text=next(heard_texts), language="en", duration=1, words=[])  # noqa: E731
    best, takes = best_take(lambda seed, out: speak(espeak, out, "fog"), hear, line(), 0, 2, 0.1, tmp_path / "x.wav")
    assert [t.seed for t in takes] == [0, 1, 2] and best.seed == 1
    assert best.path.is_file() and len(list(tmp_path.iterdir())) == 1


def test_a_winning_seed_is_recorded_beside_rerolls(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.toml"
    seeds.write_text('[scene]\n"harbor" = 2\n')
    record_seed(seeds, "tts", "0007", 1)
    record_seed(seeds, "tts", "0003", 2)
    assert read_toml(seeds) == {"scene": {"harbor": 2}, "tts": {"0003": 2, "0007": 1}}


def test_word_starts_are_measured_from_the_line_as_the_narration_places_it(whisper, espeak, tmp_path: Path) -> None:
    import json

    import numpy as np
    import soundfile as sf

    from storybuild.graph.quality import line_word_starts

    plain = speak(espeak, tmp_path / "plain.wav", SCRIPT)
    data, rate = sf.read(str(plain), dtype="float32")
    padded = tmp_path / "padded.wav"
    sf.write(str(padded), np.concatenate([np.zeros(int(0.8 * rate), np.float32), data]), rate)
    heard = whisper.transcribe(padded, "en")
    assert heard.words[0].start >= 0.45  # Whisper times from the file's start, silence included (+-0.3 s)
    transcript = tmp_path / "0001.json"
    transcript.write_text(json.dumps(heard.model_dump(mode="json")))
    starts = line_word_starts(SCRIPT, transcript, padded)
    assert len(starts) == len(SCRIPT.split()) and starts[0] is not None and starts[0] < 0.35
    known = [s for s in starts if s is not None]
    assert known == sorted(known) and len(known) >= len(starts) - 2
    assert known[-1] < len(data) / rate
