"""The voice library: the seed layout is read, every character gets a distinct sample of their gender, stably."""

from __future__ import annotations

from pathlib import Path

import pytest

from storybuild.backends.tts import SpeechRequest, Voice
from storybuild.backends.tts.espeak import EspeakTTS
from storybuild.errors import ConfigError
from storybuild.voices import assign, is_sample_spec, library, resolve, scan

SAID = "I have come a long way to tell you what I saw."
LAYOUT = {
    "male/us/en/adam": "m1", "male/us/en/bram": "m3", "male/gb/en/cole": "m7",
    "female/us/en/ava": "f1", "female/us/en/bea": "f3", "female/gb/en/cleo": "f4",
    "female/fr/fr/zoe": "f2", "misc/robot": "m6",
}


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project voices/ folder in the seed layout: real espeak recordings, each with its transcript."""
    folder = tmp_path_factory.mktemp("project") / "voices"
    tts = EspeakTTS()
    for key, variant in LAYOUT.items():
        wav = folder / f"{key}.wav"
        wav.parent.mkdir(parents=True, exist_ok=True)
        tts.synthesize(SpeechRequest(text=SAID, voice=Voice(name=variant)), wav)
        if key != "misc/robot":
            wav.with_name(wav.stem + ".reference.txt").write_text(f"  {SAID}\n")
    return folder


def test_the_seed_layout_is_read(voices: Path) -> None:
    samples = {s.key: s for s in scan(voices)}
    assert sorted(samples) == sorted(f"{key}.wav" for key in LAYOUT)
    ava = samples["female/us/en/ava.wav"]
    assert (ava.gender, ava.region, ava.language, ava.transcript) == ("female", "us", "en", SAID)
    assert ava.path == voices / "female/us/en/ava.wav" and ava.path.stat().st_size > 10_000
    robot = samples["misc/robot.wav"]
    assert (robot.gender, robot.language, robot.transcript) == (None, "", "")


CAST = [("narrator", None), ("mara", "female"), ("elias", "male"), ("ada", "female"), ("bo", "male")]


def test_every_character_gets_a_distinct_sample_of_their_gender(voices: Path) -> None:
    chosen = assign(CAST, scan(voices), language="en")
    assert sorted(chosen) == sorted(name for name, _ in CAST)
    assert len({s.key for s in chosen.values()}) == len(CAST)
    for name, gender in CAST:
        assert gender is None or chosen[name].gender in (gender, None), name
        assert chosen[name].language in ("en", "")  # zoe speaks French


def test_assignment_is_stable_across_rebuilds_and_when_a_character_is_added(voices: Path) -> None:
    before = assign(CAST, scan(voices))
    assert assign(CAST, scan(voices)) == before
    after = assign(CAST + [("fox", "female")], scan(voices))
    assert {name: after[name].key for name in before} == {name: s.key for name, s in before.items()}
    assert after["fox"].key not in {s.key for s in before.values()}


def test_a_pinned_sample_is_that_character_s_alone(voices: Path, tmp_path: Path) -> None:
    story = tmp_path / "story"
    story.mkdir()
    pinned = resolve("voices/female/us/en/ava.wav", story, voices.parent)
    assert pinned.key == "female/us/en/ava.wav" and pinned.transcript == SAID
    chosen = assign(CAST, scan(voices), pinned={"ada": pinned})
    assert chosen["ada"].key == "female/us/en/ava.wav"
    assert [n for n, s in chosen.items() if s.key == "female/us/en/ava.wav"] == ["ada"]
    with pytest.raises(ConfigError, match="neither in"):
        resolve("voices/female/us/en/nobody.wav", story, voices.parent)
    with pytest.raises(ConfigError):
        resolve("../secret.wav", story, voices.parent)
    assert is_sample_spec("voices/female/us/en/ava.wav") and not is_sample_spec("f3")


def test_a_story_sample_replaces_the_project_s_at_the_same_path(voices: Path, tmp_path: Path) -> None:
    own = tmp_path / "voices" / "female" / "us" / "en"
    own.mkdir(parents=True)
    (own / "ava.wav").write_bytes((voices / "female/us/en/bea.wav").read_bytes())
    (own / "ava.txt").write_text("Another text.")
    samples = library(tmp_path / "voices", voices)
    avas = [s for s in samples if s.key == "female/us/en/ava.wav"]
    assert len(avas) == 1 and avas[0].path == own / "ava.wav" and avas[0].transcript == "Another text."
    assert len(samples) == len(LAYOUT)


def test_when_samples_run_out_the_rest_keep_backend_voices(voices: Path) -> None:
    many = [(f"girl{n}", "female") for n in range(6)]
    chosen = assign(many, scan(voices), language="en")
    # three English female samples and one without a gender: four girls get one, two do not
    assert len(chosen) == 4 and len({s.key for s in chosen.values()}) == 4
