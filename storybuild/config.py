"""Settings: the project's storybuild.toml, each story's story.toml, and the environment.

Precedence, lowest first: built-in defaults, ``storybuild.toml``, the environment variables users
of the older pipelines already set (``COMFYUI_BASE_URL``, ``LM_STUDIO_BASE_URL``,
``LM_STUDIO_MODEL``, ``STORYBUILD_CACHE_DIR``), then the story's own ``story.toml``. Every stage
receives only the typed slice it needs (``settings.audio``, ``settings.tts``...), and that slice is
what goes into its recipes, so changing one setting rebuilds exactly what depends on it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROJECT_FILE = "storybuild.toml"
STORY_SETTINGS_FILE = "story.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BackendChoice(_Strict):
    """Which backend serves a capability, and its options (validated by the backend)."""

    backend: str
    options: dict[str, Any] = Field(default_factory=dict)


class AudioSettings(_Strict):
    """How lines become the narration and the final mix."""

    sample_rate: int = Field(48000, ge=8000, le=192000)
    lead_in: float = Field(0.6, ge=0, description="silence before the first line, seconds")
    line_pause: float = Field(0.35, ge=0, description="silence between lines")
    scene_pause: float = Field(1.4, ge=0, description="silence between scenes")
    cue_pause: float = Field(1.2, ge=0, description="room left for a cue between two lines")
    tail: float = Field(2.0, ge=0, description="silence after the last line")
    loudness: float = Field(-14.0, ge=-40, le=-5, description="integrated loudness target, LUFS")
    duck_db: float = Field(-12.0, le=0, description="cue gain under speech, dB")
    cue_gain_db: float = Field(-8.0, le=12, description="cue level against the voices, dB")
    infer_cues: bool = Field(True, description="add the sound cues the text implies, not only {cues}")


class VideoSettings(_Strict):
    """How scenes become the picture."""

    resolution: Literal["720p", "1080p"] = "720p"
    fps: int = Field(24, ge=1, le=120)
    transition: Literal["cut", "crossfade"] = "crossfade"
    crossfade: float = Field(0.6, ge=0, le=5)
    burn_subtitles: bool = False

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels."""
        return (1920, 1080) if self.resolution == "1080p" else (1280, 720)


class CharacterSettings(_Strict):
    """What story.toml may say about one character."""

    gender: Literal["male", "female"] | None = None
    look: str | None = None
    voice: str | None = None
    lora: str | None = None


class ServerSettings(_Strict):
    """Where the remote services live, and how long to wait for them.

    Connection settings, never recipe: moving a server or changing a timeout rebuilds nothing.
    """

    comfyui_url: str | list[str] = "http://127.0.0.1:8188"
    comfyui_timeouts: dict[str, float] = Field(
        default_factory=lambda: {"tts": 600.0, "sfx": 600.0, "image": 900.0, "animate": 3600.0},
        description="seconds one ComfyUI job of a capability may take before it is interrupted",
    )
    llm_url: str = "http://127.0.0.1:1234/v1"
    llm_model: str = ""
    llm_api_key_env: str = Field("OPENAI_API_KEY", description="the environment variable holding the key")
    llm_timeout: float = Field(300.0, gt=0, description="seconds for one language-model answer")
    llm_max_in_flight: int = Field(1, ge=1, description="requests at once per language-model server")


class Settings(_Strict):
    """Every setting; a story's settings are the project's with its story.toml laid over."""

    stories_dir: Path = Path("stories")
    build_dir: Path = Path("build")
    state_dir: Path = Path(".storybuild")
    cache_dir: Path | None = Field(None, description="default: <state_dir>/cache")
    style: str = ""
    seed: int = 0
    llm: BackendChoice = BackendChoice(backend="rules")
    tts: BackendChoice = BackendChoice(backend="espeak")
    sfx: BackendChoice = BackendChoice(backend="procedural")
    image: BackendChoice = BackendChoice(backend="storybook")
    animate: BackendChoice = BackendChoice(backend="kenburns")
    audio: AudioSettings = AudioSettings()
    video: VideoSettings = VideoSettings()
    servers: ServerSettings = ServerSettings()
    characters: dict[str, CharacterSettings] = Field(default_factory=dict)

    @field_validator("characters")
    @classmethod
    def _casefold_names(cls, value: dict[str, CharacterSettings]) -> dict[str, CharacterSettings]:
        return {name.casefold(): spec for name, spec in value.items()}

    @property
    def cache_path(self) -> Path:
        """Where the artifact cache lives."""
        return self.cache_dir if self.cache_dir is not None else self.state_dir / "cache"


def read_toml(path: Path) -> dict[str, Any]:
    """The table in ``path``, or {} if there is no such file; ConfigError naming it if unreadable."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _environment(environ: dict[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    servers = {
        "comfyui_url": environ.get("COMFYUI_BASE_URL"),
        "llm_url": environ.get("LM_STUDIO_BASE_URL"),
        "llm_model": environ.get("LM_STUDIO_MODEL"),
    }
    servers = {key: value for key, value in servers.items() if value}
    if servers:
        layer["servers"] = servers
    if environ.get("STORYBUILD_CACHE_DIR"):
        layer["cache_dir"] = environ["STORYBUILD_CACHE_DIR"]
    return layer


def _validate(data: dict[str, Any], source: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}") from exc


class ProjectConfig:
    """The project's settings as raw layers, so each story can lay its own on top cheaply."""

    def __init__(self, root: Path, environ: dict[str, str] | None = None) -> None:
        self.root = root
        self.path = root / PROJECT_FILE
        environ = dict(os.environ) if environ is None else environ
        self._data = _merge(read_toml(self.path), _environment(environ))
        self.settings = _validate(self._data, f"{self.path} (with environment)")

    def for_story(self, story_toml: Path) -> Settings:
        """The settings for the story whose settings file is ``story_toml``."""
        layer = read_toml(story_toml)
        if not layer:
            return self.settings
        for key in ("stories_dir", "build_dir", "state_dir", "cache_dir"):
            if key in layer:
                raise ConfigError(f"{story_toml}: {key}: can only be set in {PROJECT_FILE}")
        return _validate(_merge(self._data, layer), str(story_toml))
