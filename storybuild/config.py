"""Settings: the project's storybuild.toml, each story's story.toml, and the environment.

Precedence, lowest first: built-in defaults, ``storybuild.toml``, the environment variables users
of the older pipelines already set (``COMFYUI_BASE_URL``, ``LM_STUDIO_BASE_URL``,
``LM_STUDIO_MODEL``, ``STORYBUILD_CACHE_DIR``), then the story's own ``story.toml``. Every stage
receives only the typed slice it needs (``settings.audio``, ``settings.tts``...), and that slice is
what goes into its recipes, so changing one setting rebuilds exactly what depends on it.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .backends.transcribe.settings import QualitySettings
from .errors import ConfigError, StorybuildError
from .publish.settings import YouTubeSettings
from .serve.settings import ServeSettings
from .services import ServiceSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROJECT_FILE = "storybuild.toml"
STORY_SETTINGS_FILE = "story.toml"

# The embedded backend of each capability: what a story uses unless a settings file names another.
DEFAULT_BACKENDS = {"llm": "rules", "tts": "espeak", "sfx": "procedural", "image": "storybook", "animate": "kenburns"}
# Settings that shape the whole project, not one story's artifacts.
PROJECT_ONLY = ("stories_dir", "build_dir", "state_dir", "cache_dir", "video.ffmpeg", "cache", "serve", "services")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BackendChoice(_Strict):
    """Which backend serves a capability, and its options (validated by the backend).

    ``backend`` may be left out (``[tts] options = { rate = 120 }``): the capability's default.
    """

    backend: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class TTSChoice(BackendChoice):
    """The TTS backend, and how many times a line that fails the listening check is voiced again."""

    retakes: int = Field(0, ge=0, le=10, description="voice a flagged line again with a new seed, up to this many times")


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
    music: str | None = Field(None, description="a music file, from the story folder or the project root")
    music_prompt: str | None = Field(None, description="music made by the sfx backend from this description")
    music_level: float = Field(-18.0, le=0, description="the music's loudness against the speech, LU")
    music_fade: float = Field(2.0, ge=0, le=10, description="fade in/out and crossfade between scenes, seconds")


class VideoSettings(_Strict):
    """How scenes become the picture."""

    resolution: Literal["720p", "1080p"] = "720p"
    fps: int = Field(24, ge=1, le=120)
    transition: Literal["cut", "crossfade"] = "crossfade"
    crossfade: float = Field(0.6, ge=0, le=5)
    burn_subtitles: bool = False
    ffmpeg: str = Field(
        "bundled", description='"bundled" (imageio-ffmpeg\'s), "system" (ffmpeg on PATH) or an absolute path'
    )

    @field_validator("ffmpeg")
    @classmethod
    def _ffmpeg_choice(cls, value: str) -> str:
        if value not in ("bundled", "system") and not Path(value).is_absolute():
            raise ValueError(f'expected "bundled", "system" or an absolute path to an ffmpeg binary, not {value!r}')
        return value

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
    rate: int | None = Field(None, ge=80, le=450, description="words per minute")
    pitch: int | None = Field(None, ge=0, le=100)
    volume: int | None = Field(None, ge=10, le=200, description="percent")


class SceneSettings(_Strict):
    """What story.toml may say about one scene."""

    music: str | None = None
    music_prompt: str | None = None


class SubtitleSettings(_Strict):
    """How subtitle cards are timed."""

    word_timing: bool = Field(False, description="break cards on the words' heard times (needs the transcribe extra)")


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


class CacheSettings(_Strict):
    """The shared cache beyond this machine (the local one is ``cache_dir``)."""

    remote: str = Field("", description="s3://bucket/prefix or file:///mnt/shared/cache; empty: none")
    remote_mode: Literal["read", "read-write"] = Field(
        "read-write", description="read: use what others made, never upload (CI on pull requests)"
    )
    endpoint: str | None = Field(None, description="S3 endpoint (MinIO, R2, B2); default AWS_ENDPOINT_URL")
    region: str | None = Field(None, description="default: AWS_DEFAULT_REGION or ~/.aws/config")
    max_size: str | None = Field(
        None, description='cap the local cache, e.g. "20GB": every build ends within it (least recently used go first)'
    )

    @field_validator("max_size")
    @classmethod
    def _a_size(cls, value: str | None) -> str | None:
        from .store.gc import parse_size

        try:
            parse_size(value)
        except StorybuildError as exc:
            raise ValueError(str(exc)) from None
        return value


class Settings(_Strict):
    """Every setting; a story's settings are the project's with its story.toml laid over."""

    stories_dir: Path = Path("stories")
    build_dir: Path = Path("build")
    state_dir: Path = Path(".storybuild")
    cache_dir: Path | None = Field(None, description="default: <state_dir>/cache")
    cache: CacheSettings = CacheSettings()
    style: str = ""
    seed: int = 0
    llm: BackendChoice = BackendChoice()
    tts: TTSChoice = TTSChoice()
    sfx: BackendChoice = BackendChoice()
    image: BackendChoice = BackendChoice()
    animate: BackendChoice = BackendChoice()
    audio: AudioSettings = AudioSettings()
    video: VideoSettings = VideoSettings()
    servers: ServerSettings = ServerSettings()
    youtube: YouTubeSettings = YouTubeSettings()
    serve: ServeSettings = ServeSettings()
    services: dict[str, ServiceSettings] = Field(
        default_factory=dict, description="how to start comfyui / llm on demand (off when absent)"
    )
    characters: dict[str, CharacterSettings] = Field(default_factory=dict)
    scenes: dict[str, SceneSettings] = Field(default_factory=dict)
    quality: QualitySettings = QualitySettings()
    subtitles: SubtitleSettings = SubtitleSettings()

    @field_validator("characters")
    @classmethod
    def _casefold_names(cls, value: dict[str, CharacterSettings]) -> dict[str, CharacterSettings]:
        return {name.casefold(): spec for name, spec in value.items()}

    @model_validator(mode="after")
    def _default_backends(self) -> Settings:
        for capability, name in DEFAULT_BACKENDS.items():
            choice = getattr(self, capability)
            if choice.backend is None:
                setattr(self, capability, choice.model_copy(update={"backend": name}))
        return self

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
    cache = {
        "remote": environ.get("STORYBUILD_CACHE_REMOTE"),
        "remote_mode": environ.get("STORYBUILD_CACHE_REMOTE_MODE"),
    }
    cache = {key: value for key, value in cache.items() if value}
    if cache:
        layer["cache"] = cache
    return layer


_KEY = re.compile(r"""\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _dotted(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'").casefold() for part in key.split("."))


def key_line(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The 1-based line of ``text`` (TOML) that sets the key at ``loc``, or the table that holds it."""
    wanted = tuple(str(part).casefold() for part in loc)
    table: tuple[str, ...] = ()
    best, best_length = None, 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("["):
            table = _dotted(line.strip("[]").split("]")[0])
            path = table
        else:
            match = _KEY.match(line)
            if match is None:
                continue
            path = table + _dotted(match.group(1))
        length = len(path)
        if wanted[:length] == path and length > best_length:
            best, best_length = number, length
    return best


def _fields(loc: tuple[str | int, ...]) -> list[str]:
    """The names a settings table at ``loc`` accepts, for "did you mean" suggestions."""
    tables: dict[tuple, type[BaseModel]] = {
        (): Settings, ("audio",): AudioSettings, ("video",): VideoSettings, ("servers",): ServerSettings,
        ("cache",): CacheSettings, ("serve",): ServeSettings, ("youtube",): YouTubeSettings,
        **{(capability,): BackendChoice for capability in DEFAULT_BACKENDS},
        ("tts",): TTSChoice, ("quality",): QualitySettings, ("subtitles",): SubtitleSettings,
    }
    if len(loc) == 2 and loc[0] == "characters":
        return list(CharacterSettings.model_fields)
    if len(loc) == 2 and loc[0] == "scenes":
        return list(SceneSettings.model_fields)
    model = tables.get(tuple(loc))
    return list(model.model_fields) if model else []


def suggestion(word: str, choices: list[str]) -> str:
    """``; did you mean `x`?`` when ``word`` is close to one of ``choices``, else ``""``."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


#: ``STORYBUILD_QUALITY`` (a serve job's quality_preset) -> the ComfyUI backends' ``quality`` option;
#: the content bridge's "normal" and "ultra" are its "standard" and "high".
PRESETS = {"draft": "draft", "standard": "standard", "normal": "standard", "high": "high", "ultra": "high"}


def _preset(environ: dict[str, str]) -> str | None:
    value = environ.get("STORYBUILD_QUALITY", "").strip().lower()
    if value and value not in PRESETS:
        raise ConfigError(f"STORYBUILD_QUALITY: {value!r} is not a preset; presets: {', '.join(PRESETS)}")
    return PRESETS.get(value)


def _with_preset(data: dict[str, Any], preset: str | None) -> dict[str, Any]:
    """``data`` with ``preset`` as the quality of every capability a ComfyUI backend serves.

    Embedded backends have no quality knob and keep their settings; the option is a recipe value, so
    a draft build and a standard one never share artifacts.
    """
    if preset is None:
        return data
    laid = dict(data)
    for capability in ("tts", "sfx", "image", "animate"):
        choice = laid.get(capability)
        if isinstance(choice, dict) and choice.get("backend") == "comfyui":
            laid[capability] = {**choice, "options": {**choice.get("options", {}), "quality": preset}}
    return laid


def _validate(data: dict[str, Any], source: str, text: str = "") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems, lines = [], []
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
            key = ".".join(str(part) for part in loc) or "(top)"
            hint = suggestion(str(loc[-1]), _fields(loc[:-1])) if error["type"] == "extra_forbidden" else ""
            line = key_line(text, loc) if text else None
            lines.append(line)
            problems.append(f"{key}: {error['msg']}{hint}" + (f" (line {line})" if line and len(exc.errors()) > 1 else ""))
        first = next((line for line in lines if line), None)
        where = f"{source}:{first}" if first and len(problems) == 1 else source
        raise ConfigError(f"{where}: {'; '.join(problems)}", file=source, line=first) from exc


def _read_layer(path: Path) -> tuple[dict[str, Any], str]:
    """The table in ``path`` and its text ({} and "" if there is no such file)."""
    data = read_toml(path)
    if not data:
        return data, ""
    try:
        return data, path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return data, ""


def _shown(path: Path, root: Path) -> str:
    """``path`` as messages show it: relative to the project root when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class ProjectConfig:
    """The project's settings as raw layers, so each story can lay its own on top cheaply."""

    def __init__(self, root: Path, environ: dict[str, str] | None = None) -> None:
        self.root = root
        self.path = root / PROJECT_FILE
        environ = dict(os.environ) if environ is None else environ
        data, self.text = _read_layer(self.path)
        self._data = _merge(data, _environment(environ))
        self._preset = _preset(environ)
        self.settings = _validate(_with_preset(self._data, self._preset), _shown(self.path, root), self.text)

    def for_story(self, story_toml: Path) -> Settings:
        """The settings for the story whose settings file is ``story_toml``."""
        layer, text = _read_layer(story_toml)
        if not layer:
            return self.settings
        shown = _shown(story_toml, self.root)
        for key in PROJECT_ONLY:
            table, _, name = key.rpartition(".")
            holder = layer.get(table, {}) if table else layer
            if isinstance(holder, dict) and name in holder:
                line = key_line(text, tuple(key.split(".")))
                raise ConfigError(
                    f"{shown}:{line}: {key}: can only be set in {PROJECT_FILE}", file=shown, line=line
                )
        return _validate(_with_preset(_lay_over(self._data, layer), self._preset), shown, text)


def _lay_over(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """``layer`` merged over ``base``; a switched backend keeps none of the other backend's options."""
    merged = _merge(base, layer)
    for capability in DEFAULT_BACKENDS:
        table, inherited = layer.get(capability), base.get(capability)
        if isinstance(table, dict) and isinstance(inherited, dict) and "backend" in table:
            if table["backend"] != inherited.get("backend", DEFAULT_BACKENDS[capability]):
                merged[capability] = dict(table)
    return merged
