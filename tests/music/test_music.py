"""The music bed: a real track looped or trimmed and faded, scenes crossfaded, set and ducked under real speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from storybuild.backends.tts import SpeechRequest, Voice
from storybuild.backends.tts.espeak import EspeakTTS
from storybuild.errors import MediaError
from storybuild.media.audio import read_wav, resample, to_mono
from storybuild.media.loudness import integrated_loudness
from storybuild.media.mix import duck
from storybuild.media.music import fit, load_track, scene_bed, set_level, story_bed

RATE = 48000


def tone(freq: float, seconds: float, rate: int = RATE, moving: float = 0.2) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wobble = 1 + moving * np.sin(2 * np.pi * 0.5 * t)  # a little movement, like music
    return (0.3 * wobble * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def level_db(data: np.ndarray, rate: int, at: float, width: float = 0.2) -> float:
    lo, hi = int((at - width / 2) * rate), int((at + width / 2) * rate)
    return float(20 * np.log10(np.sqrt(np.mean(np.square(data[lo:hi]))) + 1e-12))


def band(data: np.ndarray, rate: int, at: float, freq: float) -> float:
    """The magnitude near ``freq`` in a 0.2 s window at ``at`` seconds."""
    lo = int(at * rate)
    chunk = to_mono(data[lo : lo + rate // 5]) * np.hanning(rate // 5)
    spectrum = np.abs(np.fft.rfft(chunk))
    bin_ = int(round(freq * len(chunk) / rate))
    return float(spectrum[bin_ - 2 : bin_ + 3].max())


@pytest.fixture(scope="module")
def calm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """music/calm.ogg: four seconds of a 330 Hz tone at 44.1 kHz, Ogg Vorbis."""
    path = tmp_path_factory.mktemp("music") / "calm.ogg"
    sf.write(str(path), tone(330, 4.0, 44100), 44100, format="OGG", subtype="VORBIS")
    return path


def test_a_short_track_is_looped_to_the_story_and_faded(calm: Path) -> None:
    track = load_track(calm, RATE)
    assert track.shape[1] == 2 and abs(len(track) - 4 * RATE) < RATE // 100
    bed = fit(track, RATE, 11.0, fade_in=2.0, fade_out=3.0)
    assert bed.shape == (11 * RATE, 2)
    assert np.abs(bed[:100]).max() < 0.01 and np.abs(bed[-100:]).max() < 0.01
    middle = level_db(track, RATE, 2.0)
    for at in np.arange(2.5, 7.9, 0.25):  # through the loop seams near 4 s and 7.5 s: no dip, no doubling
        assert abs(level_db(bed, RATE, at) - middle) < 3.0, at
    assert band(bed, RATE, 5.0, 330) > 10 * band(bed, RATE, 5.0, 500)


def test_a_long_track_is_trimmed(calm: Path) -> None:
    bed = fit(load_track(calm, RATE), RATE, 1.5, fade_in=0.1, fade_out=0.1)
    assert len(bed) == int(1.5 * RATE)


def test_scenes_crossfade_at_their_boundary() -> None:
    low, high = (tone(f, 3.0, moving=0)[:, None].repeat(2, 1) for f in (220, 660))
    bed = scene_bed([(0.0, 5.0, low), (5.0, 9.0, high)], RATE, 9 * RATE, crossfade=2.0, fade=0.5)
    assert band(bed, RATE, 3.0, 220) > 20 * band(bed, RATE, 3.0, 660)  # before the crossfade: scene one only
    assert band(bed, RATE, 7.0, 660) > 20 * band(bed, RATE, 7.0, 220)  # after it: scene two only
    both = band(bed, RATE, 4.9, 220), band(bed, RATE, 4.9, 660)
    assert min(both) > 0.3 * max(both)  # at the boundary: the two blend
    for at in np.arange(3.5, 6.6, 0.25):  # equal power: the level holds through the blend
        assert abs(level_db(bed, RATE, at) - level_db(bed, RATE, 3.0)) < 3.0, at


def test_a_scene_without_music_is_silent_and_one_track_plays_through() -> None:
    music = tone(220, 2.0, moving=0)[:, None].repeat(2, 1)
    bed = scene_bed([(0, 3, music), (3, 6, music), (6, 9, None)], RATE, 9 * RATE, crossfade=1.0, fade=0.5)
    assert np.abs(bed[int(7.0 * RATE):]).max() == 0
    assert abs(level_db(bed, RATE, 3.0) - level_db(bed, RATE, 1.5)) < 3.0  # no crossfade inside one track


def test_music_sits_under_speech_and_ducks_when_it_speaks(calm: Path, tmp_path: Path) -> None:
    wav = tmp_path / "line.wav"
    EspeakTTS().synthesize(SpeechRequest(text="The fog came in before dawn, as it always did.", voice=Voice(name="m3")), wav)
    speech, rate = read_wav(wav)
    speech = resample(speech, rate, RATE)
    padded = np.concatenate([np.zeros(3 * RATE, np.float32), speech, np.zeros(3 * RATE, np.float32)])
    bed = set_level(fit(load_track(calm, RATE), RATE, len(padded) / RATE, 0.5, 0.5), padded, RATE, under_db=18)
    assert integrated_loudness(bed, RATE) == pytest.approx(integrated_loudness(padded, RATE) - 18, abs=0.5)
    ducked = duck(bed, padded, RATE, amount_db=-12)
    speaking = 3.0 + len(speech) / RATE / 2
    assert level_db(ducked, RATE, speaking) < level_db(bed, RATE, speaking) - 10
    assert level_db(ducked, RATE, 1.5) == pytest.approx(level_db(bed, RATE, 1.5), abs=0.1)


def test_an_empty_music_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    sf.write(str(path), np.zeros(0, np.float32), RATE)
    with pytest.raises(MediaError, match="holds no audio"):
        load_track(path, RATE)


def test_a_story_bed_follows_the_scenes_files(calm: Path, tmp_path: Path) -> None:
    other = tmp_path / "tense.wav"
    sf.write(str(other), tone(660, 2.0, 22050, moving=0), 22050)
    speech = np.concatenate([np.zeros(RATE, np.float32), tone(150, 8.0), np.zeros(3 * RATE, np.float32)]) * 2
    scenes = [(0.0, 4.0, calm), (4.0, 8.0, calm), (8.0, 12.0, other)]
    bed = story_bed(speech, RATE, scenes, fade=1.0, under_db=20)
    assert bed.shape == (len(speech), 2)
    assert band(bed, RATE, 5.5, 330) > 20 * band(bed, RATE, 5.5, 660)  # calm plays through scenes one and two
    assert band(bed, RATE, 10.0, 660) > 20 * band(bed, RATE, 10.0, 330)
    assert integrated_loudness(bed, RATE) == pytest.approx(integrated_loudness(speech, RATE) - 20, abs=0.5)
