"""Full and one-line-edit builds of final.wav: the lighthouse story and a generated N-line story.

In a temp project holding only the story: `doit final_wav` from empty (wall and CPU seconds, what
each stage generated, from the journal), then one spoken line is edited and the rebuild is timed.
Targets (issue 12, on the 40-line story): the rebuild takes <= 20% of the full build's wall
time, and it makes exactly 1 TTS generation. Prints numbers; asserts nothing.

The generated story is bench/noop_stories.py's (four scenes, narrator and four speakers, two
cues); its edited line is the spoken line nearest three quarters of the way through.

Run: .venv/bin/python bench/audio_build.py [--jobs N] [--lines 40] [--both] [--repeats R]
     (default: lighthouse; --lines N: the generated story; --both: lighthouse and --lines, default 40;
     --repeats: each measured R times in fresh projects, the median ratio reported, for busy machines)
"""

from __future__ import annotations

import argparse
import random
import statistics
from dataclasses import dataclass

from noop_stories import story_text
from temp_project import TempProject, Timing, generated, print_stage_table, summary

LINE_BEFORE = "[mara] And now?"
LINE_AFTER = "[mara] And now, father?"
TARGET = 0.20


@dataclass
class Result:
    """One story's full build, its rebuild after a one-line edit, and what each generated."""

    name: str
    full: Timing
    rebuild: Timing
    full_records: list[dict]
    rebuild_records: list[dict]

    @property
    def ratio(self) -> float:
        return self.rebuild.wall / self.full.wall


def generated_edit(text: str) -> tuple[str, str]:
    """The spoken line nearest three quarters of the way through ``text``, and that line edited."""
    lines = text.splitlines()
    spoken = [i for i, line in enumerate(lines) if line.startswith("[") and "{" not in line]
    line = lines[min(spoken, key=lambda i: abs(i - len(lines) * 3 // 4))]
    return line, line[:-1] + ", once more."


def measure(name: str, jobs: list[str], lines: int | None) -> Result:
    """Build ``name`` (lighthouse, or the generated story of ``lines`` lines), edit one line, rebuild."""
    with TempProject("bench-audio-") as project:
        if lines is None:
            story, (before, after) = project.copy_story("lighthouse"), (LINE_BEFORE, LINE_AFTER)
        else:
            text = story_text(0, lines, random.Random(12))
            story = project.root / "stories" / name / "story.txt"
            story.parent.mkdir(parents=True)
            story.write_text(text, encoding="utf-8")
            before, after = generated_edit(text)
        full, _ = project.run(*jobs, "final_wav")
        full_records = project.records()
        project.edit(story, before, after)
        rebuild, _ = project.run(*jobs, "final_wav")
        rebuild_records = project.records()[len(full_records):]
    print(f"{name}, doit {' '.join(jobs + ['final_wav'])}")
    print(f"full build:   {full.wall:6.2f}s wall {full.cpu:6.2f}s cpu   generated: {summary(generated(full_records))}")
    print_stage_table(full_records)
    print(f"edit {before!r} -> {after!r}")
    print(f"rebuild:      {rebuild.wall:6.2f}s wall {rebuild.cpu:6.2f}s cpu   generated: {summary(generated(rebuild_records))}")
    print_stage_table(rebuild_records)
    result = Result(name, full, rebuild, full_records, rebuild_records)
    print(f"rebuild / full: wall {result.ratio:.1%}, cpu {rebuild.cpu / full.cpu:.1%}   (target <= {TARGET:.0%})")
    print(f"TTS generations in the rebuild: {generated(rebuild_records)['tts']}   (expect 1)")
    print()
    return result


def main() -> None:
    """Build, edit one line, rebuild, for each story asked; print both and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1, help="doit -n (default 1: plain `doit final_wav`)")
    parser.add_argument("--lines", type=int, default=None, help="a generated story of this many spoken lines")
    parser.add_argument("--both", action="store_true", help="lighthouse and the generated story (--lines, default 40)")
    parser.add_argument("--repeats", type=int, default=1, help="measure each story this many times; report medians")
    args = parser.parse_args()
    jobs = ["-n", str(args.jobs)] if args.jobs > 1 else []

    asked = []
    if args.both or args.lines is None:
        asked.append(("lighthouse", None))
    if args.both or args.lines is not None:
        asked.append((f"generated-{args.lines or 40}", args.lines or 40))
    results = {name: [measure(name, jobs, lines) for _ in range(args.repeats)] for name, lines in asked}
    if len(asked) > 1 or args.repeats > 1:
        print(f"{'story':14} {'full s':>7} {'rebuild s':>9} {'ratio':>6} {'tts':>4}   (target <= {TARGET:.0%}, tts 1;"
              f" medians of {args.repeats})")
        for name, runs in results.items():
            ratios = " ".join(f"{r.ratio:.1%}" for r in runs)
            print(f"{name:14} {statistics.median(r.full.wall for r in runs):7.2f}"
                  f" {statistics.median(r.rebuild.wall for r in runs):9.2f} {statistics.median(r.ratio for r in runs):6.1%}"
                  f" {max(generated(r.rebuild_records)['tts'] for r in runs):4}" + (f"   runs: {ratios}" if len(runs) > 1 else ""))


if __name__ == "__main__":
    main()
