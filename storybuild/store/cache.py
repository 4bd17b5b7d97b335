"""The local content-addressed artifact cache.

An entry is a folder ``<root>/<key[:2]>/<key>/`` holding the files one task produced, under their
target names, and ``manifest.json``: each file's xxh3 digest and size, and what made the entry
(stage, recipe, tool identities, when, where). The key digests the task's recipe, its inputs'
contents and the tools that shape the bytes, so a task whose key is already here (a reverted edit,
a line that moved, a renamed story, a rerun after ``kill -9``) links the result instead of
generating it.

Entries appear by renaming a finished staging folder into place, so a killed writer never leaves
a half entry (only a staging folder, swept by the next build). Targets are hard links to the entry
where the filesystem allows (no extra disk), copies otherwise. Entry files are read-only, so an
editor cannot save into a target and through it into the cache; and since a user can still make
one writable, every fetch checks the files against the manifest (xxh3: ~5 GB/s), drops an entry
that fails with a warning naming it, and the artifact is generated again. ``doit clean`` removes
targets only; ``storybuild cache clear`` (or deleting the folder) empties the cache.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import CacheError
from .atomic import temp_path
from .gc import collect, touch
from .hashing import file_digest
from .orphans import sweep_orphans

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH

Warn = Callable[[str], None]


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)


def _place(source: Path, target: Path) -> None:
    """Make ``target`` a link to (or copy of) ``source``, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target)
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
            os.chmod(tmp, _READ_ONLY)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _describe(path: Path) -> dict[str, Any]:
    return {"xxh3": file_digest(path), "size": path.stat().st_size}


