"""The embedded language backend: deterministic rules instead of a model.

It answers every question a remote model would, from what the text itself says: a first name
looked up in a name dataset (``names.py``), words like "father" or "she", the phrase of a scene
description that names a character, and word lists of places, props, times, weather and sounds
(``vocabulary.py``). Answers change only when the words or ``RULES_VERSION`` change, which is why
``question_identity`` is that version.
"""

from __future__ import annotations

import re
from typing import Any

from ...story.model import NARRATOR, Scene, Story
from . import vocabulary as vocab
from .interface import CastGuess, InferredCue, LLMBackend, Metadata, ScenePrompt, VisibleCharacter

RULES_VERSION = "4"

_SHE = re.compile(r"\b(she|her|hers|herself)\b", re.IGNORECASE)
_HE = re.compile(r"\b(he|him|his|himself)\b", re.IGNORECASE)
_AGES = (
    ("child", ("child", "little", "young girl", "young boy", "kid", "girl", "boy", "year-old", "small")),
    ("elderly", ("old", "elderly", "aged", "grey", "gray", "white-haired", "grandmother", "grandfather")),
    ("teen", ("teen", "teenage", "youth")),
    ("young adult", ("young",)),
)


def _pronouns(story: Story) -> tuple[int, int]:
    """How often the narration says she/her and he/him: weak evidence of a character's gender."""
    text = " ".join(line.text for line in story.lines if line.speaker == NARRATOR)
    return len(_SHE.findall(text)), len(_HE.findall(text))


def _cued(story: Story) -> set[int]:
    """The indices of the lines that already have a sound: holding a {cue}, or right after one."""
    return {cue.line + (cue.anchor == "between") for cue in story.cues}


def _guess_gender(name: str, story: Story) -> str | None:
    from .names import gender_of

    found = gender_of(name)
    if found:
        return found
    # Pronouns in the narration are weak evidence; use them only when they clearly lean one way.
    she, he = _pronouns(story)
    if she > 2 * he and she >= 2:
        return "female"
    if he > 2 * she and he >= 2:
        return "male"
    return None


def _guess_look(name: str, story: Story) -> str:
    """The phrase of a scene description that mentions the character, if any does."""
    label = name.replace("_", " ")
    for scene in story.scenes:
        for phrase in re.split(r"[,:;.]", scene.description):
            if vocab.find(phrase, label) >= 0:
                return phrase.strip()
    return ""


def _age(name: str, look: str) -> str:
    text = f"{name.replace('_', ' ')} {look}"
    for age, words in _AGES:
        if any(vocab.find(text, word) >= 0 for word in words):
            return age
    return ""


def _voice(gender: str | None, age: str) -> str:
    pitch = {"child": "high, bright", "teen": "light, quick", "elderly": "low, slow, a little rough"}.get(age, "clear")
    person = {"female": "woman's", "male": "man's"}.get(gender or "", "")
    return f"a {pitch} {person} voice".replace("  ", " ")


class RulesLLM(LLMBackend):
    """Answers story questions with fixed rules, offline and instantly."""

    name = "rules"
    version = "2"

    def question_identity(self, question: str) -> str:
        """The rules' version: the only thing besides the words that shapes an answer."""
        return f"rules {RULES_VERSION}"

    def cast_reads(self, story: Story) -> Any:
        """The names, the narration's pronoun counts and the scene descriptions: nothing a line says."""
        return {"names": [c.name for c in story.characters], "pronouns": list(_pronouns(story)),
                "scenes": [scene.description for scene in story.scenes]}

    def cues_reads(self, story: Story) -> Any:
        """The narration's lines and where the explicit cues sit: ``infer_cues`` reads no dialogue."""
        return {"narration": [[line.id, line.text] for line in story.lines if line.speaker == NARRATOR],
                "cued": sorted(_cued(story))}

    def guess_cast(self, story: Story, names: list[str]) -> list[CastGuess]:
        """Gender from the name dataset, a look from the scene that names them, age and voice from both."""
        guesses = []
        for name in names:
            gender = _guess_gender(name, story)
            person = {"female": "woman", "male": "man"}.get(gender or "", "person")
            look = _guess_look(name, story) or f"{name.replace('_', ' ')}, a {person} from the story"
            age = _age(name, look)
            guesses.append(CastGuess(name=name, gender=gender, age=age, look=look, voice=_voice(gender, age)))
        return guesses

    def scene_prompt(self, story: Story, scene: Scene, style: str) -> ScenePrompt:
        """Place, props, time, weather and camera looked up in the description's words."""
        text = scene.description
        place, setting = vocab.place_of(text)
        speakers = scene.speakers
        slots = {1: ["center"], 2: ["left", "right"], 3: ["left", "center", "right"]}.get(len(speakers))
        positions = slots or [["left", "center", "right"][i % 3] for i in range(len(speakers))]
        prompt = ", ".join(part for part in (text.rstrip(". "), style) if part)
        return ScenePrompt(
            prompt=prompt, setting=setting, place=place, props=vocab.props_of(text),
            time_of_day=vocab.first_of(text, vocab.TIMES), weather=vocab.first_of(text, vocab.WEATHER),
            characters=[VisibleCharacter(name=n, position=p) for n, p in zip(speakers, positions)],
            camera=vocab.first_of(text, vocab.CAMERA) or "static",
        )

    def infer_cues(self, story: Story) -> list[InferredCue]:
        """A sound for each sound word a narrated line uses, unless a ``{cue}`` already sits there."""
        explicit = _cued(story)
        cues = []
        for line in story.lines:
            if line.speaker != NARRATOR or line.index in explicit:
                continue
            for sound, words in vocab.SOUNDS.items():
                hits = [at for at in (vocab.find(line.text, word) for word in words) if at >= 0]
                if hits:
                    at = min(hits) / max(1, len(line.text))
                    cues.append(InferredCue(line=line.id, position=round(min(at, 1.0), 3), duration=2.0, text=sound))
                    break  # one sound per line: a second would fight the first
        return cues

    def metadata(self, story: Story) -> Metadata:
        """The story's title, its first narration as the hook, places and characters as tags."""
        narration = [line.text for line in story.lines if line.speaker == NARRATOR]
        hook = narration[0] if narration else (story.lines[0].text if story.lines else story.title)
        people = [c.name.replace("_", " ").title() for c in story.characters if c.name != NARRATOR]
        places = list(dict.fromkeys(vocab.place_of(scene.description)[0] for scene in story.scenes))
        description = f"{hook}\n\n{story.title}: a narrated, illustrated story"
        if people:
            description += f" with {', '.join(people[:-1]) + ' and ' if len(people) > 1 else ''}{people[-1]}"
        tags = [story.title.lower(), "story", "storytelling", "audio story", "illustrated story", *places,
                *(p.lower() for p in people)]
        caption = " ".join(story.title.split()[:6])
        return Metadata(title=story.title, description=description + ".", tags=list(dict.fromkeys(tags)),
                        thumbnail_caption=caption)
