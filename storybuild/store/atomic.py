"""Atomic file writes: a temp file in the target's folder, renamed over the target when complete.

A build killed at any moment leaves either the old file or the new one, never a half-written file
that looks done. Temp names start with '.' and contain '.tmp', keep the target's suffix (ffmpeg and
soundfile pick formats by it) and are unique per writer, so parallel tasks never collide.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def temp_path(target: str | Path) -> Path:
    """A fresh temp path beside ``target`` with the same suffix."""
    target = Path(target)
    return target.with_name(f".{target.stem}.{uuid.uuid4().hex[:12]}.tmp{target.suffix}")


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
