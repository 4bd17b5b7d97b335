"""A no-op `doit final_wav` over 10, 100 and 1,000 stories with their stamps, against doit's own floor.

Issue 12's targets, printed (never asserted: the machine is noisy): a no-op `doit final_wav` over
100 stories x 40 lines in <= 1.0 s wall and <= 1.2x doit's trivial-graph floor (bench/noop_doit.py's
graph with as many tasks and file_dep edges as the full graph `final_wav` reaches, on doit's default
dbm backend and md5 checker); over 1,000 stories x 40 lines in <= 1.5 s.

One temp project grows through --sizes (default 10,100,1000). The first --distinct (100) stories
are generated texts (four scenes, a narrator and male_/female_ speakers, two cues); every story past
those is a byte copy of story `i mod distinct` under a new slug, so its build fetches everything
from the project's local artifact cache (hard links) instead of voicing it again. At each size the
bench builds what is new (`doit -n 2 -P thread final_wav`), runs one no-op that re-stamps the stories
the build touched (not counted), then times the stamped no-op (best of --repeats: wall, child CPU,
peak RSS of the doit process via os.wait4), counts the tasks that no-op creates, and times one
no-op without stamps (`doit final_wav validate`: naming a task that is not a stage turns settled
stories off, so every task is created and checked, as before the feature).

At the --detail size (100) it also: times doit's trivial floor; the run after rewriting one
story.txt with the same bytes (one story checked, the rest left out) and after editing one spoken
line (that story rebuilt); breaks the no-op down (interpreter start, `import dodo` via -X importtime,
task creation without stamps per stage, `doit list`); and profiles the stamped no-op (--top rows).
With --compare-lines N (default 10; 0 skips) it makes a second project of the largest size with N
lines per story, to show what memory does with story length. With --mp4 N (default 0: skipped; a
40-line story's video takes ~30 s to build here) a third project of N stories, copies of 10 distinct
texts, times the stamped no-op of `doit final_mp4`.

Run: .venv/bin/python bench/noop_stories.py [--sizes 10,100,1000] [--lines 40] [--repeats 3] [--top 12]
Default run: ~5 minutes on 2 cores, most of it building the projects.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
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

# Time, in one process, what task creation is made of: import, story parsing, each stage. Outside
# doit's run command nothing is left out (settled stories apply under `doit run` only): this is
# task creation without stamps, what `doit list` pays.
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

# Run doit as `python -m doit` does, counting the tasks (and file_dep edges) handed to doit's
# TaskControl: what this run created. A settled story has none.
COUNT = """
import json, sys
import doit.control
from doit.doit_cmd import DoitMain
seen = {}
init = doit.control.TaskControl.__init__
def counting(self, task_list, *args, **kwargs):
    seen["created"] = len(task_list)
    seen["edges"] = sum(len(task.file_dep) for task in task_list)
    init(self, task_list, *args, **kwargs)
doit.control.TaskControl.__init__ = counting
code = DoitMain().run(sys.argv[1:])
print("COUNT " + json.dumps(seen))
sys.exit(code)
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
    """The fastest wall, the lowest CPU and the lowest peak RSS of ``runs`` (each the least disturbed)."""
    return Timing(min(r.wall for r in runs), min(r.cpu for r in runs), min(r.maxrss_kb for r in runs))


def mb(timing: Timing) -> str:
    """Peak RSS in MiB."""
    return f"{timing.maxrss_kb / 1024:5.0f}MB"


def stamp_text(size: Size) -> str:
    """The stamps' total JSON size and size per story."""
    rows, total = size.stamps
    return f"{total / 1e6:6.2f}MB {total / 1e3 / max(1, rows):5.1f}KB/story"


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
    """(label, wall seconds, note) rows: start, import, and task creation without stamps."""
    startup = best([project.python("pass")[0] for _ in range(repeats)])
    doit_start = best([project.run("--version")[0] for _ in range(repeats)])
    dodo_import, packages = import_breakdown(project, 6)
    dodo_process = best([project.python("import dodo")[0] for _ in range(repeats)])
    creation = json.loads(project.python(CREATION)[1])
    listing = best([project.run("list", "--all", "-q")[0] for _ in range(repeats)])
    rows = [
        ("python -c pass", startup.wall, ""),
        ("python -m doit --version", doit_start.wall, ""),
        ("import dodo (-X importtime)", dodo_import,
         "by package: " + ", ".join(f"{name} {sec:.2f}" for name, sec in packages)),
        ("python -c 'import dodo' (whole process)", dodo_process.wall, "start + imports, no task made"),
    ]
    rows += [(f"  {label}", seconds, "") for label, seconds in sorted(creation.items(), key=lambda kv: -kv[1])]
    rows.append(("doit list --all -q (whole run)", listing.wall, "start + import + task creation, no stamps"))
    return rows


