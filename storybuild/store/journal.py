"""An append-only log of what each task produced: generated, or reused from the cache.

It is how the end-of-run summary and the tests count real generations (not tasks), and how a user
sees what a build cost. Each record is one line written with a single O_APPEND write, so records
from parallel tasks never interleave and a record survives the process being killed right after.

It rotates: past ``MAX_BYTES`` the log becomes ``<log>.1`` (replacing the one before), so it keeps
between one and two caps of recent history (8 MiB is some 60,000 records) and never grows beyond.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

RUN_ID = f"{os.getpid()}-{int(time.time())}"
MAX_BYTES = 8 << 20
_rotating = threading.Lock()


def rotated(log: str | Path) -> Path:
    """Where the history before the last rotation is."""
    return Path(f"{log}.1")


def append(log: str | Path, record: dict[str, Any]) -> None:
    """Add ``record`` (plus time and run id) as one line of ``log``."""
    line = json.dumps({"t": round(time.time(), 3), "run": RUN_ID, **record}, sort_keys=True)
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        full = os.fstat(fd).st_size > MAX_BYTES
    finally:
        os.close(fd)
    if full:
        _rotate(Path(log))


def _rotate(log: Path) -> None:
    """Move a full ``log`` aside; the check under the lock keeps two threads from rotating twice."""
    with _rotating:
        try:
            if log.stat().st_size > MAX_BYTES:
                os.replace(log, rotated(log))
        except FileNotFoundError:
            pass


def read(log: str | Path) -> list[dict[str, Any]]:
    """Every record kept (the rotated part first); a torn line (a kill mid-write) is skipped."""
    text = ""
    for path in (rotated(log), Path(log)):
        try:
            text += path.read_text(encoding="utf-8") + "\n"  # a torn end stays apart from what follows
        except FileNotFoundError:
            continue
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
