"""XXHashChecker: mtime first, then size, then the xxh3-128 digest decide if a file_dep changed."""

from __future__ import annotations

import os
from pathlib import Path

from storybuild.store.checker import XXHashChecker
from storybuild.store.hashing import file_digest

from .doit_project import DoitProject

SECOND_NS = 1_000_000_000


def set_mtime(path: Path, mtime_ns: int) -> None:
    """Give ``path`` this modification time, exactly."""
    os.utime(path, ns=(mtime_ns, mtime_ns))


def checked(path: Path, state: tuple[int, int, str]) -> bool:
    """Whether the checker calls ``path`` modified since ``state``."""
    return XXHashChecker().check_modified(str(path), os.stat(path), state)


def test_state_is_mtime_ns_size_and_xxh3(tmp_path: Path) -> None:
    path = tmp_path / "dep.txt"
    path.write_text("twelve bytes")
    stat = os.stat(path)
    assert XXHashChecker().get_state(str(path), None) == (stat.st_mtime_ns, 12, file_digest(path))


def test_state_is_not_recomputed_while_the_mtime_holds(tmp_path: Path) -> None:
    path = tmp_path / "dep.txt"
    path.write_text("content")
    state = XXHashChecker().get_state(str(path), None)
    assert XXHashChecker().get_state(str(path), list(state)) is None


def test_decisions(tmp_path: Path) -> None:
    path = tmp_path / "dep.txt"
    path.write_text("original")
    saved = XXHashChecker().get_state(str(path), None)
    mtime = saved[0]

    assert not checked(path, saved)

    set_mtime(path, mtime + SECOND_NS)
    assert not checked(path, saved), "touched, same bytes: unchanged"

    path.write_text("ORIGINAL")
    set_mtime(path, mtime + 2 * SECOND_NS)
    assert checked(path, saved), "same size, new bytes: changed"

    set_mtime(path, mtime)
    assert not checked(path, saved), "the mtime shortcut trusts an unchanged mtime, as doit's MD5Checker does"

    path.write_text("longer than the original")
    set_mtime(path, mtime + 3 * SECOND_NS)
    assert checked(path, saved), "new size: changed"


def test_doit_runs_a_task_only_when_its_file_dep_content_changes(tmp_path: Path) -> None:
    project = DoitProject(tmp_path, tasks=3)
    project.doit()
    source = project.source(1)
    mtime = os.stat(source).st_mtime_ns

    set_mtime(source, mtime + SECOND_NS)
    assert project.run_and_log() == [], "a touch is not a change"

    source.write_text(source.read_text().upper())
    set_mtime(source, mtime + 2 * SECOND_NS)
    assert project.run_and_log() == ["t:01"]
    assert (tmp_path / "out" / "01.txt").read_text() == "SOURCE 1\n"

    source.write_text("source 1\n")
    set_mtime(source, mtime + 2 * SECOND_NS)
    assert project.run_and_log() == [], "same size and mtime as last saved: the mtime shortcut"

    source.write_text("a longer source\n")
    assert project.run_and_log() == ["t:01"]
