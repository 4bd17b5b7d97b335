"""The timeline: when every line, cue and scene happens, measured from the narration itself.

Everything downstream (subtitles, cue placement, clip lengths, chapters) times itself from
timeline.json, never from guesses: times are sample counts of the joined narration divided by its
sample rate, after each line's leading and trailing silence was trimmed.
"""

from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

from pydantic import BaseModel

from .config import AudioSettings
from .story.model import Cue, Line, Story

if TYPE_CHECKING:
    import numpy as np

TIMELINE_VERSION = 1


class TimedLine(BaseModel):
    """A spoken line placed in time."""

    id: str
    speaker: str
    text: str
    scene: str
    start: float
    end: float


class TimedCue(BaseModel):
    """A cue's moment in time."""

    id: str
    text: str
    scene: str
    start: float


class TimedScene(BaseModel):
    """A scene's span; spans tile the whole narration without gaps."""

    id: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.end - self.start


class Timeline(BaseModel):
    """When everything happens in one story's narration."""

    version: int = TIMELINE_VERSION
    sample_rate: int
    duration: float
    scenes: list[TimedScene]
    lines: list[TimedLine]
    cues: list[TimedCue]

    @classmethod
    def load(cls, path: str | Path) -> Timeline:
        """Read a timeline.json."""
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))

    def scene(self, scene_id: str) -> TimedScene:
        """The span of ``scene_id``; KeyError if absent."""
        for scene in self.scenes:
            if scene.id == scene_id:
                return scene
        raise KeyError(scene_id)

    def frame_span(self, scene_id: str, fps: int) -> tuple[int, int]:
        """First frame and frame count of a scene; spans of consecutive scenes tile exactly."""
        scene = self.scene(scene_id)
        first, end = round(scene.start * fps), round(scene.end * fps)
        return first, end - first


def _seconds(samples: int, rate: int) -> float:
    return round(samples / rate, 6)


def assemble(
    story: Story, line_wavs: dict[str, Path], audio: AudioSettings, fps: int
) -> tuple[np.ndarray, Timeline]:
    """Join the lines' audio with pauses into one mono track, and time every line, cue and scene.

    Scene boundaries and the end fall on video frame boundaries (``fps``), so every scene lasts a
    whole number of frames: a clip's length then depends on its own scene only, never on rounding
    shifted by an edit elsewhere.
    """
    import numpy as np

    rate = audio.sample_rate
    chunks: list[np.ndarray] = []
    position = 0
    lines: list[TimedLine] = []
    cues: list[TimedCue] = []
    scene_starts: list[tuple[str, int]] = []

    def pad(seconds: float) -> None:
        nonlocal position
        count = int(round(seconds * rate))
        chunks.append(np.zeros(count, dtype=np.float32))
        position += count

    def align() -> None:
        frames = -(-position * fps // rate)  # ceil
        pad((round(frames * rate / fps) - position) / rate)

    pad(audio.lead_in)
    previous_was_line = False
    for number, scene in enumerate(story.scenes):
        if number:
            pad(audio.scene_pause / 2)
            align()
            scene_starts.append((scene.id, position))
            pad(audio.scene_pause / 2)
            previous_was_line = False
        else:
            scene_starts.append((scene.id, 0))
        for item in scene.items:
            if isinstance(item, Cue) and item.anchor == "between":
                cues.append(TimedCue(id=item.id, text=item.text, scene=scene.id, start=_seconds(position, rate)))
                pad(audio.cue_pause)
                previous_was_line = False
            elif isinstance(item, Line):
                if previous_was_line:
                    pad(audio.line_pause)
                data = _line_audio(line_wavs[item.id], rate)
                start = position
                chunks.append(data)
                position += len(data)
                lines.append(
                    TimedLine(
                        id=item.id, speaker=item.speaker, text=item.text, scene=scene.id,
                        start=_seconds(start, rate), end=_seconds(position, rate),
                    )
                )
                for cue in scene.cues:
                    if cue.anchor == "inline" and cue.line == item.index:
                        at = start + int(cue.position * len(data))
                        cues.append(TimedCue(id=cue.id, text=cue.text, scene=scene.id, start=_seconds(at, rate)))
                previous_was_line = True
    pad(audio.tail)
    align()
    total = _seconds(position, rate)
    scenes = [
        TimedScene(
            id=scene_id,
            start=_seconds(start, rate),
            end=_seconds(scene_starts[i + 1][1], rate) if i + 1 < len(scene_starts) else total,
        )
        for i, (scene_id, start) in enumerate(scene_starts)
    ]
    cues.sort(key=lambda cue: cue.id)
    timeline = Timeline(sample_rate=rate, duration=total, scenes=scenes, lines=lines, cues=cues)
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32), timeline


def _line_audio(path: Path, rate: int) -> np.ndarray:
    import numpy as np

    from .media.audio import read_wav, resample, to_mono, trim_silence

    data, source_rate = read_wav(path)
    data = to_mono(data)
    if source_rate != rate:
        data = resample(data, source_rate, rate)
    trimmed, _ = trim_silence(data, rate)
    return trimmed.astype(np.float32)
