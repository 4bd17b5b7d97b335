"""A no-op `doit final_wav` over many stories, against doit's own no-op over as many trivial tasks.

In a temp project: writes --stories generated stories of --lines spoken lines each (four scenes,
a narrator and male_/female_ speakers, two cues), builds them once with `doit -n 2 -P thread
final_wav` (timed), then times no-op runs (best of --repeats, wall and child CPU seconds). The
baseline is bench/noop_doit.py's graph with the same number of tasks and file_dep edges as the
tasks `final_wav` reaches, on doit's default backend (dbm) and md5 checker.

Targets: storybuild no-op / doit no-op <= 1.2, and storybuild's no-op <= 1.0 s wall (at 100 x 40).
It then breaks storybuild's no-op down: interpreter start, `import dodo` (python -X importtime),
parsing the stories, each stage's task creation, `doit list --all -q`, and the functions a
profile of the no-op spends most time in. Prints numbers; asserts nothing.

Run: .venv/bin/python bench/noop_stories.py [--stories 100] [--lines 40]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import tempfile
from collections import Counter
from pathlib import Path

import noop_doit
from temp_project import TempProject, Timing, generated, print_stage_table, summary

WORDS = (
    "the old boat drifted past a lantern while wind pulled at ropes and gulls cried over grey"
    " water near stone walls where children waited for bread morning light broke slowly across"
    " quiet fields under heavy clouds that smelled of salt tar and rain"
).split()

# Reach the tasks `final_wav` needs (task_dep, implicit deps from file_dep -> target) and count them.
GRAPH = """
import json, sys
import dodo
from doit.control import TaskControl
from doit.loader import load_tasks
tasks = TaskControl(load_tasks(vars(dodo))).tasks
seen, todo = set(), [sys.argv[1]]
while todo:
    name = todo.pop()
    if name not in seen:
        seen.add(name)
        todo.extend(tasks[name].task_dep + tasks[name].setup_tasks)
print(json.dumps({"all": len(tasks), "reached": len(seen), "edges": sum(len(tasks[n].file_dep) for n in seen)}))
"""

# Time, in one process, what task creation is made of: import, story parsing, each stage.
CREATION = """
import json, time
start = time.perf_counter()
import dodo
from storybuild.graph import __all__ as names
from storybuild.graph.project import load_project
times = {"import dodo (in-process clock)": time.perf_counter() - start}
start = time.perf_counter()
load_project().stories
times["parse stories + settings"] = time.perf_counter() - start
for name in names:
    stage = getattr(dodo, name)
    if hasattr(stage, "create_doit_tasks"):
        start = time.perf_counter()
        count = sum(1 for _ in stage.create_doit_tasks())
        times[f"create {name} ({count})"] = time.perf_counter() - start
print(json.dumps(times))
"""

PROFILE = """
import pstats, sys
stats = pstats.Stats(sys.argv[1]).stats
rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[: int(sys.argv[2])]
for (path, line, func), (_, calls, tottime, cumtime, _) in rows:
    where = path.split("site-packages/")[-1].replace("/work/main/", "")
    print(f"  {tottime:7.3f} {cumtime:7.3f} {calls:8}  {where}:{line}({func})")
"""


def story_text(index: int, lines: int, rng: random.Random) -> str:
    """A valid story: four scenes, narrator and four gendered speakers, one cue between lines, one inside."""
    speakers = ["male_tom", "female_ada", "male_olaf", "female_rin"]
    out = [f"title: Generated story {index}", "style: pencil sketch", ""]
    per_scene = max(1, lines // 4)
    for n in range(lines):
        if n % per_scene == 0:
            out.append(f"(scene_{n // per_scene}) {' '.join(rng.choices(WORDS, k=12))}.")
        sentence = " ".join(rng.choices(WORDS, k=rng.randint(5, 12))).capitalize() + "."
        if n == lines // 2:
            out.append("{a door creaks open}")
        if n == lines - 2:
            sentence = sentence[:-1] + " {thunder far away} and then silence."
        out.append(sentence if n % 3 == 0 else f"[{rng.choice(speakers)}] {sentence}")
    return "\n".join(out) + "\n"


def best(runs: list[Timing]) -> Timing:
    """The fastest wall and the lowest CPU of ``runs`` (each the least disturbed by other load)."""
    return Timing(min(r.wall for r in runs), min(r.cpu for r in runs))


def doit_trivial(tasks: int, edges: int, repeats: int, uptodate: bool = False) -> Timing:
    """No-op of noop_doit's graph (``tasks`` tasks, ``edges`` file_deps) on dbm + md5."""
    with tempfile.TemporaryDirectory(prefix="bench-noop-trivial-") as tmp:
        root = Path(tmp)
        noop_doit.make_project(root, tasks)
        noop_doit.run_doit(root, tasks, "dbm", "md5", edges, uptodate)
        runs = [noop_doit.run_doit(root, tasks, "dbm", "md5", edges, uptodate) for _ in range(repeats)]
        return best([Timing(*run) for run in runs])


