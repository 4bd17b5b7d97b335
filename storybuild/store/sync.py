"""Moving cache entries between this machine and the shared cache by hand: push, pull, status.

A build already asks the shared cache on every local miss and offers it every artifact it makes;
these commands are for the rest: pushing what was built before a remote was configured, pulling a
story's artifacts ahead of time (a CI job restoring before it builds), and seeing where a
story's artifacts are. What a story's artifacts are comes from the journal: the last key each of
its tasks produced on this machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from . import journal

__all__ = ["latest_keys", "pull", "push", "status"]


def _story_of(item: str) -> str:
    return item.partition("/")[0]


def latest_keys(project: Any, story: str | None = None) -> dict[str, str]:
    """``stage:item`` -> the key its last successful run produced on this machine."""
    found: dict[str, str] = {}
    for record in journal.read(project.runtime.journal):
        item, key = record.get("item", ""), record.get("key")
        if key and (story is None or _story_of(item) == story):
            found[f"{record['stage']}:{item}"] = key
    return found


def _shared(project: Any) -> Any:
    shared = project.runtime.cache.shared
    if shared is None:
        raise ConfigError("no shared cache: set [cache] remote in storybuild.toml (see docs/ci.md)")
    return shared


def push(project: Any, story: str | None, warn: Callable[[str], None]) -> tuple[int, int]:
    """Upload the local entries of ``story`` (or every story) the shared cache lacks: (pushed, already there)."""
    shared, cache = _shared(project), project.runtime.cache
    if shared.mode != "read-write":
        raise ConfigError(f"cache.remote_mode is {shared.mode!r}: this machine only reads {shared.url}")
    pushed = present = 0
    for key in sorted(set(latest_keys(project, story).values())):
        manifest = cache.manifest(key)
        if manifest is None:
            continue
        files = {name: cache.entry(key) / name for name in manifest["files"]}
        about = {k: v for k, v in manifest.items() if k in ("stage", "item", "recipe", "tools")}
        if shared.push(key, files, about, warn):
            pushed += 1
        else:
            present += 1
    return pushed, present


def status(project: Any, story: str | None, warn: Callable[[str], None]) -> list[tuple[str, bool, bool | None]]:
    """For each task of ``story`` built here: (task, in the local cache, in the shared cache or None)."""
    cache, shared = project.runtime.cache, project.runtime.cache.shared
    rows = []
    for task, key in sorted(latest_keys(project, story).items()):
        remote = shared.has(key, warn) if shared is not None else None
        rows.append((task, cache.entry(key).is_dir(), remote))
    return rows


def pull(project: Any, story: str, target: str = "final_mp4") -> int:
    """Build ``target`` of ``story`` from the caches alone (nothing is generated); doit's exit code."""
    _shared(project)
    env = {**os.environ, "STORYBUILD_CACHE_ONLY": "1"}
    command = [sys.executable, "-m", "doit", "-n", "2", f"{target}:{story}"]
    return subprocess.run(command, cwd=Path(project.root), env=env).returncode
