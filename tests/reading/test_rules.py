"""The rules backend reads descriptions as a model would: place, setting, props, time, weather, sounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from storybuild.backends.llm import LLMBackend
from storybuild.backends.llm.rules import RulesLLM
from storybuild.backends.llm.vocabulary import place_of
from storybuild.story import parse_text


def story_of(text: str):
    return parse_text(text, Path("stories/t/story.txt"), "t")


@pytest.mark.parametrize(("description", "place", "setting"), [
    ("a bakery with a wood-fired oven, snow on the window", "bakery", "indoor"),
    ("a Parisian café", "café", "indoor"),
    ("A Parisian cafe at noon", "café", "indoor"),
    ("a café terrace on a street in Paris at night", "café", "outdoor"),
    ("A small fishing harbor before dawn in late autumn, wet stone quay", "harbor", "outdoor"),
    ("Inside the lighthouse tower: a narrow spiral iron staircase", "stairs", "indoor"),
    ("The lamp room at the top of the lighthouse: a huge glass lens, fog outside", "lamp room", "indoor"),
    ("A farmyard at dawn, a red barn, mist over the grass.", "field", "outdoor"),
    ("Inside the barn at night, a lamp on a hook, hay bales.", "barn", "indoor"),
    ("An autumn forest at sunrise: red and gold leaves", "forest", "outdoor"),
    ("A cluttered clockmaker's workshop at night", "workshop", "indoor"),
    ("the old library, dusty shelves", "library", "indoor"),
    ("a kitchen with a copper pot", "kitchen", "indoor"),
    ("nothing but sky", "field", "outdoor"),
])
def test_the_place_and_whether_it_is_inside(description: str, place: str, setting: str) -> None:
    assert place_of(description) == (place, setting)


def test_scene_prompt_fields_come_from_the_words() -> None:
    story = story_of(
        "(bake) a bakery with a wood-fired oven and bread on the counter, snow on the window at dawn\n"
        "[renée] Bonjour.\n[françois] Salut.\n[zoë] Hi.\n[max] Yo.\n"
    )
    answer = RulesLLM().scene_prompt(story, story.scenes[0], "watercolor")
    assert (answer.setting, answer.place, answer.weather, answer.time_of_day) == ("indoor", "bakery", "snow", "dawn")
    assert answer.props == ["oven", "bread", "counter", "window"]
    assert answer.prompt.endswith(", watercolor") and "wood-fired oven" in answer.prompt
    assert [(c.name, c.position) for c in answer.characters] == [
        ("renée", "left"), ("françois", "center"), ("zoë", "right"), ("max", "left")]


@pytest.mark.parametrize(("description", "time", "weather"), [
    ("a street at night in the rain", "night", "rain"),
    ("a harbor before dawn in thick fog", "dawn", "fog"),
    ("a field at sunset, a storm coming", "dusk", "storm"),
    ("a meadow on a windy afternoon", "afternoon", "wind"),
    ("a quiet room", None, None),
])
def test_time_and_weather(description: str, time: str | None, weather: str | None) -> None:
    story = story_of(f"(s) {description}\n[a] Hi.\n")
    answer = RulesLLM().scene_prompt(story, story.scenes[0], "")
    assert (answer.time_of_day, answer.weather) == (time, weather)


def test_a_scene_answer_depends_on_its_own_scene_only() -> None:
    one = story_of("(a) a bakery at night\n[x] Hi.\n(b) a forest\n[y] Yo.\n")
    other = story_of("(a) a bakery at night\n[x] Hi.\n(b) a harbor in the rain\n[y] Different.\n")
    rules = RulesLLM()
    assert rules.scene_prompt(one, one.scenes[0], "s") == rules.scene_prompt(other, other.scenes[0], "s")


def test_inferred_cues_name_their_line_and_place() -> None:
    story = story_of(
        "(s) a cottage\nSomeone knocked at the door.\n[a] Who is it?\n"
        "The wind howled.\n{thunder}\nThunder rolled over the hills.\n"
    )
    cues = RulesLLM().infer_cues(story)
    assert [(c.line, c.text) for c in cues] == [("0001", "a knock at the door"), ("0003", "wind howling")]
    assert 0 < cues[0].position < 0.5  # "knocked" is early in its line
    # Line 0004 follows the explicit {thunder}: it already has its sound.


def test_metadata_uses_the_title_and_first_narration() -> None:
    story = story_of("title: The Small Bell\n(yard) A farmyard\nThe bell rang once.\n[ada] Who?\n")
    meta = RulesLLM().metadata(story)
    assert meta.title == "The Small Bell"
    assert meta.description.startswith("The bell rang once.")
    assert "ada" in meta.tags and meta.category == "Film & Animation"


def test_question_identity_is_the_rules_version_and_defaults_to_empty() -> None:
    assert RulesLLM().question_identity("scene_prompt").startswith("rules ")

    class Quiet(LLMBackend):
        name, version = "quiet", "1"
        guess_cast = scene_prompt = infer_cues = metadata = lambda *a: None  # noqa: E731

    assert Quiet().question_identity("cast") == ""


def test_the_cue_question_reads_narration_and_cue_places_only() -> None:
    text = "(s) a cottage\nSomeone knocked at the door.\n[a] Who is it?\n{thunder}\nThe wind howled.\n"
    rules, base = RulesLLM(), story_of(text)
    reads = rules.cues_reads(base)
    # What a character says is not read: editing it leaves the recipe (and cues.json) alone.
    assert rules.cues_reads(story_of(text.replace("Who is it?", "Who is it, at this hour?"))) == reads
    # A narrated line, a moved cue or a new line before the narration is read.
    for edited in (text.replace("knocked at", "tapped on"), text.replace("{thunder}\n", ""),
                   text.replace("[a] Who", "[a] Hm.\n[a] Who")):
        assert rules.cues_reads(story_of(edited)) != reads
    # The answer agrees: it changes only where the reads change.
    assert rules.infer_cues(story_of(text.replace("Who is it?", "Who is it, at this hour?"))) == rules.infer_cues(base)
    # Any other backend (a model) reads every line by default.
    assert ["0002", "a", "Who is it?"] in LLMBackend.cues_reads(rules, base)
