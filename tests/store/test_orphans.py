"""Temp names that name their writer, and the sweep that removes only what dead writers left."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from storybuild.store.atomic import atomic_output, parse_temp, temp_path
from storybuild.store.orphans import is_orphan, sweep_once, sweep_orphans

# A writer in another process: makes a temp file beside the target it is given, prints its
# name, and either exits (an orphan, as after kill -9) or stays alive until its stdin closes.
WRITER = """
import sys
from storybuild.store.atomic import temp_path
tmp = temp_path(sys.argv[1])
tmp.parent.mkdir(parents=True, exist_ok=True)
tmp.write_bytes(b"half a file")
print(tmp, flush=True)
if sys.argv[2] == "stay":
    sys.stdin.read()
"""


def _writer(target: Path, mode: str) -> tuple[Path, subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    return Path(process.stdout.readline().strip()), process


def test_a_temp_name_keeps_the_suffix_and_names_this_process(tmp_path: Path) -> None:
    tmp = temp_path(tmp_path / "clips" / "bakery.mp4")
    assert tmp.parent == tmp_path / "clips"
    assert tmp.name.startswith(".bakery.") and tmp.name.endswith(".tmp.mp4")
    parsed = parse_temp(tmp.name)
    assert parsed.target == "bakery.mp4" and parsed.pid == os.getpid()
    assert temp_path(tmp_path / "a.wav") != temp_path(tmp_path / "a.wav")


def test_the_temp_of_a_temp_is_named_after_the_same_target(tmp_path: Path) -> None:
    outer = temp_path(tmp_path / "bakery.mp4")
    inner = temp_path(outer)
    assert inner.name.count(".tmp") == 1 and not inner.name.startswith("..")
    assert parse_temp(inner.name).target == "bakery.mp4"
    with atomic_output(outer) as part:
        assert part.name.count(".tmp") == 1
        part.write_bytes(b"x")
    assert outer.read_bytes() == b"x"


def test_names_that_are_not_temps_are_not_parsed() -> None:
    for name in ("bakery.mp4", ".hidden", "x.tmp", ".notes.tmp.txt", "manifest.json"):
        assert parse_temp(name) is None, name


def test_sweep_removes_a_dead_writers_file_and_keeps_a_live_ones(tmp_path: Path) -> None:
    dead, process = _writer(tmp_path / "dead.wav", "exit")
    process.wait(timeout=30)
    live, keeper = _writer(tmp_path / "live.wav", "stay")
    mine = temp_path(tmp_path / "mine.wav")
    mine.write_bytes(b"being written")
    finished = tmp_path / "done.wav"
    finished.write_bytes(b"a real target")
    try:
        assert is_orphan(dead) and not is_orphan(live) and not is_orphan(mine)
        assert sweep_orphans(tmp_path) == [dead]
        assert not dead.exists() and live.exists() and mine.exists() and finished.exists()
    finally:
        keeper.stdin.close()
        keeper.wait(timeout=30)
    assert sweep_orphans(tmp_path) == [live], "once its writer is gone, the file is an orphan"


def test_a_recycled_pid_does_not_keep_an_orphan(tmp_path: Path) -> None:
    # This process's pid, with another start time: the writer that named the file is gone.
    tmp = temp_path(tmp_path / "x.wav")
    parsed = parse_temp(tmp.name)
    if parsed.start == 0:
        return  # no process start times on this platform; pids alone decide
    forged = tmp.with_name(tmp.name.replace(f"{parsed.pid}-{parsed.start}-", f"{parsed.pid}-{parsed.start + 1}-"))
    forged.write_bytes(b"old")
    assert sweep_orphans(tmp_path) == [forged]


def test_staging_folders_and_old_unnamed_temps_are_swept_too(tmp_path: Path) -> None:
    dead, process = _writer(tmp_path / "tmp" / "staging", "exit")
    process.wait(timeout=30)
    dead.unlink()
    dead.mkdir()
    (dead / "scene.png").write_bytes(b"png")
    os.chmod(dead / "scene.png", 0o444)
    legacy = tmp_path / "lines" / ".0001.0123456789ab.tmp.wav"
    legacy.parent.mkdir()
    legacy.write_bytes(b"from an older storybuild")
    old = time.time() - 3600
    os.utime(legacy, (old, old))
    fresh = tmp_path / "lines" / ".0002.0123456789ab.tmp.wav"
    fresh.write_bytes(b"maybe another build's, written after this one started")
    removed = sweep_orphans(tmp_path)
    assert sorted(removed) == sorted([dead, legacy])
    assert fresh.exists()


def test_sweep_once_lists_a_folder_once_per_process(tmp_path: Path) -> None:
    first, process = _writer(tmp_path / "a.wav", "exit")
    process.wait(timeout=30)
    assert sweep_once(tmp_path) == [first]
    second, process = _writer(tmp_path / "b.wav", "exit")
    process.wait(timeout=30)
    assert sweep_once(tmp_path) == []
    assert second.exists()
