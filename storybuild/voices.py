"""The voice library: reference clips in ``voices/`` folders, and which character speaks like which.

A sample is a wav with its transcript beside it (``ava.wav`` + ``ava.reference.txt``; a plain
``ava.txt`` is read too). Cloning backends send both; espeak matches the clip's pitch. The folders
are the project's ``voices/`` and the story's ``stories/<s>/voices/``; the story's come first and
a story sample at the same relative path replaces the project's. The seed pipeline's layout,
``voices/{male,female}/<region>/<lang>/<name>.wav``, is read as it is: a folder named ``male`` or
``female`` gives the gender, the two below it the region and the language. Anywhere else, a
sample has no gender and can serve anyone.

``assign`` hands every character a distinct sample of their gender. Characters are served in the
order they first speak, and each takes, among the free samples, the one whose hash with its name is
highest (rendezvous hashing): a character added after the others never moves anyone, and renaming
or removing one moves only the characters after it that wanted the same sample. ``story.toml``'s
``voice = "voices/female/us/en/ava.wav"`` pins a sample, and nobody else gets it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import xxhash
from pydantic import BaseModel

from .errors import ConfigError

__all__ = ["GENDERS", "VoiceSample", "assign", "is_sample_spec", "library", "resolve", "scan"]

GENDERS = ("male", "female")
_AUDIO = (".wav", ".flac")
_TRANSCRIPTS = (".reference.txt", ".txt")


class VoiceSample(BaseModel):
    """One reference clip: where it is, what it says, and whose voice it can be."""

    path: Path
    key: str  # its path inside voices/, POSIX: what story.toml and the hash use
    transcript: str = ""
    gender: str | None = None
    region: str = ""
    language: str = ""


def _transcript(audio: Path) -> str:
    stem = audio.with_suffix("")
    for suffix in _TRANSCRIPTS:
        text = stem.with_name(stem.name + suffix)
        if text.is_file():
            try:
                return " ".join(text.read_text(encoding="utf-8").split())
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"cannot read voice transcript {text}: {exc}", file=text) from exc
    return ""


def _describe(folder: Path, audio: Path) -> VoiceSample:
    parts = audio.relative_to(folder).parts
    gender = next((p.lower() for p in parts[:-1] if p.lower() in GENDERS), None)
    region = language = ""
    if gender:
        below = [p for p in parts[[p.lower() for p in parts].index(gender) + 1:-1]]
        region = below[0].lower() if len(below) >= 2 else ""
        language = below[-1].lower() if below else ""
    return VoiceSample(
        path=audio, key="/".join(parts), transcript=_transcript(audio), gender=gender, region=region, language=language,
    )


def scan(folder: Path) -> list[VoiceSample]:
    """Every sample under ``folder`` (a ``voices/`` folder), sorted by key; [] if there is no such folder."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.lower().endswith(_AUDIO) and not name.startswith("."):
                found.append(_describe(Path(folder), Path(dirpath) / name))
    return sorted(found, key=lambda sample: sample.key)


def library(story_voices: Path, project_voices: Path) -> list[VoiceSample]:
    """The samples a story can use: its own, then the project's it does not replace."""
    own = scan(story_voices)
    keys = {sample.key for sample in own}
    return own + [sample for sample in scan(project_voices) if sample.key not in keys]


def is_sample_spec(spec: str) -> bool:
    """Whether a story.toml ``voice`` names a sample file rather than a backend voice."""
    return spec.lower().endswith(_AUDIO)


def resolve(spec: str, story_dir: Path, project_dir: Path) -> VoiceSample:
    """The sample a story.toml ``voice`` names: a path from the story folder or the project root."""
    relative = Path(spec)
    if relative.is_absolute() or ".." in relative.parts:
        raise ConfigError(f"voice {spec!r}: a sample is named by its path inside the story or project folder")
    for base in (Path(story_dir), Path(project_dir)):
        candidate = base / relative
        if candidate.is_file():
            inside = relative.parts[1:] if relative.parts[0] == "voices" else relative.parts
            folder = base / "voices" if relative.parts[0] == "voices" else base
            described = _describe(folder, candidate)
            return described.model_copy(update={"key": "/".join(inside)})
    raise ConfigError(f"voice sample {spec!r} is neither in {story_dir} nor in {project_dir}")


def _score(name: str, sample: VoiceSample) -> int:
    return xxhash.xxh64_intdigest(f"{name}\0{sample.key}".encode("utf-8"))


def _speaks(sample: VoiceSample, language: str) -> bool:
    wanted = language.lower().replace("_", "-")
    return not sample.language or wanted.startswith(sample.language) or sample.language.startswith(wanted)


def assign(
    characters: Sequence[tuple[str, str | None]],
    samples: Iterable[VoiceSample],
    pinned: dict[str, VoiceSample] | None = None,
    language: str = "en",
) -> dict[str, VoiceSample]:
    """A distinct sample for every character ``(name, gender)`` there is one for, in order of appearance.

    A character of known gender gets a sample of that gender (samples of no gender serve anyone);
    samples in another language than ``language`` are left out. A character for whom no free
    sample is left gets none: the backend's own voice pool serves them.
    """
    pinned = dict(pinned or {})
    free = [s for s in samples if _speaks(s, language) and s.key not in {p.key for p in pinned.values()}]
    chosen = dict(pinned)
    for name, gender in characters:
        if name in chosen:
            continue
        fits = [s for s in free if gender is None or s.gender in (gender, None)]
        if not fits:
            continue
        best = max(fits, key=lambda sample: _score(name, sample))
        chosen[name] = best
        free.remove(best)
    return chosen
