"""Time a no-op doit run over N tasks with doit's backends and checker against storybuild's.

Usage: python bench/noop_doit.py [N]   (default 10000)

Each task has one file_dep (or, for other benches, a given total of file_dep edges) and a trivial
action. Every configuration runs the build once, then times no-op runs (every task up to date:
load the DB, stat and check each file_dep, save). Times are of whole `python -m doit` processes,
as a user would feel them: wall and CPU, best of a few; ratios use CPU time, which other load on
the machine disturbs less. The peak memory (max RSS) of each no-op process is printed too.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

NOOP_REPEATS = 3

DODO = '''
import os


def _checker(name):
    if name == "md5":
        return "md5"
    # Imported only when asked for, so doit's own configurations pay nothing for storybuild.
    from storybuild.store.checker import XXHashChecker

    return XXHashChecker


DOIT_CONFIG = {
    "backend": os.environ["BENCH_BACKEND"],
    "dep_file": os.environ["BENCH_DEP_FILE"],
    "check_file_uptodate": _checker(os.environ["BENCH_CHECKER"]),
    "verbosity": 0,
}


def _noop():
    return True


def task_t():
    tasks = int(os.environ["BENCH_TASKS"])
    edges = int(os.environ.get("BENCH_EDGES", tasks))
    uptodate = os.environ.get("BENCH_UPTODATE") == "1"
    if uptodate:
        from doit.tools import config_changed
    for i in range(tasks):
        # Spread the edges evenly: every task gets edges // tasks deps, the first few one more.
        count = edges // tasks + (i < edges % tasks)
        deps = [f"src/{(i + j) % tasks}.txt" for j in range(count)]
        task = {"name": str(i), "actions": [_noop], "file_dep": deps}
        if uptodate:
            task["uptodate"] = [config_changed(f"recipe {i}")]
        yield task
'''

# (label, doit backend, checker); the first is the baseline of the ratios.
CONFIGS = [
    ("dbm (doit's default) + md5", "dbm", "md5"),
    ("json + md5", "json", "md5"),
    ("sqlite3 + md5", "sqlite3", "md5"),
    ("storybuild + xxh3", "storybuild", "xxh3"),
]


def make_project(root: Path, tasks: int) -> None:
    """Write the dodo and one small source file per task."""
    (root / "dodo.py").write_text(DODO)
    src = root / "src"
    src.mkdir()
    for i in range(tasks):
        (src / f"{i}.txt").write_text(f"source file {i}\n" * 8)


@dataclass(frozen=True)
class Measured:
    """One child process: wall seconds, CPU seconds (user + system), peak RSS (KiB), exit code, output."""

    wall: float
    cpu: float
    maxrss_kb: int
    returncode: int
    stdout: str
    stderr: str


def run_measured(command: list[str], cwd: Path, env: dict[str, str]) -> Measured:
    """Run ``command`` to its end and measure it with ``os.wait4``: its own CPU time and peak RSS.

    Unlike ``getrusage(RUSAGE_CHILDREN)`` (whose ``ru_maxrss`` is the largest child so far, never a
    delta), wait4's usage is this child's alone (with any children it waited for).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode,
            out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
        )


def run_doit(
    root: Path, tasks: int, backend: str, checker: str, edges: int | None = None, uptodate: bool = False
) -> tuple[float, float, int]:
    """Run doit once in ``root``; its wall and CPU (user + system) seconds and peak RSS (KiB).

    ``edges`` is the total number of file_dep edges (default: one per task); with ``uptodate``
    every task also carries a ``config_changed``, as storybuild's artifact tasks do.
    """
    env = {
        "BENCH_BACKEND": backend,
        "BENCH_CHECKER": checker,
        "BENCH_DEP_FILE": f"state/{backend}-{checker}{'-uptodate' if uptodate else ''}.db",
        "BENCH_TASKS": str(tasks),
        "BENCH_EDGES": str(tasks if edges is None else edges),
        "BENCH_UPTODATE": "1" if uptodate else "0",
    }
    (root / "state").mkdir(exist_ok=True)
    run = run_measured([sys.executable, "-m", "doit"], root, {**os.environ, **env})
    if run.returncode != 0:
        raise subprocess.CalledProcessError(run.returncode, "python -m doit", run.stdout, run.stderr)
    return run.wall, run.cpu, run.maxrss_kb


def children_cpu() -> float:
    """CPU seconds used so far by our finished children: steadier than wall time on a busy box."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Print full-build and no-op times per configuration, and no-op ratios."""
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    results = []
    with tempfile.TemporaryDirectory(prefix="noop-doit-") as tmp:
        root = Path(tmp)
        make_project(root, tasks)
        for label, backend, checker in CONFIGS:
            full = run_doit(root, tasks, backend, checker)
            noops = [run_doit(root, tasks, backend, checker) for _ in range(NOOP_REPEATS)]
            noop = tuple(min(run[i] for run in noops) for i in range(3))
            results.append((label, full, noop))
    sqlite_noop = results[2][2]
    print(f"{tasks} tasks, one file_dep each; no-op: best of {NOOP_REPEATS}; ratios are of no-op CPU time")
    header = f"{'full wall':>9} {'no-op wall':>10} {'no-op cpu':>9} {'max RSS':>8} {'/dbm':>6} {'/sqlite3':>8}"
    print(f"{'configuration':28} {header}")
    for label, (full_wall, _, _), (wall, cpu, rss) in results:
        print(
            f"{label:28} {full_wall:8.2f}s {wall:9.2f}s {cpu:8.2f}s {rss / 1024:6.0f}MB"
            f" {cpu / results[0][2][1]:6.2f} {cpu / sqlite_noop[1]:8.2f}"
        )


if __name__ == "__main__":
    main()
