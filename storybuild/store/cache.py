"""The local content-addressed artifact cache.

An entry is a folder ``<root>/<key[:2]>/<key>/`` holding the files one task produced, under their
target names. The key digests the task's recipe and its inputs' contents, so a task whose key is
already here (a reverted edit, a line that moved, a rerun after ``kill -9``) links the result
instead of generating it. Entries appear by renaming a finished folder into place, so a killed
writer never leaves a half entry. Targets are hard links to the entry where the filesystem allows
(no extra disk), copies otherwise; every writer replaces files, never edits them in place, so a
link cannot corrupt the cache. ``doit clean`` removes targets only; ``storybuild cache clear``
(or deleting the folder) empties the cache.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from ..errors import CacheError
from .atomic import temp_path


def _place(source: Path, target: Path) -> None:
    """Make ``target`` a link to (or copy of) ``source``, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target)
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class ArtifactCache:
    """Files by key, shared by every task and every run of the project."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def entry(self, key: str) -> Path:
        """The folder holding ``key``'s files."""
        return self.root / key[:2] / key

    def fetch(self, key: str, targets: dict[str, Path]) -> bool:
        """Place the cached files for ``key`` at ``targets`` (name -> path); False on a miss."""
        entry = self.entry(key)
        sources = {name: entry / name for name in targets}
        if not all(source.is_file() for source in sources.values()):
            return False
        try:
            for name, target in targets.items():
                _place(sources[name], Path(target))
        except OSError as exc:
            raise CacheError(f"cannot place cached {key[:12]} at {exc.filename}: {exc.strerror}") from exc
        return True

    def store(self, key: str, files: dict[str, Path]) -> None:
        """Keep ``files`` (name -> finished file) under ``key``; a concurrent equal entry wins."""
        entry = self.entry(key)
        if entry.is_dir():
            return
        staging = self.root / "tmp" / uuid.uuid4().hex
        try:
            staging.mkdir(parents=True)
            for name, path in files.items():
                try:
                    os.link(path, staging / name)
                except OSError:
                    shutil.copyfile(path, staging / name)
            entry.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, entry)
            except OSError:
                if not entry.is_dir():
                    raise
        except OSError as exc:
            raise CacheError(f"cannot store into cache {self.root}: {exc.strerror}") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)

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