def profile_noop(project: TempProject, top: int) -> str:
    """The ``top`` functions by own time in a cProfile of one stamped no-op run, as printable rows."""
    profile = project.root / "noop.prof"
    project.run("final_wav", python=("-m", "cProfile", "-o", str(profile)))
    return project.python(PROFILE, str(profile), str(top))[1]


# -- the summary line ---------------------------------------------------------------------------

def summary_line(output: str) -> str:
    """The reporter's last ``storybuild: ...`` summary line, without its own clock."""
    lines = [line for line in output.splitlines() if line.startswith("storybuild: ") and "up to date" in line]
    return re.sub(r" (in )?\(?\d+\.\d+s\)?$", "", lines[-1]) if lines else "(no summary line)"


def settled_count(line: str) -> int:
    """How many settled stories a summary line says the run left out."""
    found = re.search(r"(\d+) settled stor", line)
    return int(found[1]) if found else 0


def checked_tasks(line: str) -> int:
    """Tasks a summary line says were up to date or built."""
    uptodate = re.search(r"(\d+) (?:tasks )?up to date", line)
    built = re.search(r"storybuild: (\d+) built", line)
    return (int(uptodate[1]) if uptodate else 0) + (int(built[1]) if built else 0)


# -- one project, grown through the sizes ---------------------------------------------------------

@dataclass
class Size:
    """What was measured at one project size."""

    stories: int
    distinct: int
    build: Timing
    build_line: str
    made: Counter
    reused: int
    first: Timing
    first_line: str
    noop: Timing
    noop_line: str
    created: dict
    unstamped: Timing
    unstamped_line: str
    unstamped_runs: int
    stamps: tuple[int, int]  # rows, bytes of JSON in the settled table
    notes: list[str] = field(default_factory=list)


def slug(i: int) -> str:
    """Story folder name of story ``i``."""
    return f"gen-{i:04d}"


class Grower:
    """Adds stories to a project: the first ``distinct`` generated, the rest byte copies of them."""

    def __init__(self, project: TempProject, lines: int, distinct: int, seed: int = 7) -> None:
        self.project, self.lines, self.distinct = project, lines, distinct
        self.rng = random.Random(seed)
        self.count = 0

    def grow(self, stories: int) -> None:
        """Add stories until there are ``stories``."""
        folder = self.project.root / "stories"
        while self.count < stories:
            i = self.count
            (folder / slug(i)).mkdir()
            if i < self.distinct:
                text = story_text(i, self.lines, self.rng)
                (folder / slug(i) / "story.txt").write_text(text, encoding="utf-8")
            else:
                shutil.copyfile(folder / slug(i % self.distinct) / "story.txt", folder / slug(i) / "story.txt")
            self.count += 1


def stamp_sizes(project: TempProject) -> tuple[int, int]:
    """Rows in doit's ``settled`` table and the bytes of their JSON stamps."""
    with sqlite3.connect(project.root / ".storybuild" / "doit.sqlite3") as conn:
        rows, size = conn.execute("SELECT count(*), coalesce(sum(length(stamp)), 0) FROM settled").fetchone()
    return rows, size


def count_created(project: TempProject, *args: str) -> dict:
    """Tasks (and file_dep edges) a run of ``doit *args`` created."""
    out = project.python(COUNT, *args)[1]
    found = [line for line in out.splitlines() if line.startswith("COUNT ")]
    return json.loads(found[-1][6:]) if found else {}


