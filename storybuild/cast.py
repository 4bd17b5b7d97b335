"""The cast: every character with gender, look and a voice of its own.

Sources, strongest first: the story's story.toml, the ``male_``/``female_`` tag prefix, then the
language-model backend's guesses (which alone give age and a voice description). Voices are handed out from the TTS backend's pool per gender;
each character's preferred slot comes from a stable hash of its name, so adding a character rarely
moves anyone else's voice.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import xxhash
from pydantic import BaseModel

from .backends.llm import LLMBackend
from .backends.tts import TTSBackend, Voice
from .config import CharacterSettings
from .errors import ConfigError
from .story.model import NARRATOR, Story
from .voices import VoiceSample, assign, is_sample_spec, resolve

CONTROLS = ("rate", "pitch", "volume")


class Member(BaseModel):
    """One character of cast.json."""

    name: str
    gender: str | None = None
    age: str = ""
    look: str = ""
    voice: Voice
    voice_description: str = ""
    lora: str | None = None


class Cast(BaseModel):
    """cast.json: who is in the story and how they sound and look."""

    characters: list[Member]

    def member(self, name: str) -> Member:
        """The member called ``name``; KeyError if none is."""
        for member in self.characters:
            if member.name == name:
                return member
        raise KeyError(name)

    @classmethod
    def load(cls, path: str | Path) -> Cast:
        """Read a cast.json."""
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))


def _voice(spec: str, voices_dir: Path) -> Voice:
    """A voice from story.toml: a file in voices/ is a sample, anything else a backend voice name.

    The sample is recorded by its name in the story's voices/ folder, not by its path, so a cast
    reused after the story folder was renamed still finds it.
    """
    sample = voices_dir / spec
    if "/" not in spec and "\\" not in spec and sample.is_file():
        return Voice(name=spec, sample=Path(spec))
    return Voice(name=spec)


def build_cast(
    story: Story,
    overrides: dict[str, CharacterSettings],
    llm: LLMBackend,
    tts: TTSBackend,
    voices_dir: Path,
    samples: Sequence[VoiceSample] = (),
    project_dir: Path | None = None,
) -> Cast:
    """Decide gender, look and voice for every character of ``story``.

    ``samples`` is the voice library (``voices.library``): characters without a voice in
    story.toml get a distinct sample of their gender from it before the backend's pool serves the
    rest. A story.toml voice that is a path (``voices/female/us/en/ava.wav``) pins that sample,
    found from the story folder, then ``project_dir``. ``rate``, ``pitch`` and ``volume`` in
    story.toml are laid over whatever voice a character ends with.
    """
    names = [character.name for character in story.characters]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ConfigError(f"story.toml describes {', '.join(unknown)}, who never speak in {story.path}")
    gender = {c.name: (overrides.get(c.name) or CharacterSettings()).gender or c.gender for c in story.characters}
    look = {name: (overrides.get(name) or CharacterSettings()).look or "" for name in names}
    age: dict[str, str] = {}
    described: dict[str, str] = {}
    # A guess never overrides story.toml or a tag; who is fully described is not asked at all.
    voice_set = {n for n in names if (overrides.get(n) or CharacterSettings()).voice}
    open_questions = [
        n for n in names if n != NARRATOR and (gender[n] is None or not look[n] or n not in voice_set)
    ]
    for guess in llm.guess_cast(story, open_questions) if open_questions else []:
        if guess.name not in gender:
            continue
        gender[guess.name] = gender[guess.name] or guess.gender
        look[guess.name] = look[guess.name] or guess.look
        age[guess.name], described[guess.name] = guess.age, guess.voice

    voices: dict[str, Voice] = {}
    pinned: dict[str, VoiceSample] = {}
    for name in names:
        spec = (overrides.get(name) or CharacterSettings()).voice
        if spec and is_sample_spec(spec) and ("/" in spec or "\\" in spec):
            pinned[name] = resolve(spec, voices_dir.parent, project_dir or voices_dir.parent)
            voices[name] = Voice(name=spec, sample=pinned[name].path)
        elif spec:
            voices[name] = _voice(spec, voices_dir)
            if voices[name].sample is not None:  # a file in the story's voices/: nobody else's
                pinned[name] = VoiceSample(path=voices[name].sample, key=spec)
    if NARRATOR in names and NARRATOR not in voices:
        voices[NARRATOR] = tts.narrator_voice(story.language)
    unvoiced = [(name, gender[name]) for name in names if name not in voices]
    for name, sample in assign(unvoiced, samples, pinned, story.language).items():
        if name not in pinned:
            voices[name] = Voice(name=sample.key, sample=sample.path)
    taken = {(v.name, v.pitch) for v in voices.values()}
    for name in names:
        if name in voices:
            continue
        pool = tts.voice_pool(gender[name], story.language)
        start = xxhash.xxh32_intdigest(name.encode("utf-8")) % len(pool)
        order = pool[start:] + pool[:start]
        choice = next((v for v in order if (v.name, v.pitch) not in taken), order[0])
        voices[name] = choice
        taken.add((choice.name, choice.pitch))
    for name in names:
        spec = overrides.get(name) or CharacterSettings()
        controls = {key: getattr(spec, key) for key in CONTROLS if getattr(spec, key) is not None}
        if controls:
            voices[name] = voices[name].model_copy(update=controls)

    members = [
        Member(
            name=name,
            gender=gender[name],
            age=age.get(name, ""),
            look=look[name],
            voice=voices[name],
            voice_description=described.get(name, ""),
            lora=(overrides.get(name) or CharacterSettings()).lora,
        )
        for name in names
    ]
    return Cast(characters=members)
