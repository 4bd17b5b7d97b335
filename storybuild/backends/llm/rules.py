"""The embedded language backend: deterministic rules instead of a model.

It answers the same questions a remote model would, from what the text itself says: a name on a
short list of common given names, words like "father" or "she" near the name, and the phrase of a
scene description that names the character as its look.
"""

from __future__ import annotations

import re

from ...story.model import Scene, Story
from .interface import CastGuess, InferredCue, LLMBackend, Metadata, ScenePrompt

_FEMALE = {
    "alice", "anna", "anne", "clara", "emma", "eva", "grace", "hannah", "iris", "jane", "julia",
    "lily", "lucy", "mara", "maria", "mary", "mother", "nora", "olivia", "rose", "ruth", "sarah",
    "sophie", "queen", "princess", "girl", "woman", "lady", "grandmother", "aunt", "sister", "witch",
}
_MALE = {
    "arthur", "ben", "david", "elias", "father", "george", "henry", "jack", "james", "john",
    "leo", "max", "oscar", "paul", "peter", "sam", "thomas", "tobias", "watson", "holmes",
    "king", "prince", "boy", "man", "grandfather", "uncle", "brother", "wizard", "captain",
}
_SHE = re.compile(r"\b(she|her|hers|herself)\b", re.IGNORECASE)
_HE = re.compile(r"\b(he|him|his|himself)\b", re.IGNORECASE)


def _guess_gender(name: str, story: Story) -> str | None:
    parts = set(name.split("_"))
    if parts & _FEMALE:
        return "female"
    if parts & _MALE:
        return "male"
    # Pronouns in the narration around the character's lines are weak evidence; use them only
    # when they clearly lean one way.
    text = " ".join(line.text for line in story.lines if line.speaker == "narrator")
    she, he = len(_SHE.findall(text)), len(_HE.findall(text))
    if she > 2 * he and she >= 2:
        return "female"
    if he > 2 * she and he >= 2:
        return "male"
    if name.endswith("a"):
        return "female"
    return None


def _guess_look(name: str, story: Story) -> str:
    """The phrase of a scene description that mentions the character, if any does."""
    word = re.compile(rf"\b{re.escape(name.replace('_', ' '))}\b", re.IGNORECASE)
    for scene in story.scenes:
        for phrase in re.split(r"[,:;.]", scene.description):
            if word.search(phrase):
                return phrase.strip()
    return ""


class RulesLLM(LLMBackend):
    """Answers story questions with fixed rules, offline and instantly."""

    name = "rules"
    version = "1"

    def guess_cast(self, story: Story, names: list[str]) -> list[CastGuess]:
        """A gender where the rules find one, and a plain look built from the name."""
        guesses = []
        for name in names:
            gender = _guess_gender(name, story)
            person = {"female": "woman", "male": "man"}.get(gender or "", "person")
            label = name.replace("_", " ")
            look = _guess_look(name, story) or f"{label}, a {person} from the story"
            guesses.append(CastGuess(name=name, gender=gender, look=look))
        return guesses

    def scene_prompt(self, story: Story, scene: Scene, style: str) -> ScenePrompt:
        """The description itself as the prompt (rules for place, props, time follow)."""
        prompt = ", ".join(part for part in (scene.description, style) if part)
        return ScenePrompt(prompt=prompt, setting="outdoor", place="")

    def infer_cues(self, story: Story) -> list[InferredCue]:
        """No inferred cues yet."""
        return []

    def metadata(self, story: Story) -> Metadata:
        """The title, the first lines as a description."""
        return Metadata(title=story.title, description=story.title, tags=[])
