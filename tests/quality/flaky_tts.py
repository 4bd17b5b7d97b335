"""A TTS backend for the tests that is wrong on its first take: espeak-ng saying another sentence.

Registered by the test project's dodo.py as ``tts.flaky``, the way a third-party backend registers
through the entry-point group; its audio is real espeak-ng speech, so Whisper really hears it.
"""

from __future__ import annotations

from pathlib import Path

from storybuild.backends.tts import SpeechRequest
from storybuild.backends.tts.espeak import EspeakTTS

OTHER = "A little cat slept on the warm mat beside the kitchen fire."


class FlakyTTS(EspeakTTS):
    """espeak-ng, except that a line mentioning the lamp says OTHER when voiced with seed 0."""

    name = "flaky"
    version = "1"

    def synthesize(self, request: SpeechRequest, out: Path) -> None:
        """Speak ``request``, or OTHER on a first take of a line about the lamp."""
        if "lamp" in request.text and int(getattr(request, "seed", 0) or 0) == 0:
            request = request.model_copy(update={"text": OTHER})
        super().synthesize(request, out)