def measure_size(project: TempProject, grower: Grower, stories: int, args: argparse.Namespace,
                 target: str = "final_wav", unstamped_repeats: int | None = None) -> Size:
    """Grow to ``stories``, build, re-stamp, and time the stamped and unstamped no-ops."""
    grower.grow(stories)
    before = len(project.records())
    # 120: Python could not flush sys.stdout/sys.stderr at exit, after every task ended (seen on the
    # 1,000-story builds, which run ~45,000 tasks on two threads); the summary line says what failed.
    build, out = project.run("-n", str(args.jobs), "-P", "thread", target, allow=(120,))
    notes = []
    if project.last_returncode:
        if " 0 failed" not in summary_line(out):
            raise SystemExit(f"the build at {stories} stories failed ({project.last_returncode}):\n{out[-3000:]}")
        notes.append(f"its doit exited {project.last_returncode} after a summary line saying 0 failed (Python could"
                     " not flush sys.stdout/sys.stderr at exit); its targets and stamps were all written")
    records = project.records()[before:]
    first, first_out = project.run(target)
    noops = []
    for _ in range(args.repeats):
        noops.append(project.run(target))
    noop_line = summary_line(noops[-1][1])
    created = count_created(project, target)
    repeats = unstamped_repeats if unstamped_repeats is not None else args.repeats
    unstamped = [project.run(target, "validate") for _ in range(repeats)]
    # These stamp every story again, with the same files: the stamps hold for the runs after them.
    return Size(
        stories=stories, distinct=min(stories, grower.distinct), build=build, build_line=summary_line(out),
        made=generated(records), reused=sum(r["outcome"] == "reused" for r in records),
        first=first, first_line=summary_line(first_out), noop=best([t for t, _ in noops]), noop_line=noop_line,
        created=created, unstamped=best([t for t, _ in unstamped]), unstamped_line=summary_line(unstamped[-1][1]),
        unstamped_runs=repeats, stamps=stamp_sizes(project), notes=notes,
    )


@dataclass
class Detail:
    """What is measured at the detail size only."""

    graph: dict
    trivial: Timing
    trivial_utd: Timing
    touched: Timing
    touched_line: str
    edited: Timing
    edited_line: str
    edited_made: Counter
    after_edit: Timing
    after_edit_line: str
    uncached: Timing | None
    rows: list[tuple[str, float, str]]
    profile: str


def edit_line(text: str) -> tuple[str, str]:
    """A spoken line of ``text`` (the fifth of a speaker) and the same line with three words more."""
    spoken = [line for line in text.splitlines() if line.startswith("[") and "{" not in line]
    old = spoken[min(4, len(spoken) - 1)]
    return old + "\n", old[:-1] + ", once more.\n"


