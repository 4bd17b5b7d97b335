"""WalSqliteDB: doit's state kept task by task, through kills, forgets and parallel runs."""

from __future__ import annotations

import json
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from doit.dependency import DatabaseException, Dependency, JSONCodec
from doit.task import Task

from storybuild.store.checker import XXHashChecker
from storybuild.store.db import WalSqliteDB

from .doit_project import DoitProject, interrupt, reap

# (runner options, how many tasks can have finished their action but not yet been saved)
RUNNERS = {
    "serial": ((), 1),
    "one-process": (("-n", "1"), 1),
    "two-threads": (("-n", "2", "-P", "thread"), 2),
}


@pytest.fixture
def project(tmp_path: Path) -> Iterator[DoitProject]:
    """40 tasks of 50 ms each: long enough to kill doit halfway through."""
    project = DoitProject(tmp_path, tasks=40, seconds=0.05)
    yield project
    project.reap()


def stored_rows(db: Path) -> dict[str, dict]:
    """Every committed row, read by a connection of our own."""
    with sqlite3.connect(db) as conn:
        return {task_id: json.loads(data) for task_id, data in conn.execute("SELECT * FROM doit")}


def executed(output: str) -> list[str]:
    """Tasks doit's console reporter says it ran ('.  name'), as opposed to up to date ('-- name')."""
    return [line.split()[1] for line in output.splitlines() if line.startswith(".  ")]


# In-process: the backend's contract with doit's Dependency.


def test_each_task_is_committed_as_soon_as_it_is_saved(tmp_path: Path) -> None:
    source = tmp_path / "source.txt"
    source.write_text("words")
    db = tmp_path / "new" / "folder" / "doit.sqlite3"
    deps = Dependency(WalSqliteDB, str(db), checker_cls=XXHashChecker)
    deps.save_success(Task("first", [], file_dep=[str(source)]))
    assert list(stored_rows(db)) == ["first"]
    deps.save_success(Task("second", [], file_dep=[str(source)]))
    assert stored_rows(db)["second"]["checker:"] == "XXHashChecker"
    deps.close()


def test_values_survive_reopening(tmp_path: Path) -> None:
    db = str(tmp_path / "doit.sqlite3")
    backend = WalSqliteDB(db, JSONCodec())
    backend.set("t", "_values_:", {"n": 1})
    backend.set("t", "deps:", ("a", "b"))
    backend.dump()
    again = WalSqliteDB(db, JSONCodec())
    assert again.get("t", "_values_:") == {"n": 1}
    assert again.get("t", "deps:") == ["a", "b"]
    assert again.get("t", "missing") is None
    assert again.in_("t")
    again.dump()


def test_asking_about_an_unknown_task_does_not_create_it(tmp_path: Path) -> None:
    backend = WalSqliteDB(str(tmp_path / "doit.sqlite3"), JSONCodec())
    assert backend.get("nobody", "deps:") is None
    assert not backend.in_("nobody")
    backend.dump()
    assert stored_rows(tmp_path / "doit.sqlite3") == {}


def test_state_without_a_final_deps_key_is_committed_when_doit_moves_on(
    tmp_path: Path
) -> None:
    db = tmp_path / "doit.sqlite3"
    backend = WalSqliteDB(str(db), JSONCodec())
    backend.set("ignored", "ignore:", "1")
    assert stored_rows(db) == {}
    backend.get("other", "ignore:")
    assert stored_rows(db) == {"ignored": {"ignore:": "1"}}
    backend.dump()


def test_remove_and_remove_all_are_committed_at_once(tmp_path: Path) -> None:
    db = tmp_path / "doit.sqlite3"
    backend = WalSqliteDB(str(db), JSONCodec())
    for name in ("a", "b", "c"):
        backend.set(name, "deps:", [])
    backend.remove("a")
    assert set(stored_rows(db)) == {"b", "c"}
    assert not backend.in_("a")
    backend.remove_all()
    assert stored_rows(db) == {}
    assert not backend.in_("b")
    backend.dump()


def test_an_unreadable_file_is_reported_as_doits_error(tmp_path: Path) -> None:
    db = tmp_path / "doit.sqlite3"
    db.write_bytes(b"not a database, not even close" * 100)
    with pytest.raises(DatabaseException, match="delete it"):
        WalSqliteDB(str(db), JSONCodec())


# Real doit runs, in subprocesses.


def test_a_second_run_executes_nothing(tmp_path: Path) -> None:
    project = DoitProject(tmp_path, tasks=5)
    assert executed(project.doit().stdout) == project.names()
    second = project.doit().stdout
    assert executed(second) == []
    assert second.count("-- t:") == 5


def test_doits_own_sqlite3_backend_reads_the_file(tmp_path: Path) -> None:
    project = DoitProject(tmp_path, tasks=3)
    project.doit()
    assert executed(project.doit("--backend", "sqlite3").stdout) == []


@pytest.mark.parametrize("runner", RUNNERS)
def test_sigkill_loses_only_the_tasks_in_flight(project: DoitProject, runner: str) -> None:
    options, in_flight = RUNNERS[runner]
    doit = project.start(*options)
    project.wait_for_log(20)
    interrupt(doit, signal.SIGKILL)
    # A `-P process` worker outlives its killed parent, blocked on its job queue: doit's doing.
    reap(doit)
    finished = project.log()
    redone = project.run_and_log(*options)
    assert len(set(finished) & set(redone)) <= in_flight
    assert sorted(set(finished) | set(redone)) == project.names()


@pytest.mark.parametrize("runner", RUNNERS)
def test_the_db_is_valid_after_sigkill(project: DoitProject, runner: str) -> None:
    options, in_flight = RUNNERS[runner]
    doit = project.start(*options)
    project.wait_for_log(20)
    interrupt(doit, signal.SIGKILL)
    reap(doit)
    with sqlite3.connect(project.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = stored_rows(project.db)
    assert len(rows) >= len(project.log()) - in_flight
    assert all(row["checker:"] == "XXHashChecker" for row in rows.values())


@pytest.mark.parametrize("runner", RUNNERS)
def test_sigterm_stops_doit_like_ctrl_c(project: DoitProject, runner: str) -> None:
    options, in_flight = RUNNERS[runner]
    doit = project.start(*options)
    project.wait_for_log(20)
    took = interrupt(doit, signal.SIGTERM)
    assert took < 5
    assert doit.returncode == -signal.SIGINT
    assert not reap(doit), "doit left processes behind"
    # dump() ran: closing the last connection folds the WAL back into the file and deletes it.
    assert not project.db.with_name(project.db.name + "-wal").exists()
    finished = project.log()
    redone = project.run_and_log(*options)
    assert len(set(finished) & set(redone)) <= in_flight
    assert sorted(set(finished) | set(redone)) == project.names()


def test_forget_one_task_then_all(tmp_path: Path) -> None:
    project = DoitProject(tmp_path, tasks=4)
    project.doit()
    assert "forgetting t:02" in project.doit("forget", "t:02").stdout
    assert project.run_and_log() == ["t:02"]
    assert "forgetting all tasks" in project.doit("forget", "--all").stdout
    assert stored_rows(project.db) == {}
    assert project.run_and_log() == project.names()
    assert project.run_and_log() == []


def test_a_threaded_parallel_run(tmp_path: Path) -> None:
    project = DoitProject(tmp_path, tasks=12, seconds=0.01)
    assert sorted(project.run_and_log("-n", "2", "-P", "thread")) == project.names()
    assert set(stored_rows(project.db)) == {"t", *project.names()}
    assert project.run_and_log("-n", "2", "-P", "thread") == []
    assert project.run_and_log() == []
