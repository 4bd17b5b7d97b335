"""The task graph: one doit stage per artifact kind, importable by any dodo.py.

    from storybuild.graph import *          # the stages, as doit task creators
    DOIT_CONFIG = doit_config()

Stages and what they make under build/<story>/:

    cast       cast.json              tts        lines/0001.wav ...
    narration  narration.wav, timeline.json
    subtitles  story.srt, story.vtt   sfx_plan   sfx_plan.json
    sfx        sfx/001.wav ...        final_wav  final.wav
    soundtrack final.m4a              cues       cues.json (sounds the text implies)
    scene_prompt prompts/<scene>.json metadata   metadata.json, description.txt, tags.txt
    character  characters/<name>.png  scene      scenes/<scene>.png
    thumbnail  thumbnail.png          animate    clips/<scene>.mp4
    video      video.mp4              final_mp4  final.mp4
    shorts     shorts/<scene>.mp4     publish    youtube.json (never a default target)
    storyboard storyboard.html (a review page)
"""

from __future__ import annotations

from typing import Any

from .audio import cast_artifacts, narration_artifacts, subtitle_artifacts, tts_artifacts
from .quality import quality_artifacts, transcribe_artifacts
from .reading import cues_artifacts, metadata_artifacts, scene_prompt_artifacts
from .sound import final_wav_artifacts, music_artifacts, sfx_artifacts, sfx_plan_artifacts, soundtrack_artifacts
from .stage import Stage, Validate
from .video import final_mp4_artifacts, video_artifacts
from .visual import animate_artifacts, character_artifacts, scene_artifacts, thumbnail_artifacts

validate = Validate()
cast = Stage("cast", "Decide every character's gender, look and voice (cast.json)", cast_artifacts)
tts = Stage("tts", "Voice every spoken line (lines/NNNN.wav)", tts_artifacts)
transcribe = Stage("transcribe", "Hear what every line says, word-timed (transcripts/NNNN.json)", transcribe_artifacts)
quality = Stage("quality", "Score every line against its script, worst first (quality.json)", quality_artifacts)
narration = Stage("narration", "Join the lines with pauses and time them (narration.wav, timeline.json)", narration_artifacts)
cues = Stage("cues", "Ask which sounds the text implies beyond its {cues} (cues.json)", cues_artifacts)
subtitles = Stage("subtitles", "Write subtitles from the timeline (story.srt, story.vtt)", subtitle_artifacts)
sfx_plan = Stage("sfx_plan", "Place the sound cues on the timeline (sfx_plan.json)", sfx_plan_artifacts)
sfx = Stage("sfx", "Make every sound cue (sfx/NNN.wav)", sfx_artifacts)
music = Stage("music", "Make the music beds the story describes (music/<story|scene>.wav)", music_artifacts)
final_wav = Stage("final_wav", "Mix narration and cues, ducked and loudness-normalized (final.wav)", final_wav_artifacts)
soundtrack = Stage("soundtrack", "Encode final.wav as AAC for the video (final.m4a)", soundtrack_artifacts)
scene_prompt = Stage(
    "scene_prompt", "Read each scene's description as a picture: place, props, time, weather (prompts/<scene>.json)",
    scene_prompt_artifacts,
)
metadata = Stage(
    "metadata", "Write title, description with chapters, and tags for publishing (metadata.json)", metadata_artifacts
)
character = Stage("character", "Draw a portrait of every character (characters/<name>.png)", character_artifacts)
scene = Stage("scene", "Draw every scene (scenes/<scene>.png)", scene_artifacts)
thumbnail = Stage("thumbnail", "Put the title over the key scene (thumbnail.png)", thumbnail_artifacts)
animate = Stage("animate", "Animate every scene for exactly its narrated length (clips/<scene>.mp4)", animate_artifacts)
video = Stage("video", "Join the clips at the scene boundaries (video.mp4)", video_artifacts)
final_mp4 = Stage("final_mp4", "Mux picture, soundtrack, subtitles and chapters; verify (final.mp4)", final_mp4_artifacts)
from .publish import publish, shorts  # noqa: E402  (declared after final_mp4: they read it)
from .storyboard import storyboard  # noqa: E402


def doit_config(**overrides: Any) -> dict[str, Any]:
    """DOIT_CONFIG for a storybuild project: its DB, checker, reporter and defaults."""
    from ..progress import StoryReporter
    from ..store.checker import XXHashChecker
    from .project import load_project

    state_dir = load_project().settings.state_dir

    from ..stopping import install_signal_handlers

    # The one place a build starts: Ctrl-C and SIGTERM stop doit and every worker-thread wait.
    install_signal_handlers()
    config: dict[str, Any] = {
        "backend": "storybuild",
        "dep_file": (state_dir / "doit.sqlite3").as_posix(),
        "check_file_uptodate": XXHashChecker,
        "reporter": StoryReporter,
        "continue": True,
        "par_type": "thread",
        "default_tasks": ["final_mp4"],
        "verbosity": 1,
    }
    config.update(overrides)
    return config


__all__ = [
    "animate",
    "cast",
    "character",
    "cues",
    "doit_config",
    "final_mp4",
    "final_wav",
    "metadata",
    "music",
    "narration",
    "publish",
    "quality",
    "scene",
    "scene_prompt",
    "shorts",
    "sfx",
    "sfx_plan",
    "soundtrack",
    "storyboard",
    "subtitles",
    "thumbnail",
    "transcribe",
    "tts",
    "validate",
    "video",
]
