"""The embedded espeak-ng backend, speaking for real through the library in the wheel."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
import pytest
import soundfile as sf

from storybuild.backends.registry import backend_class
from storybuild.backends.tts import SpeechRequest, Voice
from storybuild.backends.tts import espeak
from storybuild.backends.tts.espeak import SAMPLE_RATE, EspeakTTS
from storybuild.backends.tts.interface import speakable_text
from storybuild.errors import BackendError, BackendUnavailable

LINE = "The keeper climbed the stairs and looked out over the dark water."


@pytest.fixture(scope="module")
def tts() -> EspeakTTS:
    return EspeakTTS()


def speak(tts: EspeakTTS, tmp_path: Path, text: str = LINE, **fields: Any) -> tuple[np.ndarray, int, Any]:
    """Synthesize to a wav with an awkward temp-like name and decode it back."""
    request = SpeechRequest(text=text, voice=fields.pop("voice", Voice(name="m3")), **fields)
    out = tmp_path / f"line-{time.perf_counter_ns()}.wav.part"
    tts.synthesize(request, out)
    info = sf.info(str(out))
    data, rate = sf.read(str(out), dtype="float64")
    return data, rate, info


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def median_pitch(x: np.ndarray, rate: int) -> float:
    """Median F0 in Hz over voiced 40 ms frames, from the autocorrelation peak."""
    frame = int(0.04 * rate)
    lo, hi = int(rate / 400), int(rate / 60)
    found = []
    for start in range(0, len(x) - frame, frame):
        seg = x[start : start + frame] - x[start : start + frame].mean()
        if rms(seg) < 0.03:
            continue
        corr = np.correlate(seg, seg, "full")[frame - 1 :]
        lag = lo + int(np.argmax(corr[lo:hi]))
        if corr[lag] > 0.3 * corr[0]:
            found.append(rate / lag)
    return float(np.median(found))


def centroid(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x))
    return float((spectrum * np.fft.rfftfreq(len(x), 1 / rate)).sum() / spectrum.sum())


def test_registered_under_its_name() -> None:
    assert backend_class("tts", "espeak") is EspeakTTS
    assert EspeakTTS.name == "espeak" and EspeakTTS.version


def test_a_line_is_a_mono_16_bit_wav_of_plausible_length(tts: EspeakTTS, tmp_path: Path) -> None:
    data, rate, info = speak(tts, tmp_path, "Hello there, how are you today?")
    assert rate == SAMPLE_RATE == 22050
    assert info.channels == 1 and info.subtype == "PCM_16" and info.format == "WAV"
    assert data.ndim == 1
    assert 0.3 < len(data) / rate < 6
    assert rms(data) > 0.02


def test_longer_text_takes_longer(tts: EspeakTTS, tmp_path: Path) -> None:
    short, rate, _ = speak(tts, tmp_path, "Yes.")
    long, _, _ = speak(tts, tmp_path, LINE + " " + LINE)
    assert len(long) > 4 * len(short)
    assert 4 < len(long) / rate < 12


def test_pools_hold_at_least_eight_distinct_voices_each(tts: EspeakTTS) -> None:
    for gender in ("male", "female"):
        pool = tts.voice_pool(gender, "en")
        assert len(pool) >= 8
        assert len({(v.name, v.pitch, v.rate) for v in pool}) == len(pool)
        assert all(v.name in espeak.variants() for v in pool)
    either = tts.voice_pool(None, "en")
    firsts = {tts.voice_pool("male", "en")[0].name, tts.voice_pool("female", "en")[0].name}
    assert {v.name for v in either[:2]} == firsts


def test_narrator_is_none_of_the_first_characters(tts: EspeakTTS) -> None:
    narrator = tts.narrator_voice("en")
    firsts = tts.voice_pool("male", "en")[:4] + tts.voice_pool("female", "en")[:4]
    assert narrator.name in espeak.variants()
    assert all(narrator.name != v.name for v in firsts)


def test_pool_voices_sound_different(tts: EspeakTTS, tmp_path: Path) -> None:
    male = tts.voice_pool("male", "en")
    female = tts.voice_pool("female", "en")
    heard = {}
    for voice in male[:4] + female[:4]:
        data, rate, _ = speak(tts, tmp_path, voice=voice)
        heard[(voice.name, voice.pitch)] = (median_pitch(data, rate), centroid(data, rate), len(data))
    low, rate, _ = speak(tts, tmp_path, voice=male[0])
    high, _, _ = speak(tts, tmp_path, voice=female[0])
    assert median_pitch(high, rate) > 1.5 * median_pitch(low, rate)
    signatures = list(heard.values())
    for i, (pitch_a, cent_a, len_a) in enumerate(signatures):
        for pitch_b, cent_b, len_b in signatures[i + 1 :]:
            assert (
                abs(pitch_a - pitch_b) / pitch_a > 0.05
                or abs(cent_a - cent_b) / cent_a > 0.05
                or abs(len_a - len_b) / len_a > 0.03
            )


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("fr", "Le gardien monta l'escalier et regarda la mer sombre."),
        ("de", "Der Wärter stieg die Treppe hinauf und sah auf das dunkle Meer."),
        ("es", "El guardián subió la escalera y miró el mar oscuro."),
        ("en-US", "The keeper climbed the stairs."),
    ],
)
def test_other_languages_speak(tts: EspeakTTS, tmp_path: Path, language: str, text: str) -> None:
    data, rate, _ = speak(tts, tmp_path, text, language=language)
    assert 0.5 < len(data) / rate < 8
    assert rms(data) > 0.02


def test_language_changes_the_pronunciation(tts: EspeakTTS, tmp_path: Path) -> None:
    english, _, _ = speak(tts, tmp_path, "Paris", language="en")
    french, _, _ = speak(tts, tmp_path, "Paris", language="fr")
    assert len(english) != len(french) or not np.array_equal(english, french)


def test_unknown_language_is_named_in_the_error(tts: EspeakTTS, tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="'klingon'"):
        speak(tts, tmp_path, "Qapla", language="klingon")
    with pytest.raises(BackendError, match="'xx'"):
        tts.voice_pool("male", "xx")


def test_unknown_variant_is_an_error_not_a_default_voice(tts: EspeakTTS, tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="'m99'"):
        speak(tts, tmp_path, voice=Voice(name="m99"))


def test_whisper_is_quieter_slowly_is_longer_shouting_is_higher(tts: EspeakTTS, tmp_path: Path) -> None:
    plain, rate, _ = speak(tts, tmp_path)
    whispered, _, _ = speak(tts, tmp_path, hints=["whispering"])
    slow, _, _ = speak(tts, tmp_path, hints=["slowly"])
    shouted, _, _ = speak(tts, tmp_path, hints=["shouting"])
    breathless, _, _ = speak(tts, tmp_path, hints=["out of breath"])
    assert rms(whispered) < 0.7 * rms(plain)
    assert len(slow) > 1.15 * len(plain)
    assert median_pitch(shouted, rate) > 1.1 * median_pitch(plain, rate)
    assert len(breathless) < 0.95 * len(plain)
    unrelated, _, _ = speak(tts, tmp_path, hints=["to the cat"])
    assert np.array_equal(unrelated, plain)


def test_options_steer_every_line_and_are_validated(tmp_path: Path) -> None:
    slow, _, _ = speak(EspeakTTS({"rate": 110}), tmp_path, voice=Voice(name="m3"))
    fast, _, _ = speak(EspeakTTS({"rate": 260}), tmp_path, voice=Voice(name="m3"))
    assert len(slow) > 1.6 * len(fast)
    with pytest.raises(pydantic.ValidationError):
        EspeakTTS({"rate": 10})
    with pytest.raises(pydantic.ValidationError):
        EspeakTTS({"speed": 1.0})
    assert EspeakTTS.recipe({})["options"]["rate"] == 165


def test_markup_and_control_characters_are_read_as_text(tts: EspeakTTS, tmp_path: Path) -> None:
    data, rate, _ = speak(tts, tmp_path, '<speak><break time="9s"/>Tom &amp; Jerry</speak>\x01 5S \x00 end')
    assert 0.5 < len(data) / rate < 8  # a nine-second SSML break was not obeyed
    assert rms(data) > 0.02


def test_the_same_request_gives_the_same_bytes(tts: EspeakTTS) -> None:
    request = SpeechRequest(text=LINE, voice=Voice(name="f3", pitch=60))
    first = tts.render(request)
    tts.render(SpeechRequest(text="Something else in between.", voice=Voice(name="m1")))
    assert np.array_equal(first, tts.render(request))


def test_threads_synthesizing_at_once_match_serial_output(tts: EspeakTTS) -> None:
    voices = tts.voice_pool(None, "en")[:4]
    requests = [
        SpeechRequest(text=f"{LINE} Line {i}.", voice=voices[i % 4], hints=["quietly"] if i % 3 else [])
        for i in range(12)
    ]
    serial = [tts.render(r).tobytes() for r in requests]
    parallel: dict[int, bytes] = {}

    def worker(offset: int) -> None:
        for i in range(offset, len(requests), 4):
            parallel[i] = tts.render(requests[i]).tobytes()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [parallel[i] for i in range(len(requests))] == serial


def test_missing_library_is_backend_unavailable(tts: EspeakTTS, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(espeak, "_library_path", lambda: "/nonexistent/libespeak-ng.so")
    with pytest.raises(BackendUnavailable, match="libespeak-ng"):
        tts.render(SpeechRequest(text="hello", voice=Voice(name="m3")))


def test_emoji_are_not_voiced(tts: EspeakTTS, tmp_path: Path) -> None:
    plain, rate, _ = speak(tts, tmp_path, "The cake was ready")
    decorated, _, _ = speak(tts, tmp_path, "The cake 🎂 was ready 🙂")
    family, _, _ = speak(tts, tmp_path, "👩‍👩‍👧 The cake 🎂️ was ready 🇫🇷👋🏽")
    assert abs(len(decorated) - len(plain)) <= 0.05 * len(plain)
    assert abs(len(family) - len(plain)) <= 0.05 * len(plain)


def test_a_line_of_only_emoji_is_a_short_silence(tts: EspeakTTS, tmp_path: Path) -> None:
    data, rate, info = speak(tts, tmp_path, "🎂🙂 ❤️")
    assert info.channels == 1 and 0 < len(data) / rate <= 0.5
    assert not data.any()


def test_speakable_text_keeps_words_and_joiners_of_scripts() -> None:
    assert speakable_text("The cake 🎂 was ready 🙂") == "The cake was ready"
    assert speakable_text("👩‍👩‍👧 family ❤️") == "family"
    assert speakable_text("It was 20°C ©") == "It was 20°C ©"
    persian = "می\u200cخواهم"  # the zero-width non-joiner and joiner belong to the words
    assert speakable_text(persian) == persian and speakable_text("क्\u200dष") == "क्\u200dष"
    assert speakable_text("two  spaces, no emoji") == "two  spaces, no emoji"


def test_check_voice_names_what_is_known(tts: EspeakTTS, tmp_path: Path) -> None:
    assert tts.check_voice("f3", None) is None and tts.check_voice("whisper", None) is None
    problem = tts.check_voice("f9", None)
    assert problem and "'f9'" in problem and "f1..f5" in problem and "m1..m8" in problem and "voices/" in problem
    assert "'mara.wav'" in (tts.check_voice("mara.wav", None) or "")
    missing = tts.check_voice("mara.wav", tmp_path / "mara.wav")
    assert missing and "mara.wav" in missing and "missing" in missing
    (tmp_path / "notes.wav").write_text("not audio")
    assert "cannot read" in (tts.check_voice("notes.wav", tmp_path / "notes.wav") or "")
    sf.write(str(tmp_path / "quiet.wav"), np.zeros(SAMPLE_RATE), SAMPLE_RATE)
    assert "no voiced speech" in (tts.check_voice("quiet.wav", tmp_path / "quiet.wav") or "")


def test_languages_are_the_codes_it_speaks(tts: EspeakTTS, tmp_path: Path) -> None:
    codes = tts.languages()
    assert {"en", "en-US", "fr", "de", "es", "ru", "el", "cmn"} <= set(codes)
    assert codes == sorted(codes) and len(codes) > 50
    data, rate, _ = speak(tts, tmp_path, "Дмитрий открыл дверь.", language="ru")
    assert rms(data) > 0.02
