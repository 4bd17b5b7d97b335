"""A voice sample in voices/ makes espeak speak with the variant and pitch nearest the recording's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from storybuild.backends.tts import SpeechRequest, Voice
from storybuild.backends.tts.espeak import _PITCH_STEPS, _VARIANT_F0, SAMPLE_RATE, EspeakTTS, match_sample
from storybuild.backends.tts.pitch import median_f0, sample_f0
from storybuild.errors import BackendError

TABLE_SENTENCE = "The keeper climbed the stairs and looked out over the dark water."
SAMPLE_TEXT = "Good evening. I have come a long way to tell you what I saw on the cliffs last night."
LINE = "Father! The lamp is out, and the fog is coming in over the water."


@pytest.fixture(scope="module")
def tts() -> EspeakTTS:
    return EspeakTTS()


def record(tts: EspeakTTS, path: Path, voice: Voice, rate: int = SAMPLE_RATE, stereo: bool = False) -> Path:
    """A "recording": espeak speaking SAMPLE_TEXT, resampled and written like a wav from a phone."""
    import soxr

    speech = tts.render(SpeechRequest(text=SAMPLE_TEXT, voice=voice)).astype(np.float64) / 32768
    if rate != SAMPLE_RATE:
        speech = soxr.resample(speech, SAMPLE_RATE, rate)
    sf.write(str(path), np.stack([speech, speech], axis=1) if stereo else speech, rate, subtype="PCM_16")
    return path


def f0_of(samples: np.ndarray) -> float:
    found = median_f0(samples.astype(np.float64) / 32768, SAMPLE_RATE)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def samples(tts: EspeakTTS, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("voices")
    return {
        "low_male": record(tts, folder / "bram.wav", Voice(name="m1", pitch=12), rate=44100, stereo=True),
        "high_female": record(tts, folder / "mara.wav", Voice(name="f3", pitch=85), rate=48000),
    }


def test_the_variant_table_is_what_espeak_measures(tts: EspeakTTS) -> None:
    middle = _PITCH_STEPS.index(50)
    for variant, row in _VARIANT_F0.items():
        heard = f0_of(tts.render(SpeechRequest(text=TABLE_SENTENCE, voice=Voice(name=variant, pitch=50))))
        assert abs(heard - row[middle]) <= 0.05 * row[middle], variant
        assert list(row) == sorted(row)


def test_a_sample_is_measured_whatever_its_rate_and_channels(samples: dict[str, Path]) -> None:
    assert sf.info(str(samples["low_male"])).channels == 2
    assert 60 < sample_f0(samples["low_male"]) < 95
    assert 250 < sample_f0(samples["high_female"]) < 340


@pytest.mark.parametrize(("kind", "gender", "low", "high"), [
    ("low_male", "m", 60, 100), ("high_female", "f", 240, 360),
])
def test_a_sample_maps_to_a_variant_of_its_range_and_speaks(
    tts: EspeakTTS, samples: dict[str, Path], tmp_path: Path, kind: str, gender: str, low: float, high: float,
) -> None:
    sample = samples[kind]
    variant, pitch = match_sample(sample_f0(sample))
    assert variant.startswith(gender) and variant != "m5"  # m5 is the narrator's
    voice = Voice(name=sample.name, sample=sample)  # what cast.json records for voice = "mara.wav"
    out = tmp_path / "line.wav"
    tts.synthesize(SpeechRequest(text=LINE, voice=voice), out)
    data, rate = sf.read(str(out), dtype="int16")
    assert rate == SAMPLE_RATE and len(data) / rate > 1.5
    heard = f0_of(data)
    assert low < heard < high
    assert abs(heard - sample_f0(sample)) <= 0.15 * sample_f0(sample)
    assert np.array_equal(tts.render(SpeechRequest(text=LINE, voice=voice)), data)


def test_mapping_follows_the_pitch() -> None:
    assert match_sample(90)[0].startswith("m") and match_sample(230)[0].startswith("f")
    assert match_sample(70)[1] < match_sample(100)[1]
    assert match_sample(20)[1] == 0 and match_sample(900)[1] == 100


def test_a_sample_without_speech_is_an_error_naming_it(tts: EspeakTTS, tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros(SAMPLE_RATE * 2), SAMPLE_RATE)
    with pytest.raises(BackendError, match="silent.wav.*no voiced speech"):
        tts.render(SpeechRequest(text=LINE, voice=Voice(name="silent.wav", sample=silent)))
    with pytest.raises(BackendError, match="gone.wav"):
        tts.render(SpeechRequest(text=LINE, voice=Voice(name="gone.wav", sample=tmp_path / "gone.wav")))


STORY = """title: Voices at the Lamp

(lamp) A lighthouse lamp room at night.
[female_mara] Father! The lamp is out, and the fog is coming in over the water.
[male_elias] Out? It has not gone out in eleven years.
"""


def test_a_story_voice_file_is_spoken_and_its_edit_revoices_only_that_character(
    project, tts: EspeakTTS, samples: dict[str, Path],
) -> None:
    folder = project.root / "stories" / "lamp"
    (folder / "voices").mkdir(parents=True)
    (folder / "story.txt").write_text(STORY, encoding="utf-8")
    (folder / "story.toml").write_text('[characters.mara]\nvoice = "mara.wav"\n', encoding="utf-8")
    (folder / "voices" / "mara.wav").write_bytes(samples["high_female"].read_bytes())
    project.doit("tts")
    lines = sorted((project.build / "lamp" / "lines").glob("*.wav"))
    assert len(lines) == 2
    mara, elias = (sf.read(str(p), dtype="int16")[0] for p in lines)
    assert f0_of(mara) > 240 and f0_of(elias) < 160

    mark = project.mark()
    (folder / "voices" / "mara.wav").write_bytes(samples["low_male"].read_bytes())
    project.doit("tts")
    assert project.generated("tts", mark) == ["lamp/" + lines[0].stem]
    assert f0_of(sf.read(str(lines[0]), dtype="int16")[0]) < 100