def measure_detail(project: TempProject, stories: int, args: argparse.Namespace) -> Detail:
    """The floor, one story touched and one edited, the breakdown and the profile, at this size."""
    graph = json.loads(project.python(GRAPH, "final_wav")[1])
    trivial = doit_trivial(graph["reached"], graph["edges"], args.repeats)
    trivial_utd = doit_trivial(graph["reached"], graph["edges"], args.repeats, uptodate=True)
    uncached = None
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        uncached = best([project.run("final_wav", bytecode=False)[0] for _ in range(args.repeats)])
    story = project.root / "stories" / slug(min(stories, args.distinct) // 2) / "story.txt"
    touches = []
    for _ in range(args.repeats):
        time.sleep(0.01)  # a new mtime for sure
        story.write_bytes(story.read_bytes())  # same bytes: a new mtime and ctime, nothing to build
        touches.append(project.run("final_wav"))
    before = len(project.records())
    old, new = edit_line(story.read_text(encoding="utf-8"))
    project.edit(story, old, new)
    edited, edited_out = project.run("final_wav")
    edited_made = generated(project.records()[before:])
    after_edit, after_out = project.run("final_wav")
    rows = breakdown(project, args.repeats)
    profile = profile_noop(project, args.top) if args.top else ""
    return Detail(
        graph=graph, trivial=trivial, trivial_utd=trivial_utd,
        touched=best([t for t, _ in touches]), touched_line=summary_line(touches[-1][1]),
        edited=edited, edited_line=summary_line(edited_out), edited_made=edited_made,
        after_edit=after_edit, after_edit_line=summary_line(after_out), uncached=uncached, rows=rows, profile=profile,
    )


# -- printing ------------------------------------------------------------------------------------

def target_note(stories: int, lines: int, wall: float, floor: Timing | None) -> str:
    """Issue 12's target for this size, if it has one, and whether this run met it."""
    if lines != 40:
        return ""
    if stories == 100:
        ratio = f", {wall / floor.wall:.2f}x floor (target <= 1.2x)" if floor else ""
        return f"target <= 1.0 s: {'met' if wall <= 1.0 else 'MISSED'}{ratio}"
    if stories == 1000:
        return f"target <= 1.5 s: {'met' if wall <= 1.5 else 'MISSED'}"
    return ""


def print_report(args: argparse.Namespace, sizes: list[Size], detail: Detail | None, detail_size: int,
                 compare: Size | None, mp4: Size | None, seconds: float) -> None:
    """Everything measured, in the order a reader needs it."""
    lines = args.lines
    print(f"storybuild no-op `doit final_wav`: {' / '.join(str(s.stories) for s in sizes)} stories x {lines} lines"
          f"   (bench ran {seconds / 60:.1f} min)")
    largest = sizes[-1]
    print(f"how the project was made: one temp project grown in place; stories gen-0000..{slug(largest.distinct - 1)}"
          f" are {largest.distinct} distinct generated texts (random words, seed 7; 4 scenes, narrator + 4 speakers,"
          " 2 cues)" + (f"; gen-{args.distinct:04d}..{slug(largest.stories - 1)} are byte copies of story"
                        f" (i mod {args.distinct}) under new slugs, so their build fetched every artifact from the"
                        " project's local cache (hard links)" if largest.stories > args.distinct else "")
          + ". Every story folder has all its final_wav targets on disk and its stamp in the DB: the no-ops below"
          " are real `doit run`s over all of them.")
    print(f"builds (doit -n {args.jobs} -P thread final_wav, each adding the stories new at that size):")
    for s in sizes:
        print(f"  to {s.stories:5} stories: {s.build.wall:7.1f}s wall {s.build.cpu:7.1f}s cpu  generated"
              f" {sum(s.made.values())} ({summary(s.made)}); reused {s.reused}")
        for note in s.notes:
            print(f"    note: {note}")
    print("  then one no-op each, not counted (it would check again any story whose stamp the build left stale;"
          " a link to a shared cache entry moves only the ctime, which a recorded digest forgives):")
    for s in sizes:
        print(f"  {s.stories:5} stories: {s.first.wall:6.2f}s  {s.first_line}")

    floor = detail.trivial if detail else None
    base = sizes[0]
    print(f"stamped no-op `doit final_wav`, best of {args.repeats} (wall, child cpu, peak RSS of the doit process):")
    print(f"  {'stories':>7} {'wall':>7} {'cpu':>7} {'max RSS':>7} {'ms/story wall':>13} {'cpu':>5}"
          f" {'tasks created':>14} {'stamps':>18}  summary line")
    for s in sizes:
        if s is base:
            per = f"{'base':>13} {'base':>5}"
        else:
            added = s.stories - base.stories
            per = (f"{1000 * (s.noop.wall - base.noop.wall) / added:13.2f}"
                   f" {1000 * (s.noop.cpu - base.noop.cpu) / added:5.2f}")
        created = s.created.get("created", "?")
        print(f"  {s.stories:7} {s.noop.wall:6.2f}s {s.noop.cpu:6.2f}s {mb(s.noop)} {per} {created:>14}"
              f" {stamp_text(s)}  {s.noop_line}")
    print(f"  (ms/story: wall (and cpu, which other load disturbs less) above the {base.stories}-story no-op, per"
          " story added. tasks created: every task the"
          " stamped no-op hands doit, group tasks included; a settled story has none, so with every story settled"
          " what is left is one group task per stage, whatever the size. stamps: JSON in doit's `settled` table)")
    for s in sizes:
        note = target_note(s.stories, lines, s.noop.wall, floor if s.stories == detail_size else None)
        if note:
            print(f"  {s.stories} x {lines}: {s.noop.wall:.2f}s, {note}")
    print(f"no-op without stamps (`doit final_wav validate`: every task created and checked, as before settled"
          " stories; best of the runs counted):")
    print(f"  {'stories':>7} {'wall':>7} {'cpu':>7} {'max RSS':>7} {'runs':>5}  {'stamped is':>10}  summary line")
    for s in sizes:
        print(f"  {s.stories:7} {s.unstamped.wall:6.2f}s {s.unstamped.cpu:6.2f}s {mb(s.unstamped)} {s.unstamped_runs:5}"
              f"  {s.unstamped.wall / s.noop.wall:9.1f}x  {s.unstamped_line}")

    if compare is not None:
        big = next((s for s in sizes if s.stories == compare.stories), None)
        print(f"memory against story length, {compare.stories} stories (a second project: {compare.distinct} distinct"
              f" {args.compare_lines}-line texts + copies, built in {compare.build.wall:.0f}s):")
        print(f"  {'lines':>7} {'stamped wall':>12} {'max RSS':>7} {'stamps':>18}"
              f" {'unstamped wall':>14} {'max RSS':>7}")
        for lines_, s in ((args.compare_lines, compare), (lines, big)):
            if s is not None:
                print(f"  {lines_:7} {s.noop.wall:11.2f}s {mb(s.noop)} {stamp_text(s)}"
                      f" {s.unstamped.wall:13.2f}s {mb(s.unstamped)}")
        print(f"  (a settled story is never parsed: what grows with its length in the stamped no-op is its stamp,"
              " one entry per file it reads or writes; the unstamped no-op parses every story and makes its tasks)")
        print(f"  {compare.stories} x {args.compare_lines}: {compare.noop_line}")
        for note in compare.notes:
            print(f"  note on its build: {note}")
    else:
        print("memory against story length: not measured (--compare-lines 0)")

    if detail is not None:
        d, s = detail, next(s for s in sizes if s.stories == detail_size)
        print(f"at {detail_size} stories x {lines} lines:")
        print(f"  full graph (created outside `doit run`, nothing left out): {d.graph['reached']} tasks reached by"
              f" final_wav ({d.graph['edges']} file_dep edges), {d.graph['all']} created; the stamped no-op"
              f" created {s.created.get('created', '?')} ({s.created.get('edges', '?')} file_dep edges)")
        print(f"  {'':40} {'wall':>7} {'cpu':>7} {'max RSS':>7}")
        rows = [
            ("storybuild stamped no-op", s.noop, ""),
            ("storybuild no-op without stamps", s.unstamped, ""),
            ("doit trivial floor, dbm + md5", d.trivial, "same tasks and edges as the full graph"),
            ("doit trivial + config_changed", d.trivial_utd,
             "each task also has an uptodate callable, as storybuild's do"),
        ]
        for label, t, note in rows:
            print(f"  {label:40} {t.wall:6.2f}s {t.cpu:6.2f}s {mb(t)}  {note}".rstrip())
        print(f"  ratio stamped / floor                    {s.noop.wall / d.trivial.wall:6.2f}x"
              f" {s.noop.cpu / d.trivial.cpu:6.2f}x          (target <= 1.2; the stamped no-op creates almost no"
              " tasks, the floor creates them all)")
        print(f"  ratio unstamped / floor                  {s.unstamped.wall / d.trivial.wall:6.2f}x"
              f" {s.unstamped.cpu / d.trivial.cpu:6.2f}x")
        if d.uncached is not None:
            print(f"  stamped no-op, PYTHONDONTWRITEBYTECODE=1 {d.uncached.wall:6.2f}s {d.uncached.cpu:6.2f}s"
                  "           (as this shell sets it: every run compiles storybuild; the other rows cache bytecode)")
        print(f"  one story.txt rewritten, same bytes:     {d.touched.wall:6.2f}s {d.touched.cpu:6.2f}s {mb(d.touched)}"
              f"  best of {args.repeats}: {d.touched_line}")
        print(f"  one spoken line edited in one story:     {d.edited.wall:6.2f}s {d.edited.cpu:6.2f}s {mb(d.edited)}"
              f"  {d.edited_line}; generated {summary(d.edited_made)}")
        print(f"  no-op after that edit:                   {d.after_edit.wall:6.2f}s {d.after_edit.cpu:6.2f}s"
              f" {mb(d.after_edit)}  {d.after_edit_line}")
        print(f"where a no-op goes at {detail_size} stories (wall seconds):")
        for label, seconds_, note in d.rows:
            print(f"  {label:44} {seconds_:6.2f}   {note}".rstrip())
        listing = d.rows[-1][1]
        start = d.rows[3][1]
        print(f"  {'doit final_wav without stamps (whole run)':44} {s.unstamped.wall:6.2f}   so up-to-date checks,"
              f" DB, reporter: ~{s.unstamped.wall - listing:.2f}")
        print(f"  {'doit final_wav stamped (whole run)':44} {s.noop.wall:6.2f}   above `import dodo`'s process:"
              f" ~{s.noop.wall - start:.2f} (doit's command, stamps read, story files and targets stat'ed, group"
              " tasks, reporter)")
        print("  (the task creation rows are timed in one process outside doit's run command, where nothing is"
              " left out: task creation without stamps, what `doit list` pays; a story's artifacts for every stage"
              " are made at once, so the first stage created carries nearly all of it)")
        if d.profile:
            print(f"profile of one stamped no-op at {detail_size} stories, top {args.top} by own time:\n"
                  f"  {'own s':>7} {'cum s':>7} {'calls':>8}  function")
            print(d.profile, end="")
    if mp4 is not None:
        copies = " + copies" if mp4.stories > mp4.distinct else ""
        print(f"final_mp4, {mp4.stories} stories ({mp4.distinct} distinct texts{copies}, audio from the main"
              f" project's cache), built in {mp4.build.wall:.0f}s: stamped no-op {mp4.noop.wall:.2f}s wall"
              f" {mp4.noop.cpu:.2f}s cpu {mb(mp4.noop)}, {mp4.created.get('created', '?')} tasks created;"
              f" without stamps {mp4.unstamped.wall:.2f}s {mb(mp4.unstamped)}  ({mp4.noop_line})")
    else:
        print("final_mp4: not measured (--mp4 N adds it; a 40-line story's video takes ~30 s to build on this"
              " machine, so even 10 distinct texts add ~6 min to the run)")


def main() -> None:
    """Grow a project through the sizes, time its no-ops against doit's, and break the no-op down."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000", help="story counts, grown in order (default 10,100,1000)")
    parser.add_argument("--lines", type=int, default=40, help="spoken lines per story (default 40)")
    parser.add_argument("--distinct", type=int, default=100,
                        help="distinct story texts; stories past these are copies (default 100)")
    parser.add_argument("--detail", type=int, default=100,
                        help="size with the floor, edits, breakdown and profile (default 100; nearest size used)")
    parser.add_argument("--compare-lines", type=int, default=10,
                        help="lines per story of a second project at the largest size (default 10; 0 skips)")
    parser.add_argument("--mp4", type=int, default=0, help="stories of a final_mp4 project (default 0: skipped)")
    parser.add_argument("--jobs", type=int, default=2, help="doit -n for the builds (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="no-op runs; the best counts (default 3)")
    parser.add_argument("--top", type=int, default=12, help="profile rows to print (default 12; 0: no profile)")
    args = parser.parse_args()
    sizes = sorted({int(n) for n in args.sizes.split(",") if n.strip()})
    detail_size = min(sizes, key=lambda n: (abs(n - args.detail), n))
    # Above the detail size one unstamped no-op is enough: it is slow, and it is not the target.
    def unstamped_repeats(n: int) -> int:
        return args.repeats if n <= detail_size else 1
    began = time.perf_counter()

    compare = mp4 = detail = None
    measured: list[Size] = []
    with TempProject("bench-noop-stories-") as project:
        grower = Grower(project, args.lines, args.distinct)
        for n in sizes:
            measured.append(measure_size(project, grower, n, args, unstamped_repeats=unstamped_repeats(n)))
            if n == detail_size:
                detail = measure_detail(project, n, args)
        if args.mp4:
            with TempProject("bench-noop-mp4-", cache_dir=project.cache_dir) as video:
                mp4 = measure_size(video, Grower(video, args.lines, min(10, args.mp4)), args.mp4, args,
                                   target="final_mp4", unstamped_repeats=1)
    if args.compare_lines:
        with TempProject("bench-noop-lines-") as other:
            compare = measure_size(other, Grower(other, args.compare_lines, args.distinct), sizes[-1], args,
                                   unstamped_repeats=1)
    print_report(args, measured, detail, detail_size, compare, mp4, time.perf_counter() - began)


if __name__ == "__main__":
    main()