def import_breakdown(project: TempProject, top: int) -> tuple[float, list[tuple[str, float]]]:
    """``import dodo``'s cumulative seconds, and the packages its own import time is spent in."""
    _, _, err = project.python("import dodo", python=("-X", "importtime"))
    rows = [re.match(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)", line) for line in err.splitlines()]
    rows = [row for row in rows if row]
    # importtime prints a module when its import ends: dodo's subtree is the rows since the last top-level one.
    end = next(i for i, row in enumerate(rows) if row[4] == "dodo" and not row[3])
    begin = max((i + 1 for i in range(end) if not rows[i][3]), default=0)
    by_package: Counter = Counter()
    for row in rows[begin:end + 1]:
        by_package[row[4].split(".")[0]] += int(row[1]) / 1e6
    return int(rows[end][2]) / 1e6, by_package.most_common(top)


def breakdown(project: TempProject, repeats: int) -> list[tuple[str, float, str]]:
    """(label, wall seconds, note) rows of what a no-op run spends before it checks any task."""
    startup = best([project.python("pass")[0] for _ in range(repeats)])
    doit_start = best([project.run("--version")[0] for _ in range(repeats)])
    dodo_import, packages = import_breakdown(project, 6)
    creation = json.loads(project.python(CREATION)[1])
    listing = best([project.run("list", "--all", "-q")[0] for _ in range(repeats)])
    rows = [
        ("python -c pass", startup.wall, ""),
        ("python -m doit --version", doit_start.wall, ""),
        ("import dodo (-X importtime)", dodo_import,
         "by package: " + ", ".join(f"{name} {sec:.2f}" for name, sec in packages)),
    ]
    rows += [(label, seconds, "") for label, seconds in sorted(creation.items(), key=lambda kv: -kv[1])]
    rows.append(("doit list --all -q (whole run)", listing.wall, "start + import + task creation"))
    return rows


def profile_noop(project: TempProject, top: int) -> str:
    """The ``top`` functions by own time in a cProfile of one no-op run, as printable rows."""
    profile = project.root / "noop.prof"
    project.run("final_wav", python=("-m", "cProfile", "-o", str(profile)))
    return project.python(PROFILE, str(profile), str(top))[1]


def main() -> None:
    """Build once, time no-ops against doit's, and break storybuild's down."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", type=int, default=100, help="stories to generate (default 100)")
    parser.add_argument("--lines", type=int, default=40, help="spoken lines per story (default 40)")
    parser.add_argument("--jobs", type=int, default=2, help="doit -n for the full build (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="no-op runs; the best counts (default 3)")
    parser.add_argument("--top", type=int, default=12, help="profile rows to print (default 12; 0: no profile)")
    args = parser.parse_args()
    no_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))

    with TempProject("bench-noop-stories-") as project:
        rng = random.Random(7)
        for i in range(args.stories):
            folder = project.root / "stories" / f"gen-{i:03d}"
            folder.mkdir()
            (folder / "story.txt").write_text(story_text(i, args.lines, rng), encoding="utf-8")
        full, _ = project.run("-n", str(args.jobs), "-P", "thread", "final_wav")
        records = project.records()
        made = generated(records)
        reused = sum(r["outcome"] == "reused" for r in records)
        first = project.run("final_wav")[0]
        runs, uncached_runs = [], []
        for _ in range(args.repeats):
            # Interleaved, so drifting load on the machine touches both alike.
            runs.append(project.run("final_wav")[0])
            if no_bytecode:
                uncached_runs.append(project.run("final_wav", bytecode=False)[0])
        noop = best(runs)
        graph = json.loads(project.python(GRAPH, "final_wav")[1])
        trivial = doit_trivial(graph["reached"], graph["edges"], args.repeats)
        trivial_utd = doit_trivial(graph["reached"], graph["edges"], args.repeats, uptodate=True)
        rows = breakdown(project, args.repeats)
        profile = profile_noop(project, args.top) if args.top else ""

    scaled = "" if (args.stories, args.lines) == (100, 40) else "   (SCALED DOWN from 100 x 40)"
    print(f"{args.stories} stories x {args.lines} lines{scaled}")
    print(f"full build (doit -n {args.jobs} -P thread final_wav): {full.wall:.1f}s wall, {full.cpu:.1f}s cpu;"
          f" generated {sum(made.values())} ({summary(made)}), {reused} reused from the cache;"
          f" {1000 * full.cpu / max(1, made['tts']):.0f} ms cpu per line all stages included")
    print_stage_table(records)
    print(f"tasks: {graph['reached']} reached by final_wav ({graph['edges']} file_dep edges), {graph['all']} created")
    print(f"no-op, best of {args.repeats}:            {'wall':>7} {'cpu':>7}")
    print(f"  storybuild `doit final_wav`      {noop.wall:6.2f}s {noop.cpu:6.2f}s   (target wall <= 1.0 s)")
    print(f"  (first no-op after the build     {first.wall:6.2f}s {first.cpu:6.2f}s   not counted)")
    print(f"  doit trivial, dbm + md5          {trivial.wall:6.2f}s {trivial.cpu:6.2f}s")
    print(f"  ratio storybuild / doit          {noop.wall / trivial.wall:6.2f}x {noop.cpu / trivial.cpu:6.2f}x"
          "  (target <= 1.2)")
    print(f"  doit trivial + config_changed    {trivial_utd.wall:6.2f}s {trivial_utd.cpu:6.2f}s"
          "   (each task also has an uptodate callable, as storybuild's do: doit's own cost of it)")
    print("where storybuild's no-op goes (wall seconds):")
    for label, seconds, note in rows:
        print(f"  {label:32} {seconds:6.2f}   {note}".rstrip())
    listing = rows[-1][1]
    print(f"  {'doit final_wav no-op (whole run)':32} {noop.wall:6.2f}   so up-to-date checks, DB, reporter:"
          f" ~{noop.wall - listing:.2f}")
    if no_bytecode:
        print(f"  {'same, PYTHONDONTWRITEBYTECODE=1':32} {best(uncached_runs).wall:6.2f}   (as this shell sets it: no"
              " .pyc, so every run compiles storybuild; the other rows cache bytecode as a user's Python does)")
    if profile:
        print(f"profile of one no-op, top {args.top} by own time:\n  {'own s':>7} {'cum s':>7} {'calls':>8}  function")
        print(profile, end="")


if __name__ == "__main__":
    main()
