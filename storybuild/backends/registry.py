"""Which backend implements which capability, found by name.

Built-in backends register exactly as a third-party package would: an entry in the
``storybuild.backends`` entry-point group named ``<capability>.<name>`` pointing at the class.
A class is imported when a story first names it; backend modules keep numpy, scipy, Pillow and
ffmpeg out of their top level, because doit resolves every backend at start-up, even for a no-op.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module
from importlib.metadata import entry_points

from ..errors import ConfigError

CAPABILITIES = ("llm", "tts", "sfx", "image", "animate", "transcribe")

# capability -> name -> "module:Class"; the built-ins, so a source checkout works uninstalled.
BUILTIN: dict[str, dict[str, str]] = {
    "llm": {
        "rules": "storybuild.backends.llm.rules:RulesLLM",
        "openai": "storybuild.backends.llm.openai:OpenAILLM",
    },
    "tts": {
        "espeak": "storybuild.backends.tts.espeak:EspeakTTS",
        "comfyui": "storybuild.backends.tts.comfyui:ComfyUITTS",
        "piper": "storybuild.backends.tts.piper:PiperTTS",
    },
    "sfx": {
        "procedural": "storybuild.backends.sfx.procedural:ProceduralSFX",
        "comfyui": "storybuild.backends.sfx.comfyui:ComfyUISFX",
    },
    "image": {
        "storybook": "storybuild.backends.image.storybook:StorybookImage",
        "comfyui": "storybuild.backends.image.comfyui:ComfyUIImage",
    },
    "animate": {
        "kenburns": "storybuild.backends.animate.kenburns:KenBurnsAnimate",
        "comfyui": "storybuild.backends.animate.comfyui:ComfyUIAnimate",
    },
    "transcribe": {
        "faster-whisper": "storybuild.backends.transcribe.faster:FasterWhisper",
        "openai-whisper": "storybuild.backends.transcribe.openai_whisper:OpenAIWhisper",
    },
}


@lru_cache(maxsize=1)
def _plugins() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {cap: dict(names) for cap, names in BUILTIN.items()}
    for point in entry_points(group="storybuild.backends"):
        capability, _, name = point.name.partition(".")
        if capability in found and name:
            found[capability][name] = point.value
    return found


def names(capability: str) -> list[str]:
    """The backend names known for ``capability``, sorted."""
    return sorted(_plugins().get(capability, {}))


@lru_cache(maxsize=None)
def backend_class(capability: str, name: str) -> type:
    """The class registered as ``name`` for ``capability``; ConfigError naming the choices if none."""
    if capability not in CAPABILITIES:
        raise ConfigError(f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
    location = _plugins()[capability].get(name)
    if location is None:
        known = ", ".join(names(capability)) or "none"
        raise ConfigError(f"no {capability} backend named {name!r}; known: {known}")
    module_name, _, attr = location.partition(":")
    return getattr(import_module(module_name), attr)
