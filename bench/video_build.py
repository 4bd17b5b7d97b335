"""Full and incremental builds of final.mp4 for the lighthouse story, and where the time goes.

In a temp project holding only stories/lighthouse: `doit -n 2 final_mp4` from empty (wall and CPU
seconds), the video's length (probed), the real-time factor (video seconds / wall seconds; target
>= 2x on 2 cores), and a table of task seconds per stage from the journal, slowest first. Then two
rebuilds, each timed as a fraction of the full build: one spoken line edited, then one scene
description edited, each with how many clips (animate) it re-made. Target (issue 12): the
one-line edit's rebuild takes <= 25% of the full build's wall time and re-makes one clip.
Prints numbers; asserts nothing.

Run: .venv/bin/python bench/video_build.py [--jobs 2]
"""

from __future__ import annotations

import argparse

from temp_project import TempProject, Timing, generated, print_stage_table, summary

from storybuild.media.probe import probe

TARGET = 0.25  # of the full build's wall time, for the one-spoken-line edit

EDITS = [
    ("one spoken line", "[mara] And now?", "[mara] And now, father?"),
    ("one scene description", "lit by a single swinging oil lantern, damp stone walls.",
     "lit by a single swinging oil lantern, damp stone walls, rain on a small window."),
]


def main() -> None:
    """Build final.mp4, then time each edit's rebuild."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2, help="doit -n (default 2)")
    args = parser.parse_args()
    command = ("-n", str(args.jobs), "final_mp4")

    with TempProject("bench-video-") as project:
        story = project.copy_story("lighthouse")
        full, _ = project.run(*command)
        full_records = project.records()
        seconds = probe(project.root / "build" / "lighthouse" / "final.mp4").duration
        rebuilds: list[tuple[str, Timing, list[dict]]] = []
        for label, old, new in EDITS:
            before = len(project.records())
            project.edit(story, old, new)
            timing, _ = project.run(*command)
            rebuilds.append((label, timing, project.records()[before:]))

    print(f"lighthouse, doit {' '.join(command)}")
    print(f"full build: {full.wall:.2f}s wall, {full.cpu:.2f}s cpu; video {seconds:.2f}s")
    print(f"real-time factor: {seconds / full.wall:.2f}x wall (target >= 2x on 2 cores),"
          f" {full.cpu / seconds:.2f} cpu s per video s")
    task_seconds = sum(r["seconds"] for r in full_records)
    print(f"parallelism: {task_seconds / full.wall:.2f} tasks in flight on average, {full.cpu / full.wall:.2f} cores busy"
          f" (cpu / wall; the ceiling is {args.jobs} plus what ffmpeg threads add)")
    print("task seconds per stage (journal; parallel tasks overlap, so the total exceeds wall):")
    print_stage_table(full_records)
    for label, timing, records in rebuilds:
        print(f"rebuild after editing {label}: {timing.wall:.2f}s wall ({timing.wall / full.wall:.1%} of full),"
              f" {timing.cpu:.2f}s cpu ({timing.cpu / full.cpu:.1%}); generated: {summary(generated(records))}")
        print_stage_table(records)
    label, timing, records = rebuilds[0]
    print(f"final_mp4 after editing {label}: {timing.wall / full.wall:.1%} of the full build's wall time"
          f" (target <= {TARGET:.0%}), clips re-made: {generated(records)['animate']} (expect 1)")


if __name__ == "__main__":
    main()
