"""Where every artifact of a story lives under ``build/<story>/``.

One place names every path, so stages agree on them and nothing derived from a story's text can
land outside its build folder. Paths are relative to the project root and normalized: doit treats
``./x`` and ``x`` as different dependencies.
"""

from __future__ import annotations

import posixpath

from .errors import StorybuildError


def _safe_part(part: str) -> str:
    if not part or part in (".", "..") or "/" in part or "\\" in part or "\0" in part:
        raise StorybuildError(f"refusing unsafe file name {part!r}")
    return part


class StoryLayout:
    """The paths of one story's sources and artifacts, as normalized POSIX strings."""

    def __init__(self, slug: str, stories_dir: str = "stories", build_dir: str = "build") -> None:
        self.slug = _safe_part(slug)
        self.source_dir = posixpath.normpath(posixpath.join(stories_dir, slug))
        self.dir = posixpath.normpath(posixpath.join(build_dir, slug))

    def _in(self, *parts: str) -> str:
        return posixpath.join(self.dir, *(_safe_part(part) for part in parts))

    @property
    def story_txt(self) -> str:
        """The story's text."""
        return posixpath.join(self.source_dir, "story.txt")

    @property
    def story_toml(self) -> str:
        """The story's optional settings."""
        return posixpath.join(self.source_dir, "story.toml")

    @property
    def seeds_toml(self) -> str:
        """Rerolled seeds, written by ``storybuild reroll``."""
        return posixpath.join(self.source_dir, "seeds.toml")

    def voice_sample(self, name: str) -> str:
        """A voice sample in the story's ``voices/`` folder."""
        return posixpath.join(self.source_dir, "voices", _safe_part(name))

    cast = property(lambda self: self._in("cast.json"), doc="Characters with voices and looks.")
    narration = property(lambda self: self._in("narration.wav"), doc="All lines joined.")
    timeline = property(lambda self: self._in("timeline.json"), doc="When everything happens.")
    srt = property(lambda self: self._in("story.srt"), doc="Subtitles, SubRip.")
    vtt = property(lambda self: self._in("story.vtt"), doc="Subtitles, WebVTT.")
    sfx_plan = property(lambda self: self._in("sfx_plan.json"), doc="Cues placed in time.")
    final_wav = property(lambda self: self._in("final.wav"), doc="The mixed soundtrack.")
    final_m4a = property(lambda self: self._in("final.m4a"), doc="The soundtrack as AAC.")
    thumbnail = property(lambda self: self._in("thumbnail.png"), doc="The video's thumbnail.")
    video = property(lambda self: self._in("video.mp4"), doc="The clips joined, no sound.")
    final_mp4 = property(lambda self: self._in("final.mp4"), doc="The finished video.")
    inferred_cues = property(lambda self: self._in("cues.json"), doc="Sounds the text implies.")
    inferred_sfx = property(lambda self: self._in("sfx", "inferred.json"), doc="The implied sounds made.")
    metadata = property(lambda self: self._in("metadata.json"), doc="Title, description, tags, chapters.")
    metadata_answer = property(lambda self: self._in("answers", "metadata.json"), doc="The model's metadata.")
    description = property(lambda self: self._in("description.txt"), doc="The video description.")
    tags = property(lambda self: self._in("tags.txt"), doc="The video's tags, comma-separated.")

    def line_wav(self, line_id: str) -> str:
        """One spoken line's audio."""
        return self._in("lines", f"{_safe_part(line_id)}.wav")

    def music_wav(self, name: str) -> str:
        """A generated music track: ``story`` for the whole story's, else a scene id."""
        return self._in("music", f"{_safe_part(name)}.wav")

    def cue_wav(self, cue_id: str) -> str:
        """One sound cue's audio."""
        return self._in("sfx", f"{_safe_part(cue_id)}.wav")

    def portrait(self, name: str) -> str:
        """A character's portrait."""
        return self._in("characters", f"{_safe_part(name)}.png")

    def scene_png(self, scene_id: str) -> str:
        """A scene's still image."""
        return self._in("scenes", f"{_safe_part(scene_id)}.png")

    def scene_prompt(self, scene_id: str) -> str:
        """What a scene's picture shows, as the language model read its description."""
        return self._in("prompts", f"{_safe_part(scene_id)}.json")

    def clip(self, scene_id: str) -> str:
        """A scene's animated clip."""
        return self._in("clips", f"{_safe_part(scene_id)}.mp4")
