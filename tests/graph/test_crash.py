"""kill -9 or SIGTERM in the middle of a build loses no finished work and leaves no file behind.

"Finished" is a journal record: a task's action completed. A serial doit saves a task's state
right after its action, so at most one finished task (the one in flight) may run again; a DB that
lost finished tasks would run them all again (reused from the cache, which is why the rerun is
counted in tasks, not in generations). Temp files are any name holding ".tmp", whoever wrote it:
those of killed writers must be swept by the rerun, and the rerun must leave none of its own.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import av
import soundfile as sf
from PIL import Image

# The implied sounds of a story are made inside the one task `sfx:<story>/inferred`, which
# records each sound (`sfx <story>/i0003-1`) as it goes: they finish with that task.
_IMPLIED = re.compile(r"^(?P<story>[^/]+)/i\d")


def _start(project, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "doit", *args], cwd=project.root, env=project.env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def _wait_for(project, count: int, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if len(project.records()) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} tasks finished in {limit}s")


def _tasks(records) -> set[tuple[str, str]]:
    """The doit tasks behind journal records."""
    tasks = set()
    for record in records:
        implied = _IMPLIED.match(record["item"]) if record["stage"] == "sfx" else None
        tasks.add(("sfx", f"{implied['story']}/inferred") if implied else (record["stage"], record["item"]))
    return tasks


def _temp_files(project) -> list[str]:
    """Every temp file or staging folder in the build folder and the cache."""
    found = []
    for folder in (project.build, project.root / ".storybuild" / "cache"):
        for path in folder.rglob("*"):
            if ".tmp" in path.name:
                found.append(str(path.relative_to(project.root)))
    return found


def _whole_files(project) -> None:
    """Every file that is not a temp file decodes completely."""
    for path in project.build.rglob("*"):
        if not path.is_file() or ".tmp" in path.name:
            continue
        if path.suffix == ".wav":
            info = sf.info(str(path))
            assert info.frames > 0, path
            sf.read(str(path))
        elif path.suffix == ".png":
            with Image.open(path) as image:
                image.load()
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix in (".mp4", ".m4a"):
            with av.open(str(path)) as container:
                assert container.streams and sum(1 for _ in container.demux()) > 0, path


def _resume_loses_nothing(project, command: str) -> None:
    """Rerun ``command``: at most the task in flight runs again, and no temp file is left."""
    finished = _tasks(project.records())
    mark = project.mark()
    project.doit(command)
    rerun = _tasks(project.records()[mark:])
    assert len(finished & rerun) <= 1, f"finished before the stop, run again: {sorted(finished & rerun)}"
    assert _temp_files(project) == [], "temp files left behind"
    mark = project.mark()
    project.doit(command)
    again = [(r["stage"], r["item"], r["outcome"]) for r in project.records()[mark:]]
    assert again == [], "a second rerun must find everything up to date"


def test_sigkill_mid_build_loses_no_finished_work(project):
    project.add_story("tiny")
    process = _start(project, "final_mp4")
    _wait_for(project, 12)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    _whole_files(project)
    _resume_loses_nothing(project, "final_mp4")


def test_sigterm_stops_and_saves_state(project):
    project.add_story("tiny")
    # final_mp4, not final_wav: the audio alone now builds so fast the signal could come after the end.
    process = _start(project, "final_mp4")
    _wait_for(project, 6)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) != 0
    _whole_files(project)
    _resume_loses_nothing(project, "final_mp4")
