"""A story's seeds.toml: the seeds of rerolled artifacts and of retakes that won.

``storybuild reroll``, the serve API's reroll and the tts stage's retakes all write it, so there is
one writer: it reads the file as it is now (never a copy loaded at start-up), changes one entry,
and replaces the file atomically under a process-wide lock. Commit the file to keep the seeds.
"""

from __future__ import annotations

import threading
from pathlib import Path

from .config import read_toml
from .errors import ConfigError
from .store.atomic import write_text

__all__ = ["read_seeds", "record_seed"]

_HEADER = "# Written by storybuild (reroll, and retakes that won): seeds of artifacts. Commit it to keep them."
_LOCK = threading.Lock()


def read_seeds(path: Path, shown: str | None = None) -> dict[str, dict[str, int]]:
    """Stage -> item -> seed offset; ConfigError naming the file if it holds anything else."""
    seeds: dict[str, dict[str, int]] = {}
    for stage, items in read_toml(path).items():
        if not isinstance(items, dict) or not all(isinstance(v, int) for v in items.values()):
            shown = shown or str(path)
            raise ConfigError(f"{shown}: [{stage}] must map item names to whole numbers", file=shown)
        seeds[stage] = dict(items)
    return seeds


def record_seed(path: Path, stage: str, item: str, offset: int | None = None) -> int:
    """Set ``[stage] item`` to ``offset`` (default: one more than now), keep every other entry; the offset."""
    with _LOCK:
        seeds = read_seeds(path)
        current = seeds.get(stage, {}).get(item, 0)
        offset = current + 1 if offset is None else offset
        if current == offset and item in seeds.get(stage, {}):
            return offset
        seeds.setdefault(stage, {})[item] = offset
        lines = [_HEADER, ""]
        for name in sorted(seeds):
            lines.append(f"[{name}]")
            lines.extend(f'"{key}" = {value}' for key, value in sorted(seeds[name].items()))
            lines.append("")
        write_text(path, "\n".join(lines))
        return offset
