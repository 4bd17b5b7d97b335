"""The procedural SFX backend: exact lengths, repeatable bytes, and kinds that sound apart."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from storybuild.backends.registry import backend_class
from storybuild.backends.sfx import SoundRequest
from storybuild.backends.sfx.procedural import ProceduralSFX
from storybuild.backends.sfx.synth import KINDS, PEAK, kinds_in
from storybuild.errors import BackendError

_COUNTER = itertools.count()
BANDS = [0, 100, 250, 500, 1000, 2000, 4000, 8000, 24000]


@pytest.fixture(scope="module")
def sfx() -> ProceduralSFX:
    return ProceduralSFX()


def make(sfx: ProceduralSFX, tmp_path: Path, text: str, duration: float = 3.0, **fields: Any) -> tuple[np.ndarray, int]:
    out = tmp_path / f"cue-{next(_COUNTER)}.wav.tmp"
    sfx.generate(SoundRequest(text=text, duration=duration, **fields), out)
    info = sf.info(str(out))
    assert info.format == "WAV" and info.channels == 1
    data, rate = sf.read(str(out), dtype="float64")
    return data, rate


def band_energy(x: np.ndarray, rate: int) -> np.ndarray:
    """Share of the energy in each octave-ish band of ``BANDS``."""
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    energy = np.array([power[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in zip(BANDS[:-1], BANDS[1:])])
    return energy / energy.sum()


def centroid(x: np.ndarray, rate: int) -> float:
    """Power-weighted mean frequency (power, so the 16-bit noise floor does not pull it up)."""
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    return float((spectrum * np.fft.rfftfreq(len(x), 1 / rate)).sum() / spectrum.sum())


def test_registered_under_its_name() -> None:
    assert backend_class("sfx", "procedural") is ProceduralSFX


@pytest.mark.parametrize(
    ("text", "duration", "rate"),
    [("rain", 6.0, 48000), ("a knock at the door", 1.5, 48000), ("a foghorn", 2.345, 44100),
     ("birds", 0.01, 22050), ("wind", 0.0, 48000), ("a storm", 7.77777, 48000)],
)
def test_length_is_exact(sfx: ProceduralSFX, tmp_path: Path, text: str, duration: float, rate: int) -> None:
    data, got_rate = make(sfx, tmp_path, text, duration, sample_rate=rate)
    assert got_rate == rate
    assert len(data) == round(duration * rate)


def test_same_request_same_bytes_and_seed_or_text_changes_them(sfx: ProceduralSFX, tmp_path: Path) -> None:
    def raw(name: str, **fields: Any) -> bytes:
        out = tmp_path / name
        sfx.generate(SoundRequest(duration=2.0, **fields), out)
        return out.read_bytes()

    first = raw("a.wav", text="rain on the roof")
    assert raw("b.wav", text="rain on the roof") == first
    assert raw("c.wav", text="rain on the roof", seed=1) != first
    assert raw("d.wav", text="rain on a roof") != first


def test_bytes_do_not_depend_on_python_hash_seed(tmp_path: Path) -> None:
    script = (
        "import sys, hashlib; from storybuild.backends.sfx.synth import render;"
        "from storybuild.backends.sfx import SoundRequest;"
        "print(hashlib.sha256(render(SoundRequest(text='fire and wind', duration=1.0)).tobytes()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True, text=True, check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_every_kind_peaks_under_the_bound_and_is_not_silent(sfx: ProceduralSFX, tmp_path: Path) -> None:
    texts = [*KINDS, "unheard-of gizmo", "a loud storm with heavy rain, wind, thunder, fire, bells and waves"]
    for text in texts:
        data, _ = make(sfx, tmp_path, text, 3.0)
        assert np.max(np.abs(data)) <= PEAK + 1 / 32768, text
        assert np.sqrt(np.mean(data**2)) > 0.005, text


def test_starts_and_ends_without_a_click(sfx: ProceduralSFX, tmp_path: Path) -> None:
    for text in ("rain", "a foghorn", "a crowd murmuring", "fire"):
        data, rate = make(sfx, tmp_path, text, 2.0)
        edge = int(0.002 * rate)
        assert np.max(np.abs(data[:edge])) < 0.05, text
        assert np.max(np.abs(data[-edge:])) < 0.05, text


def test_kinds_differ_in_spectrum(sfx: ProceduralSFX, tmp_path: Path) -> None:
    spectra = {kind: band_energy(*make(sfx, tmp_path, kind, 4.0)) for kind in KINDS}
    names = list(spectra)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(spectra[a] - spectra[b]).sum() > 0.1, (a, b)


def test_kinds_sit_where_they_should(sfx: ProceduralSFX, tmp_path: Path) -> None:
    rain, rate = make(sfx, tmp_path, "rain", 4.0)
    wind, _ = make(sfx, tmp_path, "wind", 4.0)
    horn, _ = make(sfx, tmp_path, "a ship's foghorn", 4.0)
    birds, _ = make(sfx, tmp_path, "birdsong", 4.0)
    thunder, _ = make(sfx, tmp_path, "thunder", 4.0)
    assert centroid(rain, rate) > 2 * centroid(wind, rate)
    assert band_energy(horn, rate)[:4].sum() > 0.9  # below 1 kHz
    assert band_energy(birds, rate)[5:7].sum() > 0.8  # 2-8 kHz
    assert band_energy(thunder, rate)[:2].sum() > 0.8  # below 250 Hz


def test_words_pick_kinds_in_order_and_sequence_on_then() -> None:
    assert kinds_in("a match striking, then a soft roar of flame") == [["strike"], ["fire"]]
    assert kinds_in("rain and wind in the trees") == [["rain", "wind"]]
    assert kinds_in("a storm") == [["storm"]]
    assert kinds_in("the ship's bell rang") == [["bell"]]
    assert kinds_in("a ship in the fog") == [["horn"]]
    assert kinds_in("a knock at the door") == [["knock"]]
    assert kinds_in("boots on the stairs; the door creaks") == [["footsteps"], ["creak"]]
    assert kinds_in("something nobody has a word for") == [["room"]]


def test_a_sequence_plays_its_parts_in_order(sfx: ProceduralSFX, tmp_path: Path) -> None:
    data, rate = make(sfx, tmp_path, "a match striking, then a soft roar of flame", 7.0)
    strike, fire = data[: int(0.15 * rate)], data[int(2.0 * rate) : int(6.5 * rate)]
    assert centroid(strike, rate) > 3 * centroid(fire, rate)


def test_adjectives_change_the_level(sfx: ProceduralSFX, tmp_path: Path) -> None:
    plain, _ = make(sfx, tmp_path, "waves", 4.0)
    faint, _ = make(sfx, tmp_path, "faint waves", 4.0)
    assert np.sqrt(np.mean(faint**2)) < 0.6 * np.sqrt(np.mean(plain**2))


def test_natural_durations(sfx: ProceduralSFX) -> None:
    assert sfx.natural_duration("a foghorn") == 4.0
    assert sfx.natural_duration("a knock at the door") == 1.5
    assert sfx.natural_duration("rain") == 6.0
    assert sfx.natural_duration("an unheard-of gizmo") == 3.0
    assert sfx.natural_duration("a match striking, then a soft roar of flame") == 7.0


def test_impossible_requests_are_backend_errors(sfx: ProceduralSFX, tmp_path: Path) -> None:
    with pytest.raises(BackendError):
        sfx.generate(SoundRequest(text="rain", duration=-1.0), tmp_path / "x.wav")
    with pytest.raises(BackendError, match="cannot write"):
        sfx.generate(SoundRequest(text="rain", duration=1.0), tmp_path / "missing" / "x.wav")


def test_implied_cues_are_placed_inside_their_line_with_ids_of_their_own() -> None:
    from storybuild.backends.llm import InferredCue
    from storybuild.graph.sound import place_inferred
    from storybuild.timeline import TimedLine, Timeline

    lines = [TimedLine(id="0001", speaker="narrator", text="a", scene="s", start=1.0, end=3.0),
             TimedLine(id="0002", speaker="narrator", text="b", scene="s", start=4.0, end=9.5)]
    timeline = Timeline(sample_rate=48000, duration=10.0, scenes=[], lines=lines, cues=[])
    asked = [InferredCue(line="0001", position=0.25, duration=2.0, text="a knock"),
             InferredCue(line="0002", position=0.9, duration=5.0, text="wind"),
             InferredCue(line="0002", position=0.0, text="rain"),
             InferredCue(line="0099", text="a line that does not exist")]
    placed = place_inferred(timeline, asked, gain=-6.0)
    assert [(c.id, c.start, c.duration) for c in placed] == [
        ("i0001-1", 1.5, 2.0), ("i0002-1", 8.95, 1.05), ("i0002-2", 4.0, 2.0)]
    assert all(c.inferred and c.gain_db == -6.0 for c in placed)
    assert not any(c.id.isdigit() for c in placed)  # never an explicit cue's id