class ArtifactCache:
    """Files by key, shared by every task and every run of the project."""

    def __init__(self, root: str | Path, shared: Any = None, max_size: int | None = None) -> None:
        self.root = Path(root)
        self.shared = shared  # a store.remote.SharedCache, or None
        self.max_size = max_size  # bytes; every store beyond it evicts LRU entries (store.gc)
        self._total: int | None = None  # bytes in the cache, counted once then kept up to date
        self._swept = False
        self._lock = threading.Lock()

    def entry(self, key: str) -> Path:
        """The folder holding ``key``'s files."""
        return self.root / key[:2] / key

    def manifest(self, key: str) -> dict[str, Any] | None:
        """``key``'s manifest, or None if there is no entry or it has no readable manifest."""
        try:
            data = json.loads((self.entry(key) / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("files"), dict) else None

    def fetch(self, key: str, targets: dict[str, Path], warn: Warn = _warn) -> bool:
        """Place the cached files for ``key`` at ``targets`` (name -> path); False on a miss.

        An entry whose files no longer match its manifest (edited through a hard-linked target,
        damaged on disk) is dropped, ``warn`` is told which, and the fetch is a miss.
        """
        entry = self.entry(key)
        if not entry.is_dir() and not self._pull(key, warn):
            return False
        problem = self._check(key, targets)
        if problem:
            self.drop(key)
            warn(f"cache entry {entry} {problem}; dropped it, the artifact is made again")
            return False
        try:
            for name, target in targets.items():
                _place(entry / name, Path(target))
        except OSError as exc:
            raise CacheError(
                f"cannot place cached {entry / name} at {exc.filename}: {exc.strerror}", file=exc.filename
            ) from exc
        touch(entry)
        return True

    def _pull(self, key: str, warn: Warn) -> bool:
        """Bring ``key`` from the shared cache into this one; False if it is not to be had."""
        if self.shared is None:
            return False
        self._sweep_staging()
        staging = temp_path(self.root / "tmp" / "pulled")
        try:
            staging.mkdir(parents=True)
            if not self.shared.pull(key, staging, warn):
                return False
            files = {path.name: path for path in staging.iterdir()}
            self.store(key, files, {"pulled_from": self.shared.url}, warn=warn, push=False)
            return self.entry(key).is_dir()
        except OSError as exc:
            raise CacheError(f"cannot pull {key[:12]} into {self.root}: {exc.strerror}", file=exc.filename) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _check(self, key: str, targets: dict[str, Path]) -> str:
        """What is wrong with ``key``'s entry for these targets; empty if nothing."""
        manifest = self.manifest(key)
        if manifest is None:
            return "has no readable manifest.json (made by an older storybuild, or damaged)"
        files = manifest["files"]
        for name in targets:
            if name not in files:
                return f"has no {name}"
            try:
                found = _describe(self.entry(key) / name)
            except OSError:
                return f"lost {name}"
            if found != {"xxh3": files[name].get("xxh3"), "size": files[name].get("size")}:
                return f"has a {name} that differs from its manifest (edited in place?)"
        return ""

    def store(self, key: str, files: dict[str, Path], about: dict[str, Any] | None = None,
              warn: Warn = _warn, push: bool = True) -> None:
        """Keep ``files`` (name -> finished file) under ``key``, read-only; a concurrent equal entry wins.

        ``about`` (stage, recipe, tools...) goes into the manifest beside the files' digests. With
        a shared cache in read-write mode the entry is then offered to it (``push``).
        """
        self._sweep_staging()
        entry = self.entry(key)
        if entry.is_dir():
            touch(entry)
            return
        self._keep(key, files, about)
        self._bound(entry)
        if push and self.shared is not None and entry.is_dir():
            names = {name: entry / name for name in files}
            self.shared.push(key, names, {k: v for k, v in (about or {}).items() if k != "pulled_from"}, warn)

    def _keep(self, key: str, files: dict[str, Path], about: dict[str, Any] | None) -> None:
        entry = self.entry(key)
        staging = temp_path(self.root / "tmp" / "staging")
        try:
            staging.mkdir(parents=True)
            described = {}
            for name, path in files.items():
                try:
                    os.link(path, staging / name)
                except OSError:
                    shutil.copyfile(path, staging / name)
                os.chmod(staging / name, _READ_ONLY)
                described[name] = _describe(staging / name)
            manifest = {
                "format": MANIFEST_FORMAT, "key": key, "files": described,
                "made": {"at": round(time.time(), 3), "host": socket.gethostname(), "pid": os.getpid()},
                **(about or {}),
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")
            os.chmod(staging / MANIFEST, _READ_ONLY)
            entry.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, entry)
            except OSError:
                if not entry.is_dir():
                    raise
        except OSError as exc:
            raise CacheError(f"cannot store into cache {self.root}: {exc.strerror}", file=exc.filename) from exc
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def _bound(self, added: Path) -> None:
        """Count the entry just added; past ``max_size``, evict least recently used unlinked entries."""
        if self.max_size is None:
            return
        size = sum(f.stat().st_size for f in added.iterdir() if f.is_file())
        with self._lock:
            if self._total is None:
                self._total = self.size()[1]
            else:
                self._total += size
            if self._total <= self.max_size:
                return
            self._total = collect(self, max_size=self.max_size).size

    def drop(self, key: str) -> None:
        """Remove ``key``'s entry; moved aside first, so no reader sees it half removed."""
        entry = self.entry(key)
        aside = temp_path(self.root / "tmp" / "dropped")
        try:
            aside.parent.mkdir(parents=True, exist_ok=True)
            os.rename(entry, aside)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise CacheError(f"cannot drop cache entry {entry}: {exc.strerror}", file=entry) from exc
        shutil.rmtree(aside, ignore_errors=True)

    def _sweep_staging(self) -> None:
        """Once per process, remove staging folders that killed builds left (never a live one's)."""
        with self._lock:
            if self._swept:
                return
            self._swept = True
        if (self.root / "tmp").is_dir():
            sweep_orphans(self.root / "tmp", recursive=False, all_temp=True)

    def size(self) -> tuple[int, int]:
        """Number of entries and total bytes."""
        entries = total = 0
        for bucket in self.root.glob("??"):
            for entry in bucket.iterdir():
                entries += 1
                total += sum(f.stat().st_size for f in entry.iterdir() if f.is_file())
        return entries, total

    def clear(self) -> None:
        """Remove every entry."""
        shutil.rmtree(self.root, ignore_errors=True)
