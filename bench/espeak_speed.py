"""How much faster than real time the embedded espeak backend speaks, and what a voice sample costs.

Usage: python bench/espeak_speed.py [REPEATS]   (default 5)

Prints, best of REPEATS: the real-time factor of synthesising a two-sentence line (audio seconds
per wall second; the old test demanded at least 2), the same with a voice sample (measured once,
then cached), the cost of measuring a sample's pitch, and the time to import the backend module
(paid by every doit run). Timings live here, not in tests: a loaded CI machine must not fail them.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

from storybuild.backends.tts import SpeechRequest, Voice
from storybuild.backends.tts.espeak import SAMPLE_RATE, EspeakTTS
from storybuild.backends.tts.pitch import _measured, sample_f0

LINE = "The keeper climbed the stairs and looked out over the dark water. " * 2


def best(repeats: int, work) -> float:
    """The shortest wall time of ``repeats`` calls to ``work``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    tts = EspeakTTS()
    request = SpeechRequest(text=LINE, voice=Voice(name="m3"))
    seconds = len(tts.render(request)) / SAMPLE_RATE
    plain = best(repeats, lambda: tts.render(request))
    print(f"espeak: {seconds:.2f} s of speech in {plain * 1000:.1f} ms: {seconds / plain:.1f}x real time")

    with tempfile.TemporaryDirectory() as folder:
        sample = Path(folder) / "mara.wav"
        female = SpeechRequest(text=LINE, voice=Voice(name="f2", pitch=70))
        sf.write(str(sample), tts.render(female), SAMPLE_RATE, subtype="PCM_16")

        def measure() -> None:
            _measured.cache_clear()
            sample_f0(sample)

        measuring = best(repeats, measure)
        cloned = SpeechRequest(text=LINE, voice=Voice(name="mara.wav", sample=sample))
        matched = best(repeats, lambda: tts.render(cloned))
        print(f"sample pitch: {measuring * 1000:.1f} ms per {seconds:.1f} s sample (once per sample per process)")
        print(f"with a sample: {seconds / matched:.1f}x real time ({matched / plain:.2f}x the plain line's time)")

    imports = best(repeats, lambda: subprocess.run(
        [sys.executable, "-c", "import storybuild.backends.tts.espeak"], check=True))
    bare = best(repeats, lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
    print(f"import storybuild.backends.tts.espeak: {(imports - bare) * 1000:.0f} ms over a bare interpreter")


if __name__ == "__main__":
    main()
