"""What checking an entry against its manifest adds to a cache fetch (a hard link and a rename).

Usage: python bench/cache_fetch.py [MB] [ENTRIES]   (default 1 MB, 200 entries)

Stores ENTRIES entries of one MB-sized file each in a temporary cache, then fetches every one
twice into fresh targets: as storybuild does (files hashed with xxh3 and compared with the
manifest) and linking alone. Prints milliseconds per fetch and the ratio.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from storybuild.store import cache as cache_module
from storybuild.store.cache import ArtifactCache
from storybuild.store.hashing import digest


def _fetch_all(cache: ArtifactCache, keys: list[str], out: Path) -> float:
    start = time.perf_counter()
    for i, key in enumerate(keys):
        cache.fetch(key, {"clip.mp4": out / f"{i}.mp4"})
    return (time.perf_counter() - start) / len(keys)


def main(megabytes: float = 1.0, entries: int = 200) -> None:
    """Print the per-fetch cost with and without the manifest check."""
    with tempfile.TemporaryDirectory(prefix="bench-cache-fetch-") as tmp:
        root = Path(tmp)
        cache = ArtifactCache(root / "cache")
        keys = []
        for i in range(entries):
            made = root / f"made{i}.mp4"
            made.write_bytes(os.urandom(int(megabytes * 1e6)))
            key = digest({"entry": i})
            cache.store(key, {"clip.mp4": made})
            keys.append(key)
        checked = _fetch_all(cache, keys, root / "checked")
        original = ArtifactCache._check
        ArtifactCache._check = lambda self, key, targets: ""
        try:
            linked = _fetch_all(cache, keys, root / "linked")
        finally:
            ArtifactCache._check = original
    print(f"{entries} entries of {megabytes:g} MB ({cache_module.MANIFEST} checked with xxh3)")
    print(f"fetch with check {checked * 1e3:.3f} ms, link only {linked * 1e3:.3f} ms, ratio {checked / linked:.2f}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0, int(sys.argv[2]) if len(sys.argv) > 2 else 200)
