"""What the listening check costs: Whisper's real-time factor on a story, and on a one-line edit.

Usage: python bench/transcribe.py [story]   (default: lighthouse, from stories/)

Copies the story into a throwaway project, voices it (not timed), then times ``doit quality``:
every line transcribed by faster-whisper base (int8) on the CPU. Prints the real-time factor
(transcription seconds per second of speech, from the journal's task times) and the story's word
error rate. Then edits one line's text and times ``doit quality`` again: only that line is voiced
and heard, so the edit costs one line's transcription, not the story's. Before the quality stage is
registered in ``storybuild.graph``, the throwaway project's dodo.py declares it itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
DODO_WITH_STAGES = """from functools import partial
from storybuild.graph import *  # noqa
from storybuild.graph import doit_config
from storybuild.graph import stage as _stage
from storybuild.graph.quality import quality_artifacts, transcribe_artifacts
from storybuild.backends.transcribe.settings import QualitySettings
transcribe = _stage.Stage("transcribe", "Hear every line", partial(transcribe_artifacts, quality=QualitySettings()))
quality = _stage.Stage("quality", "Score every line", partial(quality_artifacts, quality=QualitySettings()))
DOIT_CONFIG = doit_config()
"""


def doit(root: Path, *args: str) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "doit", *args], cwd=root, check=True, capture_output=True, text=True)
    return time.monotonic() - started


def records(root: Path, since: int = 0) -> list[dict]:
    lines = (root / ".storybuild" / "log.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines[since:]]


def main() -> None:
    slug = sys.argv[1] if len(sys.argv) > 1 else "lighthouse"
    import storybuild.graph  # noqa: F401 - declares the stages
    from storybuild.graph.stage import STAGES

    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        shutil.copytree(REPO / "stories" / slug, root / "stories" / slug)
        if "quality" in STAGES:
            shutil.copy(REPO / "dodo.py", root / "dodo.py")
        else:
            (root / "dodo.py").write_text(DODO_WITH_STAGES)
        doit(root, "tts")
        mark = len(records(root))
        whole = doit(root, "quality")
        heard = [r for r in records(root, mark) if r["stage"] == "transcribe" and r["outcome"] == "generated"]
        speech = sum(sf.info(str(p)).duration for p in (root / "build" / slug / "lines").glob("*.wav"))
        hearing = sum(r["seconds"] for r in heard)
        report = json.loads((root / "build" / slug / "quality.json").read_text())
        print(f"{slug}: {len(heard)} lines, {speech:.1f} s of speech, transcribed in {hearing:.1f} s"
              f" (doit quality wall {whole:.1f} s, model load included)")
        print(f"real-time factor: {hearing / speech:.3f}   story WER {report['wer']:.1%},"
              f" {report['flagged']} lines over {report['max_wer']:.0%}")
        worst = report["lines"][0]
        print(f"worst line {worst['id']} ({worst['wer']:.0%}): {worst['text']!r} heard {worst['heard']!r}")

        story = root / "stories" / slug / "story.txt"
        text = story.read_text(encoding="utf-8")
        story.write_text(text.replace("They climbed the ninety-one steps together", "They climbed the steps together"), encoding="utf-8")
        mark = len(records(root))
        edit = doit(root, "quality")
        again = [r for r in records(root, mark) if r["stage"] == "transcribe" and r["outcome"] == "generated"]
        print(f"one-line edit: {len(again)} of {len(heard)} lines transcribed, doit quality {edit:.1f} s"
              f" = {edit / whole:.2f} of the whole story's")


if __name__ == "__main__":
    main()
