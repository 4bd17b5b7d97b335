"""Wav helpers, cue placement, ducking under speech, and the final speech-over-bed mix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from storybuild.errors import MediaError
from storybuild.media.audio import read_wav, resample, silence, to_mono, to_stereo, trim_silence, write_wav
from storybuild.media.mix import duck, mix, place_cues

RATE = 48000


def noise(seconds: float, level: float = 0.1, channels: int = 1, seed: int = 0) -> np.ndarray:
    shape = (int(seconds * RATE),) if channels == 1 else (int(seconds * RATE), channels)
    return (np.random.default_rng(seed).standard_normal(shape) * level).astype(np.float32)


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64))))


def test_wav_round_trip_keeps_shape_and_rate(tmp_path: Path) -> None:
    stereo = noise(0.5, channels=2)
    write_wav(tmp_path / "s.wav", stereo, RATE)
    back, rate = read_wav(tmp_path / "s.wav")
    assert rate == RATE and back.shape == stereo.shape and back.dtype == np.float32
    assert np.max(np.abs(back - stereo)) < 1e-4
    assert sf.info(str(tmp_path / "s.wav")).subtype == "PCM_16"
    write_wav(tmp_path / "f.wav", stereo[:, 0], RATE, subtype="FLOAT")
    back, _ = read_wav(tmp_path / "f.wav")
    assert back.ndim == 1 and np.array_equal(back, stereo[:, 0])


def test_writing_clips_instead_of_wrapping(tmp_path: Path) -> None:
    write_wav(tmp_path / "loud.wav", np.array([0.0, 1.5, -1.5, 0.5], np.float32), RATE)
    back, _ = read_wav(tmp_path / "loud.wav")
    assert back[1] > 0.99 and back[2] < -0.99


def test_read_and_write_failures_are_media_errors(tmp_path: Path) -> None:
    (tmp_path / "junk.wav").write_bytes(b"not a wav at all")
    with pytest.raises(MediaError, match="junk.wav"):
        read_wav(tmp_path / "junk.wav")
    with pytest.raises(MediaError):
        write_wav(tmp_path / "missing" / "x.wav", silence(0.1, RATE), RATE)


def test_mono_and_stereo_conversions() -> None:
    stereo = np.stack([np.ones(4, np.float32), np.zeros(4, np.float32)], axis=1)
    assert np.allclose(to_mono(stereo), 0.5)
    assert to_stereo(np.arange(3, dtype=np.float32)).shape == (3, 2)
    assert to_stereo(stereo) is stereo
    assert silence(0.5, RATE).shape == (RATE // 2,)
    assert silence(0.5, RATE, channels=2).shape == (RATE // 2, 2)


def test_resample_22050_to_48000_keeps_duration_and_pitch() -> None:
    t = np.arange(22050) / 22050
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    out = resample(tone, 22050, 48000)
    assert len(out) == 48000
    peak = np.argmax(np.abs(np.fft.rfft(out))) * 48000 / len(out)
    assert abs(peak - 440) < 2
    with pytest.raises(MediaError):
        resample(tone, 0, 48000)


def test_trim_silence_reports_what_it_cut_from_the_start() -> None:
    line = np.concatenate([silence(0.5, RATE), noise(1.0, 0.2), silence(0.7, RATE)])
    trimmed, cut = trim_silence(line, RATE, keep=0.02)
    assert cut == int(0.5 * RATE) - int(0.02 * RATE)
    assert abs(len(trimmed) - int(1.04 * RATE)) <= 2
    empty, cut = trim_silence(silence(1.0, RATE), RATE)
    assert len(empty) == 0 and cut == RATE


def test_place_cues_positions_overlaps_and_edges() -> None:
    one = np.ones(RATE, np.float32)
    stereo = np.stack([one, -one], axis=1)
    bed = place_cues(3 * RATE, RATE, [(0.5, one), (1.0, one), (2.5, stereo), (-0.5, one)])
    assert bed.shape == (3 * RATE, 2)
    assert bed[int(0.25 * RATE), 0] == 1  # the head of the cue at -0.5 s was dropped
    assert bed[int(0.75 * RATE), 1] == 1
    assert bed[int(1.25 * RATE), 0] == 2  # overlapping cues add
    assert bed[int(1.75 * RATE), 0] == 1
    assert bed[int(2.25 * RATE)].tolist() == [0, 0]
    assert bed[-1].tolist() == [1, -1]  # cut at the end, channels kept


def test_duck_lowers_the_bed_under_speech_and_nowhere_else() -> None:
    bed = noise(20.0, 0.1, channels=2, seed=1)
    speech = np.zeros(20 * RATE, np.float32)
    speech[5 * RATE : 10 * RATE] = noise(5.0, 0.2, seed=2)
    ducked = duck(bed, speech, RATE, amount_db=-12.0, attack=0.05, release=0.4)

    def change(lo: float, hi: float) -> float:
        a, b = int(lo * RATE), int(hi * RATE)
        return rms_db(ducked[a:b]) - rms_db(bed[a:b])

    assert abs(change(5.5, 9.5) - -12.0) < 1.0
    assert abs(change(0.0, 4.9)) < 0.05
    assert abs(change(11.0, 20.0)) < 0.05
    assert -12.0 < change(10.0, 10.4) < -1.0  # recovering over the release
    assert change(4.96, 5.0) < -3.0  # the attack starts before the first syllable
    gentle = duck(bed, speech, RATE, amount_db=-6.0)
    assert abs(rms_db(gentle[6 * RATE : 9 * RATE]) - rms_db(bed[6 * RATE : 9 * RATE]) - -6.0) < 1.0


def test_duck_ignores_speech_below_the_threshold_and_handles_lengths() -> None:
    bed = noise(4.0, 0.1, channels=2)
    whisper = noise(4.0, 10 ** (-50 / 20))
    assert np.allclose(duck(bed, whisper, RATE, threshold_db=-40.0), bed)
    short_speech = noise(1.0, 0.2)
    ducked = duck(bed, short_speech, RATE)
    assert ducked.shape == bed.shape
    assert rms_db(ducked[: RATE // 2]) < rms_db(bed[: RATE // 2]) - 10
    assert np.allclose(ducked[3 * RATE :], bed[3 * RATE :])


def test_mix_puts_speech_in_the_centre_over_the_bed() -> None:
    speech = noise(2.0, 0.2)
    bed = noise(3.0, 0.05, channels=2, seed=3)
    out = mix(speech, bed)
    assert out.shape == (3 * RATE, 2) and out.dtype == np.float32
    assert np.allclose(out[: 2 * RATE, 0], bed[: 2 * RATE, 0] + speech)
    assert np.allclose(out[: 2 * RATE, 1], bed[: 2 * RATE, 1] + speech)
    assert np.allclose(out[2 * RATE :], bed[2 * RATE :])
    assert mix(noise(4.0), bed).shape == (4 * RATE, 2)


def test_written_16_bit_samples_are_libsndfiles_own(tmp_path: Path) -> None:
    # write_wav converts floats itself (faster); the bytes must stay those libsndfile writes,
    # including its rounding of tiny negatives to 0 (not a floor to -1) and the clipping.
    rng = np.random.default_rng(3)
    data = np.concatenate([
        rng.standard_normal(200_000) * 0.3, rng.standard_normal(50_000) * 1e-9,
        rng.integers(-32768, 32768, 50_000) / 32768 + rng.standard_normal(50_000) * 1e-9,
        [1.0, -1.0, 1.5, -3.0, 0.9999999, -0.9999999, -2.0**-32, -1.5 * 2.0**-32, 2.0**-31, -2.0**-31],
    ]).astype(np.float32)
    write_wav(tmp_path / "ours.wav", data, RATE)
    sf.write(str(tmp_path / "theirs.wav"), np.clip(data, -1, 1), RATE, subtype="PCM_16", format="WAV")
    assert (tmp_path / "ours.wav").read_bytes() == (tmp_path / "theirs.wav").read_bytes()
    stereo = np.stack([data, -data], axis=1)
    write_wav(tmp_path / "ours2.wav", stereo, RATE)
    sf.write(str(tmp_path / "theirs2.wav"), np.clip(stereo, -1, 1), RATE, subtype="PCM_16", format="WAV")
    assert (tmp_path / "ours2.wav").read_bytes() == (tmp_path / "theirs2.wav").read_bytes()


def test_mono_written_as_two_channels_is_the_stereo_file(tmp_path: Path) -> None:
    mono = noise(0.5, 0.3)
    write_wav(tmp_path / "dup.wav", mono, RATE, channels=2)
    write_wav(tmp_path / "stereo.wav", np.stack([mono, mono], axis=1), RATE)
    assert (tmp_path / "dup.wav").read_bytes() == (tmp_path / "stereo.wav").read_bytes()
    assert sf.info(str(tmp_path / "dup.wav")).channels == 2


def test_a_mono_bed_and_mix_are_the_stereo_ones_channel() -> None:
    speech = noise(3.0, 0.2)
    cues = [(0.5, noise(1.0, 0.1, seed=4)), (2.2, noise(2.0, 0.1, seed=5)), (-0.2, noise(0.5, 0.1, seed=6))]
    stereo = place_cues(3 * RATE, RATE, cues)
    mono = place_cues(3 * RATE, RATE, cues, channels=1)
    assert mono.shape == (3 * RATE,) and np.array_equal(mono, stereo[:, 0])
    mixed = mix(speech, duck(mono, speech, RATE))
    assert mixed.shape == (3 * RATE,)
    assert np.array_equal(mixed, mix(speech, duck(stereo, speech, RATE))[:, 1])
    with pytest.raises(MediaError):
        place_cues(RATE, RATE, cues, channels=3)


def test_ducking_a_sparse_bed_gives_what_ducking_every_sample_gives() -> None:
    # Silent stretches of the bed are skipped (cues are sparse); what is not silent is ducked
    # exactly as before, sample for sample.
    from storybuild.media.mix import _FRAME, _ramp_to, speech_activity

    bed = np.zeros((30 * RATE, 2), np.float32)
    bed[3 * RATE : 5 * RATE] = noise(2.0, 0.1, channels=2, seed=8)
    bed[21 * RATE + 17] = [0.5, -0.5]  # one lone sample in a long silence
    speech = np.zeros(30 * RATE, np.float32)
    speech[4 * RATE : 22 * RATE] = noise(18.0, 0.2, seed=9)
    ducked = duck(bed, speech, RATE, amount_db=-12.0)
    hop = int(RATE * _FRAME)
    frames = -(-len(bed) // hop)
    active = speech_activity(speech, RATE, frames)
    depth = np.maximum(_ramp_to(active, 0.05 / _FRAME, True), _ramp_to(active, 0.4 / _FRAME, False))
    gain = (10 ** (-12.0 * depth / 20)).astype(np.float32)
    every = np.interp(np.arange(len(bed)), (np.arange(frames) + 0.5) * hop, gain).astype(np.float32)
    assert np.array_equal(ducked, bed * every[:, None])
    assert ducked[21 * RATE + 17, 0] < 0.5 / 3  # the lone sample is ducked, not skipped


def test_speech_activity_is_the_short_window_rms_per_frame() -> None:
    from storybuild.media.mix import speech_activity

    speech = noise(3.0, 0.2)[: 3 * RATE - 123]  # the last frame is partial
    speech[RATE : 2 * RATE] *= 1e-4
    hop = RATE // 100
    frames = 3 * 100 + 5  # more frames than the speech fills: the rest is silence
    padded = np.zeros(frames * hop, np.float32)
    padded[: len(speech)] = speech
    power = np.square(padded, dtype=np.float64).reshape(frames, hop).mean(axis=1)
    expected = np.convolve(power, np.ones(5) / 5, mode="same") > 10 ** (-40 / 10)
    assert np.array_equal(speech_activity(speech, RATE, frames), expected)
    short = np.square(speech[: 150 * hop], dtype=np.float64).reshape(150, hop).mean(axis=1)  # fewer frames: cut
    assert np.array_equal(speech_activity(speech, RATE, 150), np.convolve(short, np.ones(5) / 5, mode="same") > 1e-4)
