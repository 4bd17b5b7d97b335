"""The Whisper base model is joined from its two pip packages once, verified, atomically."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from storybuild.backends.transcribe import model
from storybuild.errors import BackendUnavailable


def test_the_joined_model_is_the_verified_one(whisper, whisper_state: Path) -> None:
    folder = whisper_state / "models" / "whisper-base"
    assert whisper.model_folder() == folder
    digest = hashlib.sha256((folder / "model.bin").read_bytes()).hexdigest()
    assert digest == model.SHA256
    assert sorted(p.name for p in folder.iterdir()) == [".verified", "config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    assert not [p for p in folder.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_joined_model_is_not_joined_again(whisper, whisper_state: Path) -> None:
    made = (whisper_state / "models" / "whisper-base" / "model.bin").stat().st_mtime_ns
    assert model.whisper_base(whisper_state) == whisper_state / "models" / "whisper-base"
    assert (whisper_state / "models" / "whisper-base" / "model.bin").stat().st_mtime_ns == made


def test_parts_that_do_not_join_leave_no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for number in (1, 2):
        data = tmp_path / f"part{number}"
        data.mkdir()
        (data / f"model.bin.part{number}").write_bytes(b"not a model " * number)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            (data / name).write_text("{}")
    monkeypatch.setattr(model, "_data", lambda package: tmp_path / f"part{package[-1]}")
    state = tmp_path / "state"
    with pytest.raises(BackendUnavailable, match="do not join into the expected model.bin"):
        model.whisper_base(state)
    assert list((state / "models").iterdir()) == []


def test_missing_parts_name_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "PARTS", ("storybuild_no_such_part1", "storybuild_no_such_part2"))
    with pytest.raises(BackendUnavailable, match=r"pip install 'storybuild\[transcribe\]'"):
        model.whisper_base(tmp_path)
