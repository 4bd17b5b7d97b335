"""A throwaway doit project: a generated dodo.py on storybuild's DB backend and file checker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# Each task sleeps, copies its source to its target, then appends its name to log.txt: a name in
# the log means the task's action finished; O_APPEND keeps lines whole whatever the runner.
DODO = '''
import os
import time

from storybuild.stopping import install_signal_handlers
from storybuild.store.checker import XXHashChecker

# As storybuild's doit_config() does: the one place that starts a build sets the handlers.
install_signal_handlers()

DOIT_CONFIG = {{
    "backend": "storybuild",
    "dep_file": ".storybuild/doit.sqlite3",
    "check_file_uptodate": XXHashChecker,
    "verbosity": 2,
}}


def _work(name, source, target, seconds):
    time.sleep(seconds)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(source, "rb") as src, open(target, "wb") as dst:
        dst.write(src.read())
    log = os.open("log.txt", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(log, (name + "\\n").encode())
    os.close(log)


def task_t():
    for i in range({tasks}):
        name = f"{{i:02d}}"
        source, target = f"src/{{name}}.txt", f"out/{{name}}.txt"
        yield {{
            "name": name,
            "actions": [(_work, [f"t:{{name}}", source, target, {seconds}])],
            "file_dep": [source],
            "targets": [target],
        }}
'''


class DoitProject:
    """A folder holding a dodo.py of ``tasks`` tasks ``t:NN``, each copying src/NN.txt to out/NN.txt."""

    def __init__(self, root: Path, tasks: int, seconds: float = 0.0) -> None:
        self.root = root
        self.tasks = tasks
        self.started: list[subprocess.Popen[bytes]] = []
        (root / "dodo.py").write_text(DODO.format(tasks=tasks, seconds=seconds))
        (root / "src").mkdir()
        for i in range(tasks):
            self.source(i).write_text(f"source {i}\n")

    @property
    def db(self) -> Path:
        """The state DB file."""
        return self.root / ".storybuild" / "doit.sqlite3"

    def source(self, i: int) -> Path:
        """Task ``i``'s file_dep."""
        return self.root / "src" / f"{i:02d}.txt"

    def names(self) -> list[str]:
        """Every task's name."""
        return [f"t:{i:02d}" for i in range(self.tasks)]

    def log(self) -> list[str]:
        """Names of the tasks whose action finished, in order, over all runs so far."""
        path = self.root / "log.txt"
        return path.read_text().split() if path.exists() else []

    def doit(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run doit to completion; fail loudly if it fails."""
        done = subprocess.run(
            [sys.executable, "-m", "doit", *args], cwd=self.root, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def run_and_log(self, *args: str) -> list[str]:
        """Run doit; the names of the tasks it executed."""
        before = len(self.log())
        self.doit(*args)
        return self.log()[before:]

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        """Start doit in the background, in a session of its own, its output to doit.out."""
        # Output to a file, not a pipe: a `-P process` worker orphaned by a SIGKILL keeps a pipe
        # open forever; the session lets `reap` find such workers.
        with open(self.root / "doit.out", "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "doit", *args],
                cwd=self.root,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process

    def reap(self) -> None:
        """Kill whatever is left of every doit started in the background, so no test leaks one."""
        for process in self.started:
            reap(process)
            process.wait()

    def wait_for_log(self, count: int, timeout: float = 60.0) -> None:
        """Block until ``count`` task actions have finished."""
        deadline = time.monotonic() + timeout
        while len(self.log()) < count:
            assert time.monotonic() < deadline, f"only {len(self.log())} of {count} tasks finished"
            time.sleep(0.005)


def interrupt(process: subprocess.Popen[bytes], signum: int, timeout: float = 10.0) -> float:
    """Send ``signum`` to ``process`` alone; how many seconds it took to exit."""
    sent = time.monotonic()
    os.kill(process.pid, signum)
    process.wait(timeout=timeout)
    return time.monotonic() - sent


def reap(process: subprocess.Popen[bytes]) -> bool:
    """SIGKILL whatever is left of ``process``'s session; whether anything was left."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True
