"""Throughput of xxh3-128 (storybuild's file digest) against md5 (doit's) on a 1 GB file.

Usage: python bench/hashing.py [GB]   (default 1)

The file is written to a temporary folder, read once so it sits in the page cache, hashed
by each function (best of a few runs), then deleted. Prints GB/s (10^9 bytes) and the ratio.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from doit.dependency import get_file_md5

from storybuild.store.hashing import file_digest

REPEATS = 3
_BLOCK_SIZE = 1 << 24


def write_file(path: Path, size: int) -> None:
    """Write ``size`` bytes of incompressible data (a random block, repeated)."""
    block = os.urandom(_BLOCK_SIZE)
    with open(path, "wb") as handle:
        for _ in range(size // _BLOCK_SIZE):
            handle.write(block)


def warm(path: Path) -> None:
    """Read the file once, so every timed pass reads it from memory."""
    with open(path, "rb") as handle:
        while handle.read(_BLOCK_SIZE):
            pass


def best_seconds(hash_file: Callable[[Path], str], path: Path) -> float:
    """The fastest of a few passes of ``hash_file`` over ``path``."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        hash_file(path)
        best = min(best, time.perf_counter() - start)
    return best


def _hashlib_md5(path: Path) -> str:
    """md5 by the standard library's own file loop, the fastest md5 Python offers."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest()


def main() -> None:
    """Print each hash's throughput and how much faster xxh3 is."""
    gigabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    size = max(1, round(gigabytes * 1e9 / _BLOCK_SIZE)) * _BLOCK_SIZE
    with tempfile.TemporaryDirectory(prefix="bench-hashing-") as tmp:
        path = Path(tmp) / "data.bin"
        write_file(path, size)
        warm(path)
        contenders = {
            "xxh3-128 (storybuild file_digest)": file_digest,
            "md5 (doit get_file_md5)": get_file_md5,
            "md5 (hashlib.file_digest)": _hashlib_md5,
        }
        rates = {name: size / 1e9 / best_seconds(fn, path) for name, fn in contenders.items()}
    print(f"{size / 1e9:.2f} GB from the page cache, best of {REPEATS}")
    for name, rate in rates.items():
        print(f"{name:36} {rate:6.2f} GB/s")
    xxh3, md5 = rates["xxh3-128 (storybuild file_digest)"], rates["md5 (doit get_file_md5)"]
    print(f"xxh3-128 / md5 (doit): {xxh3 / md5:.1f}x")


if __name__ == "__main__":
    main()
