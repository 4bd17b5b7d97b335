"""kill -9 in the middle of a build loses no finished work and leaves no half file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import soundfile as sf


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


def _no_partial_files(project) -> None:
    for path in project.build.rglob("*"):
        assert ".tmp" not in path.name or path.name.startswith("."), path
        if path.suffix == ".wav" and not path.name.startswith("."):
            sf.info(path)  # a truncated wav would not decode


def _check_rerun(project, killed_run: str) -> None:
    before = {(r["stage"], r["item"]) for r in project.records() if r["outcome"] == "generated"}
    mark = project.mark()
    project.doit("final_mp4")
    again = [(r["stage"], r["item"]) for r in project.records()[mark:] if r["outcome"] == "generated"]
    assert not set(again) & before, f"regenerated after kill: {set(again) & before}"
    counts = Counter((r["stage"], r["item"]) for r in project.records() if r["outcome"] == "generated")
    assert max(counts.values()) == 1


def test_sigkill_mid_build_loses_no_finished_work(project):
    project.add_story("tiny")
    process = _start(project, "final_mp4")
    _wait_for(project, 12)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    _no_partial_files(project)
    _check_rerun(project, "kill")


def test_sigterm_stops_in_order_and_saves_state(project):
    project.add_story("tiny")
    process = _start(project, "final_wav")
    _wait_for(project, 6)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) != 0
    _no_partial_files(project)
    mark = project.mark()
    project.doit("final_wav")
    finished = {(r["stage"], r["item"]) for r in project.records()[:mark]}
    rerun = {(r["stage"], r["item"]) for r in project.records()[mark:]}
    assert not finished & rerun, "tasks finished before SIGTERM ran again"
