"""Loudness normalisation, checked with pyloudnorm on the written and re-read wav."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
from scipy import signal

from storybuild.backends.tts import SpeechRequest
from storybuild.backends.tts.espeak import SAMPLE_RATE, EspeakTTS
from storybuild.errors import MediaError
from storybuild.media.audio import read_wav, resample, silence, write_wav
from storybuild.media.loudness import integrated_loudness, limit, normalize
from storybuild.media.mix import mix

RATE = 48000


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """About ten seconds of real espeak lines with pauses, at 48 kHz."""
    tts = EspeakTTS()
    voices = tts.voice_pool(None, "en")
    parts = []
    for i, text in enumerate(["The fog rolled in over the harbour.", "Who is there? Show yourself!",
                              "Only the keeper, with his lamp.", "Then come inside, quickly."]):
        line = tts.render(SpeechRequest(text=text, voice=voices[i])).astype(np.float32) / 32768
        parts += [line, silence(0.4, SAMPLE_RATE)]
    return resample(np.concatenate(parts), SAMPLE_RATE, RATE)


def pink_noise(seconds: float, level: float, seed: int = 0) -> np.ndarray:
    white = np.random.default_rng(seed).standard_normal((int(seconds * RATE), 2))
    b, a = signal.butter(1, 200 / (RATE / 2))
    return (signal.lfilter(b, a, white, axis=0) * level).astype(np.float32)


def measured_from_file(data: np.ndarray, tmp_path: Path) -> tuple[float, float]:
    """Loudness and peak (dBFS) of ``data`` after a trip through a 16-bit wav."""
    write_wav(tmp_path / "out.wav", data, RATE)
    back, rate = read_wav(tmp_path / "out.wav")
    loudness = pyloudnorm.Meter(rate).integrated_loudness(back.astype(np.float64))
    return loudness, 20 * np.log10(np.max(np.abs(back)))


@pytest.mark.parametrize("target", [-14.0, -23.0])
def test_speech_reaches_the_target(speech: np.ndarray, tmp_path: Path, target: float) -> None:
    out = normalize(speech, RATE, target_lufs=target)
    loudness, peak = measured_from_file(out, tmp_path)
    assert abs(loudness - target) < 1.0
    assert abs(integrated_loudness(out, RATE) - target) <= 0.5
    assert peak <= -1.0 + 0.01


@pytest.mark.parametrize("target", [-14.0, -23.0])
def test_stereo_noise_reaches_the_target(tmp_path: Path, target: float) -> None:
    out = normalize(pink_noise(6.0, 0.02), RATE, target_lufs=target)
    assert out.shape == (6 * RATE, 2)
    loudness, peak = measured_from_file(out, tmp_path)
    assert abs(loudness - target) < 1.0
    assert peak <= -1.0 + 0.01


def test_a_speech_and_bed_mix_reaches_the_target_under_a_lower_ceiling(speech: np.ndarray, tmp_path: Path) -> None:
    mixed = mix(speech, pink_noise(len(speech) / RATE, 0.01, seed=5))
    out = normalize(mixed, RATE, target_lufs=-16.0, ceiling_db=-2.0)
    loudness, peak = measured_from_file(out, tmp_path)
    assert abs(loudness - -16.0) < 1.0
    assert peak <= -2.0 + 0.01


def test_integrated_loudness_of_a_reference_tone() -> None:
    # BS.1770: a 997 Hz sine with 0 dBFS peak in one channel reads -3.01 LUFS.
    t = np.arange(2 * RATE) / RATE
    tone = (0.1 * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    assert abs(integrated_loudness(tone, RATE) - -23.01) < 0.1


def test_limit_caps_peaks_and_leaves_the_rest_alone() -> None:
    quiet = pink_noise(2.0, 0.01)[:, 0]
    quiet[RATE] = 1.0
    limited = limit(quiet, RATE, ceiling_db=-6.0)
    assert np.max(np.abs(limited)) <= 10 ** (-6 / 20) + 1e-6
    far = np.r_[0 : RATE - 2000, RATE + 2000 : 2 * RATE]
    assert np.array_equal(limited[far], quiet[far])
    assert np.max(np.abs(np.diff(limited[RATE - 1000 : RATE - 2]))) < 0.05  # the gain glides, no step


def test_silence_comes_back_unchanged_and_short_input_is_an_error() -> None:
    quiet = silence(2.0, RATE, channels=2)
    assert np.array_equal(normalize(quiet, RATE), quiet)
    with pytest.raises(MediaError, match="0.4 s"):
        normalize(pink_noise(0.3, 0.1), RATE)
    with pytest.raises(MediaError, match="0.4 s"):
        integrated_loudness(silence(0.1, RATE), RATE)


def test_an_unreachable_target_is_an_error_not_a_quiet_file() -> None:
    with pytest.raises(MediaError, match="cannot reach 0"):
        normalize(pink_noise(3.0, 0.05), RATE, target_lufs=0.0, ceiling_db=-1.0)


@pytest.mark.parametrize("channels,rate", [(1, 48000), (2, 48000), (2, 44100), (1, 22050)])
def test_the_numpy_meter_agrees_with_pyloudnorm(channels: int, rate: int) -> None:
    noise = np.random.default_rng(channels).standard_normal((rate * 5, channels)).astype(np.float32) * 0.1
    noise[: rate] *= 0.001  # a quiet second, so both gates take part
    expected = pyloudnorm.Meter(rate).integrated_loudness(noise.astype(np.float64))
    measured = integrated_loudness(noise if channels > 1 else noise[:, 0], rate)
    assert measured == pytest.approx(expected, abs=1e-4)


def test_mixing_and_normalizing_import_no_scipy() -> None:
    import subprocess
    import sys

    code = ("import sys, numpy as np\nfrom storybuild.media.loudness import normalize\nfrom storybuild.media import mix\n"
            "normalize(np.random.default_rng(0).standard_normal((48000, 2)).astype(np.float32), 48000)\n"
            "print('scipy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_limited_signal_is_measured_from_its_change_alone() -> None:
    from storybuild.media.loudness import _limit_in_place, _meter

    rng = np.random.default_rng(5)
    data = (rng.standard_normal((RATE * 20, 2)) * 0.05).astype(np.float32)
    data[RATE * 3 : RATE * 3 + 500] *= 30  # bursts the limiter has to catch
    data[RATE * 11 : RATE * 11 + 2000] *= 25
    gain = np.float32(4.0)
    scaled = data * gain
    out = _limit_in_place(scaled.copy(), RATE, -1.0)
    assert np.count_nonzero(np.any(out != scaled, axis=1)) < len(out) / 2
    measured = _meter(data, RATE).loudness(float(gain), out - scaled)
    assert measured == pytest.approx(integrated_loudness(out, RATE), abs=1e-4)


def test_equal_channels_are_filtered_once_and_measure_alike() -> None:
    from storybuild.media.loudness import _limit_in_place, _meter

    mono = (np.random.default_rng(9).standard_normal(RATE * 8) * 0.05).astype(np.float32)
    mono[RATE * 2 : RATE * 2 + 300] *= 30
    stereo = np.stack([mono, mono], axis=1)
    expected = pyloudnorm.Meter(RATE).integrated_loudness(stereo.astype(np.float64))
    assert _meter(stereo, RATE).same and integrated_loudness(stereo, RATE) == pytest.approx(expected, abs=1e-4)
    scaled = stereo * np.float32(3.0)
    out = _limit_in_place(scaled.copy(), RATE, -1.0)
    measured = _meter(stereo, RATE).loudness(3.0, out - scaled)
    assert measured == pytest.approx(integrated_loudness(out, RATE), abs=1e-4)


def test_mono_normalized_as_two_copies_is_the_stereo_result(speech: np.ndarray) -> None:
    # final_wav mixes mono speech over mono cues as one channel and writes it to both: the
    # loudness must be the stereo file's (3 dB above the mono channel's), limited alike.
    bed = pink_noise(len(speech) / RATE, 0.01, seed=7)[:, 0]
    mono = speech + bed
    stereo = np.stack([mono, mono], axis=1)
    from storybuild.media.loudness import _meter

    assert _meter(mono, RATE, copies=2).loudness() == pytest.approx(integrated_loudness(stereo, RATE), abs=1e-9)
    assert integrated_loudness(stereo, RATE) == pytest.approx(integrated_loudness(mono, RATE) + 3.01, abs=0.01)
    out = normalize(mono, RATE, target_lufs=-14.0, copies=2)
    assert out.shape == mono.shape
    assert np.array_equal(out, normalize(stereo, RATE, target_lufs=-14.0)[:, 0])
    with pytest.raises(MediaError, match="copies"):
        normalize(stereo, RATE, copies=2)


def test_the_limiter_reports_the_rows_it_changed() -> None:
    from storybuild.media.loudness import _limit_rows

    data = (np.random.default_rng(2).standard_normal((RATE * 4, 2)) * 0.05).astype(np.float32)
    data[RATE : RATE + 100] *= 40
    out = data.copy()
    rows, before = _limit_rows(out, RATE, -1.0)
    changed = np.flatnonzero(np.any(out != data, axis=1))
    assert len(changed) and np.isin(changed, rows).all()
    assert np.array_equal(before, data[rows])
    assert np.array_equal(np.delete(out, rows, axis=0), np.delete(data, rows, axis=0))
    quiet = data * np.float32(0.01)
    assert len(_limit_rows(quiet.copy(), RATE, -1.0)[0]) == 0


def test_k_weighting_over_many_fft_blocks_is_the_iir_filter() -> None:
    # Long audio is filtered in FFT blocks (overlap-add), a few blocks at a time: each seam,
    # inside a group and between groups, must carry the filters' ring on as lfilter does.
    from storybuild.media.loudness import _FFT, _GROUP, _biquads, _weighted

    samples = _FFT * (2 * _GROUP + 1)
    x = (np.random.default_rng(4).standard_normal(samples) * 0.1).astype(np.float32)
    x[_FFT * _GROUP - 100 : _FFT * _GROUP + 100] *= 8  # a burst that rings across a seam
    expected = x.astype(np.float64)
    for b, a in _biquads(RATE):
        expected = signal.lfilter(b, a, expected)
    got = _weighted(x, RATE)
    assert got.shape == x.shape and got.dtype == np.float32
    assert np.max(np.abs(got - expected)) < 1e-5 * np.max(np.abs(expected))
