"""Full and one-line-edit builds of final.wav for the lighthouse story.

In a temp project holding only stories/lighthouse: `doit final_wav` from empty (wall and CPU
seconds, what each stage generated, from the journal), then one spoken line is edited and the
rebuild is timed. Targets: the rebuild takes <= 20% of the full build's wall time, and it makes
exactly 1 TTS generation. Prints numbers; asserts nothing.

Run: .venv/bin/python bench/audio_build.py [--jobs N]
"""

from __future__ import annotations

import argparse

from temp_project import TempProject, generated, print_stage_table, summary

LINE_BEFORE = "[mara] And now?"
LINE_AFTER = "[mara] And now, father?"


def main() -> None:
    """Build, edit one line, rebuild; print both and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1, help="doit -n (default 1: plain `doit final_wav`)")
    args = parser.parse_args()
    jobs = ["-n", str(args.jobs)] if args.jobs > 1 else []

    with TempProject("bench-audio-") as project:
        story = project.copy_story("lighthouse")
        full, _ = project.run(*jobs, "final_wav")
        full_records = project.records()
        project.edit(story, LINE_BEFORE, LINE_AFTER)
        rebuild, _ = project.run(*jobs, "final_wav")
        rebuild_records = project.records()[len(full_records):]

    print(f"lighthouse, doit {' '.join(jobs + ['final_wav'])}")
    print(f"full build:   {full.wall:6.2f}s wall {full.cpu:6.2f}s cpu   generated: {summary(generated(full_records))}")
    print_stage_table(full_records)
    print(f"edit {LINE_BEFORE!r} -> {LINE_AFTER!r}")
    print(f"rebuild:      {rebuild.wall:6.2f}s wall {rebuild.cpu:6.2f}s cpu   generated: {summary(generated(rebuild_records))}")
    print(f"rebuild / full: wall {rebuild.wall / full.wall:.1%}, cpu {rebuild.cpu / full.cpu:.1%}   (target <= 20%)")
    print(f"TTS generations in the rebuild: {generated(rebuild_records)['tts']}   (expect 1)")


if __name__ == "__main__":
    main()
