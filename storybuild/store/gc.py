"""Keeping the artifact cache in bounds: evict least recently used entries no target links to.

An entry's folder mtime is its last use: the cache sets it when it stores or fetches the entry.
An entry is in use while a build folder holds a hard link to one of its files (the link count
says so without walking any build folder); those are never evicted, so a gc cannot take a file
from under a current target, and whatever it evicts that is still needed is made (or pulled)
again by the next build, which is exactly what its task would do after ``doit clean``.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import StorybuildError

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_size(text: str | int | None) -> int | None:
    """Bytes from ``20GB``, ``512MiB`` or a plain number; None for None or empty."""
    if text is None or text == "":
        return None
    if isinstance(text, int):
        return text
    found = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", str(text))
    if not found or found.group(2).lower() not in _UNITS:
        raise StorybuildError(f"not a size: {text!r} (e.g. 20GB, 512MiB, 1000000)")
    return int(float(found.group(1)) * _UNITS[found.group(2).lower()])


def parse_age(text: str | None) -> float | None:
    """Seconds from ``30d``, ``12h``, ``90m``, ``2w``; None for None or empty."""
    if not text:
        return None
    found = re.fullmatch(r"\s*([0-9.]+)\s*([smhdw]?)\s*", text)
    if not found:
        raise StorybuildError(f"not an age: {text!r} (e.g. 30d, 12h, 2w)")
    return float(found.group(1)) * _SECONDS[found.group(2) or "d"]


@dataclass
class Entry:
    """One cache entry as the gc sees it."""

    key: str
    path: Path
    size: int
    used: float
    in_use: bool


def entries(root: Path) -> list[Entry]:
    """Every entry under ``root``, least recently used first."""
    found = []
    for bucket in sorted(root.glob("??")):
        try:
            folders = list(os.scandir(bucket))
        except OSError:
            continue
        for folder in folders:
            try:
                files = [f.stat() for f in os.scandir(folder.path) if f.is_file()]
                used = folder.stat().st_mtime
            except OSError:
                continue  # removed meanwhile
            found.append(Entry(
                key=folder.name, path=Path(folder.path), size=sum(s.st_size for s in files), used=used,
                in_use=any(s.st_nlink > 1 for s in files),
            ))
    return sorted(found, key=lambda entry: entry.used)


@dataclass
class Collected:
    """What a gc did."""

    evicted: list[Entry]
    kept: int
    size: int  # bytes left

    @property
    def freed(self) -> int:
        """Bytes removed."""
        return sum(entry.size for entry in self.evicted)


def collect(cache: object, max_size: int | None = None, older_than: float | None = None,
            now: float | None = None, dry_run: bool = False) -> Collected:
    """Evict unused entries last used more than ``older_than`` seconds ago, then LRU ones until ``max_size``."""
    found = entries(cache.root)  # type: ignore[attr-defined]
    total = sum(entry.size for entry in found)
    cutoff = (now or time.time()) - older_than if older_than is not None else None
    evicted = []
    for entry in found:
        if entry.in_use:
            continue
        too_old = cutoff is not None and entry.used < cutoff
        too_big = max_size is not None and total > max_size
        if not (too_old or too_big):
            break  # entries come oldest first and the total only shrinks: no later one qualifies
        if not dry_run:
            cache.drop(entry.key)  # type: ignore[attr-defined]
        evicted.append(entry)
        total -= entry.size
    return Collected(evicted=evicted, kept=len(found) - len(evicted), size=total)


def touch(folder: Path) -> None:
    """Mark an entry used now (its folder's mtime), for the LRU order."""
    try:
        os.utime(folder)
    except OSError:
        pass  # a read-only shared cache: the order degrades to age, nothing breaks
