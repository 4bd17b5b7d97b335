"""A throwaway storybuild project for the benches: make it, run doit in it, read its journal.

Not a bench itself; bench/noop_stories.py, audio_build.py and video_build.py import it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from noop_doit import run_measured

from storybuild.store import journal

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Timing:
    """Wall and CPU (user + system, of the child process) seconds of one run, and its peak RSS in KiB."""

    wall: float
    cpu: float
    maxrss_kb: int = 0


class TempProject:
    """A project folder in a fresh temp dir, with /work/main's dodo.py, its own state and its own (or a given) cache."""

    def __init__(self, prefix: str, cache_dir: Path | None = None) -> None:
        """``cache_dir``: the artifact cache to use (another project's, to share it); default, its own."""
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.cache_dir = cache_dir or self.root / ".storybuild" / "cache"
        self.last_returncode = 0
        shutil.copy(REPO / "dodo.py", self.root / "dodo.py")
        (self.root / "stories").mkdir()

    def __enter__(self) -> TempProject:
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def copy_story(self, slug: str) -> Path:
        """Copy stories/<slug> of the repository in; the path of its story.txt."""
        shutil.copytree(REPO / "stories" / slug, self.root / "stories" / slug)
        return self.root / "stories" / slug / "story.txt"

    def env(self, bytecode: bool = True) -> dict[str, str]:
        """The environment of every run: no remote services, the cache inside the project.

        With ``bytecode``, Python caches compiled modules (in the project, not the source tree)
        as it does for users, even where the caller's environment sets PYTHONDONTWRITEBYTECODE.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COMFYUI_", "LM_STUDIO_"))}
        env["STORYBUILD_CACHE_DIR"] = str(self.cache_dir)
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(self.root / ".pycache")
        return env

    def run(
        self, *args: str, python: tuple[str, ...] = (), bytecode: bool = True, allow: tuple[int, ...] = ()
    ) -> tuple[Timing, str]:
        """Run ``python -m doit *args`` here; its timing (with peak RSS) and its output, stdout then stderr.

        A run that fails, with an exit status not in ``allow``, stops the bench; ``last_returncode``
        keeps the status of the last run.
        """
        result = run_measured([sys.executable, *python, "-m", "doit", *args], self.root, self.env(bytecode))
        self.last_returncode = result.returncode
        if result.returncode not in (0, *allow):
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
            raise SystemExit(f"`doit {' '.join(args)}` failed ({result.returncode}) in {self.root}:\n{tail}")
        return Timing(result.wall, result.cpu, result.maxrss_kb), result.stdout + result.stderr

    def python(self, code: str, *args: str, python: tuple[str, ...] = ()) -> tuple[Timing, str, str]:
        """Run ``python -c code`` here; its timing, stdout and stderr."""
        result = run_measured([sys.executable, *python, "-c", code, *args], self.root, self.env())
        if result.returncode != 0:
            raise SystemExit(f"python -c ... failed ({result.returncode}) in {self.root}:\n{result.stderr[-3000:]}")
        return Timing(result.wall, result.cpu, result.maxrss_kb), result.stdout, result.stderr

    def records(self) -> list[dict]:
        """Every journal record so far."""
        return journal.read(self.root / ".storybuild" / "log.jsonl")

    def edit(self, path: Path, old: str, new: str) -> None:
        """Replace ``old`` by ``new`` in ``path`` (once); stop the bench if ``old`` is not there."""
        text = path.read_text(encoding="utf-8")
        if old not in text:
            raise SystemExit(f"{path} holds no {old!r}: cannot make the edit this bench times")
        path.write_text(text.replace(old, new, 1), encoding="utf-8")


def generated(records: list[dict]) -> Counter:
    """How many artifacts each stage generated (not reused) in ``records``."""
    return Counter(r["stage"] for r in records if r["outcome"] == "generated")


def summary(counts: Counter) -> str:
    """``tts 1, narration 1, ...`` in pipeline order of first appearance."""
    return ", ".join(f"{stage} {n}" for stage, n in counts.items()) or "nothing"


def print_stage_table(records: list[dict]) -> None:
    """Per stage: tasks, generated, reused and summed task seconds, slowest stage first."""
    seconds: dict[str, float] = defaultdict(float)
    outcomes: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        seconds[r["stage"]] += r["seconds"]
        outcomes[r["stage"]][r["outcome"]] += 1
    total = sum(seconds.values()) or 1.0
    print(f"  {'stage':10} {'tasks':>5} {'gen':>4} {'reused':>6} {'seconds':>8} {'share':>6}")
    for stage in sorted(seconds, key=seconds.get, reverse=True):
        o = outcomes[stage]
        print(
            f"  {stage:10} {sum(o.values()):5} {o['generated']:4} {o['reused']:6}"
            f" {seconds[stage]:8.2f} {seconds[stage] / total:6.1%}"
        )
    print(f"  {'total':10} {len(records):5} {'':4} {'':6} {sum(seconds.values()):8.2f}")
