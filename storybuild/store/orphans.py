"""Temp files and cache staging folders left behind by a killed build, told apart and removed.

A kill (``kill -9``, a crash, a power cut) skips the cleanup that removes temp files, and neither a
rebuild nor ``doit clean`` would ever look at them. Every temp name says which process writes it
(``atomic.temp_path``), so a sweep removes exactly those whose writer is gone: never the files of
a build still running, in this process or another. Names from before writers were named carry no
pid; they are removed only when older than this process, which therefore is not writing them.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
from pathlib import Path

from .atomic import TempName, parse_temp, process_start

__all__ = ["is_orphan", "sweep_once", "sweep_orphans", "writer_alive"]

_STARTED = time.time()

_swept: set[str] = set()
_swept_lock = threading.Lock()


def writer_alive(pid: int, start: int) -> bool:
    """Whether the process that named a temp file ``pid``/``start`` still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive
    # A recycled pid belongs to a process that started at another time.
    now = process_start(pid)
    return not (start and now and now != start)


def is_orphan(path: Path, name: TempName | None = None) -> bool:
    """Whether ``path`` is a temp file or folder whose writer is gone."""
    name = name or parse_temp(path.name)
    if name is None:
        return False
    if name.pid:
        return not writer_alive(name.pid, name.start)
    try:
        return path.lstat().st_mtime < _STARTED
    except FileNotFoundError:
        return False


def _remove(path: Path) -> bool:
    """Remove a file or folder tree, read-only cache files included; whether it went."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, onerror=_writable_and_retry)
        else:
            path.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        return False
    return True


def _writable_and_retry(function, path, exc_info) -> None:  # noqa: ANN001 - shutil's onerror signature
    """Windows will not delete read-only files; POSIX never gets here for that reason."""
    os.chmod(path, stat.S_IWRITE)
    function(path)


def sweep_orphans(folder: str | Path, *, recursive: bool = True, all_temp: bool = False) -> list[Path]:
    """Remove every orphaned temp file and staging folder under ``folder``; what was removed.

    ``storybuild prune`` calls it on the build folder and the cache; a build calls it on each
    folder it writes into (``sweep_once``) and on the cache's staging area, where everything is
    temporary (``all_temp``: unnamed leftovers of older versions go by age).
    """
    removed: list[Path] = []
    for top, dirs, files in os.walk(folder):
        for name in [*files, *dirs]:
            parsed = parse_temp(name) or (TempName(name, 0, 0) if all_temp else None)
            if parsed is None:
                continue
            path = Path(top, name)
            if is_orphan(path, parsed) and _remove(path):
                removed.append(path)
                if name in dirs:
                    dirs.remove(name)
        if not recursive:
            break
    return removed


def sweep_once(folder: str | Path) -> list[Path]:
    """``sweep_orphans(folder)``, not recursive, at most once per folder in this process.

    A task sweeps the folders it writes into before it writes: the first task of a build in
    ``lines/`` pays one listing of it, the others nothing.
    """
    key = os.path.abspath(folder)
    with _swept_lock:
        if key in _swept:
            return []
        _swept.add(key)
    if not os.path.isdir(key):
        return []
    return sweep_orphans(key, recursive=False)
