"""The cast: genders, looks and distinct, stable voices."""

from __future__ import annotations

from pathlib import Path

from storybuild.backends.llm.rules import RulesLLM
from storybuild.backends.tts.espeak import EspeakTTS
from storybuild.cast import build_cast
from storybuild.config import CharacterSettings
from storybuild.story import parse_text


def _story(text: str):
    return parse_text(text, Path("stories/t/story.txt"), "t")


def test_sources_in_order_toml_then_prefix_then_rules(tmp_path):
    story = _story("[female_fox] Hi.\n[tobias] Hello.\n[zed] Hm.\nShe ran, and she ran.\n")
    overrides = {"zed": CharacterSettings(gender="female", look="a tall woman")}
    cast = build_cast(story, overrides, RulesLLM(), EspeakTTS(), tmp_path)
    assert cast.member("fox").gender == "female"
    assert cast.member("tobias").gender == "male"  # a known given name
    assert cast.member("zed").gender == "female" and cast.member("zed").look == "a tall woman"


def test_twelve_characters_get_twelve_distinct_voices(tmp_path):
    names = [f"{'male' if i % 2 else 'female'}_c{i}" for i in range(12)]
    story = _story("\n".join(f"[{name}] Line {i}." for i, name in enumerate(names)) + "\nThe end.\n")
    cast = build_cast(story, {}, RulesLLM(), EspeakTTS(), tmp_path)
    voices = [(m.voice.name, m.voice.pitch, m.voice.rate) for m in cast.characters]
    assert len(set(voices)) == len(voices) == 13


def test_adding_a_character_keeps_the_others_voices(tmp_path):
    names = ["ann", "bob", "dan", "eve_x", "gus"]
    text = "".join(f"[male_{n}] Line.\n" for n in names)
    before = build_cast(_story(text), {}, RulesLLM(), EspeakTTS(), tmp_path)
    after = build_cast(_story("[male_cy] New.\n" + text), {}, RulesLLM(), EspeakTTS(), tmp_path)
    moved = [n for n in names if after.member(n).voice != before.member(n).voice]
    assert len(moved) <= 1, moved


def test_voice_from_story_toml_name_or_sample(tmp_path):
    (tmp_path / "mara.wav").write_bytes(b"RIFF")
    story = _story("[mara] Hi.\n[elias] Yes.\n")
    overrides = {"mara": CharacterSettings(voice="mara.wav"), "elias": CharacterSettings(voice="m7")}
    cast = build_cast(story, overrides, RulesLLM(), EspeakTTS(), tmp_path)
    # By name in voices/, not by path: a renamed story's reused cast still finds it.
    assert cast.member("mara").voice.sample == Path("mara.wav")
    assert cast.member("elias").voice.name == "m7" and cast.member("elias").voice.sample is None


def test_accented_first_names_get_their_gender_from_the_dataset(tmp_path):
    story = _story("[renée] Bonjour.\n[françois] Salut.\n[zoë] Hi.\n[émile] Oui.\n[old_queen] Hm.\n")
    cast = build_cast(story, {}, RulesLLM(), EspeakTTS(), tmp_path)
    genders = {m.name: m.gender for m in cast.characters}
    assert genders == {"renée": "female", "françois": "male", "zoë": "female", "émile": "male",
                       "old_queen": "female"}
    female_pool = {v.name for v in EspeakTTS().voice_pool("female", "en")}
    assert cast.member("renée").voice.name in female_pool
    assert cast.member("renée").voice_description and cast.member("renée").age == ""


def test_tags_and_story_toml_beat_the_dataset(tmp_path):
    story = _story("[male_renée] Hi.\n[françois] Yes.\n[mara] No.\n")
    overrides = {"françois": CharacterSettings(gender="female", look="a tall woman in a green coat", voice="f3")}
    cast = build_cast(story, overrides, RulesLLM(), EspeakTTS(), tmp_path)
    assert cast.member("renée").gender == "male"
    assert cast.member("françois").gender == "female" and cast.member("françois").look == "a tall woman in a green coat"
    assert cast.member("mara").gender == "female"


def test_age_and_voice_come_from_the_look(tmp_path):
    story = _story("(shop) Old elias with a grey beard sweeps; little mara waits by the door.\n[elias] Hm.\n[mara] Hi.\n")
    cast = build_cast(story, {}, RulesLLM(), EspeakTTS(), tmp_path)
    assert cast.member("elias").age == "elderly" and "low" in cast.member("elias").voice_description
    assert cast.member("mara").age == "child"


def test_the_dataset_loads_only_when_asked():
    import subprocess
    import sys

    code = ("import sys; import storybuild.graph, storybuild.backends.llm.rules; "
            "print('gender_guesser' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
