"""Atomic file writes: a temp file in the target's folder, renamed over the target when complete.

A build killed at any moment leaves either the old file or the new one, never a half-written file
that looks done. A temp name is ``.<stem>.<pid>-<start>-<random>.tmp<suffix>``: hidden, it keeps
the target's suffix (ffmpeg and soundfile pick formats by it), is unique per writer so parallel
tasks never collide, and names the process that writes it (pid and that process's start time), so
a sweep can tell a live writer's file from one a killed build left behind (``orphans.py``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["TempName", "atomic_output", "json_text", "parse_temp", "process_start", "temp_path", "write_text"]

_TEMP = re.compile(r"^\.(?P<stem>.*)\.(?P<pid>\d+)-(?P<start>\d+)-[0-9a-f]{8}\.tmp(?P<suffix>\.[^.]*)?$")
# Before writers were named: ``.<stem>.<12 hex>.tmp<suffix>``; such files can only be judged by age.
_LEGACY = re.compile(r"^\.(?P<stem>.*)\.[0-9a-f]{12}\.tmp(?P<suffix>\.[^.]*)?$")


class TempName(NamedTuple):
    """What a temp file's name says: the target it stands for and who writes it (pid 0: unknown)."""

    target: str
    pid: int
    start: int


def process_start(pid: int) -> int:
    """When process ``pid`` started, in clock ticks since boot (Linux); 0 where that is unknown.

    With the pid it names one process for good: a recycled pid has another start time.
    """
    if not sys.platform.startswith("linux"):
        return 0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    # Field 22; the command name (field 2) is in parentheses and may itself hold spaces.
    return int(stat.rpartition(")")[2].split()[19])


# Keyed by pid, so a process forked from this one (doit's ``-P process``) names itself.
_own_start = lru_cache(maxsize=8)(process_start)


def parse_temp(name: str) -> TempName | None:
    """The target and writer behind a temp file's ``name``; None if it is not a temp name."""
    match = _TEMP.match(name)
    if match:
        target = match["stem"] + (match["suffix"] or "")
        return TempName(target, int(match["pid"]), int(match["start"]))
    match = _LEGACY.match(name)
    if match:
        return TempName(match["stem"] + (match["suffix"] or ""), 0, 0)
    return None


def temp_path(target: str | Path) -> Path:
    """A fresh temp path beside ``target`` with the same suffix.

    The temp of a temp is a sibling named after the same target, so writers that stage their own
    output inside a task's temp file do not stack dots and hashes into the name.
    """
    target = Path(target)
    parsed = parse_temp(target.name)
    name = Path(parsed.target) if parsed else target
    pid = os.getpid()
    tag = f"{pid}-{_own_start(pid)}-{secrets.token_hex(4)}"
    return target.with_name(f".{name.stem}.{tag}.tmp{name.suffix}")


@contextmanager
def atomic_output(target: str | Path) -> Iterator[Path]:
    """Yield a temp path to write; on success it replaces ``target``, on any failure it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(target: str | Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically, UTF-8."""
    with atomic_output(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def json_text(data: Any) -> str:
    """``data`` as the indented, key-sorted JSON every artifact file uses."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
