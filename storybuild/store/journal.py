"""An append-only log of what each task produced: generated, or reused from the cache.

It is how the end-of-run summary and the tests count real generations (not tasks), and how a user
sees what a build cost. Each record is one line written with a single O_APPEND write, so records
from parallel tasks never interleave and a record survives the process being killed right after.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

RUN_ID = f"{os.getpid()}-{int(time.time())}"


def append(log: str | Path, record: dict[str, Any]) -> None:
    """Add ``record`` (plus time and run id) as one line of ``log``."""
    line = json.dumps({"t": round(time.time(), 3), "run": RUN_ID, **record}, sort_keys=True)
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def read(log: str | Path) -> list[dict[str, Any]]:
    """Every record in ``log``; a torn last line (a kill mid-write) is skipped."""
    try:
        text = Path(log).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
