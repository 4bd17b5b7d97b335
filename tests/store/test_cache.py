"""The artifact cache and atomic writes, on real files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from storybuild.errors import StorybuildError
from storybuild.layout import StoryLayout
from storybuild.store.atomic import atomic_output, json_text, temp_path, write_text
from storybuild.store.cache import ArtifactCache
from storybuild.store.hashing import digest, file_digest


def test_store_then_fetch_links_identical_content(tmp_path):
    cache = ArtifactCache(tmp_path / "cache")
    made = tmp_path / "made.wav"
    made.write_bytes(b"RIFF" + os.urandom(1000))
    key = digest({"recipe": 1})
    assert not cache.fetch(key, {"a.wav": tmp_path / "out" / "a.wav"})
    cache.store(key, {"a.wav": made})
    target = tmp_path / "out" / "a.wav"
    assert cache.fetch(key, {"a.wav": target})
    assert file_digest(target) == file_digest(made)
    assert cache.size()[0] == 1
    assert not list(target.parent.glob(".*tmp*")), "no temp file left beside the target"


def test_storing_a_key_twice_keeps_the_first_entry(tmp_path):
    cache = ArtifactCache(tmp_path / "cache")
    first, second = tmp_path / "1", tmp_path / "2"
    first.write_bytes(b"first")
    second.write_bytes(b"second")
    cache.store("ab" * 16, {"x": first})
    cache.store("ab" * 16, {"x": second})
    cache.fetch("ab" * 16, {"x": tmp_path / "got"})
    assert (tmp_path / "got").read_bytes() == b"first"
    assert not list((tmp_path / "cache" / "tmp").iterdir())


def _writable(mode: int) -> bool:
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def test_entries_are_read_only_with_a_manifest_of_digests(tmp_path):
    cache = ArtifactCache(tmp_path / "cache")
    made = tmp_path / "scene.png"
    made.write_bytes(os.urandom(5000))
    key = digest({"recipe": "manifest"})
    cache.store(key, {"scene.png": made}, {"stage": "scene", "tools": {"pillow": "pillow 13"}})
    entry = cache.entry(key)
    manifest = json.loads((entry / "manifest.json").read_text())
    assert manifest["files"] == {"scene.png": {"xxh3": file_digest(made), "size": 5000}}
    assert manifest["key"] == key and manifest["stage"] == "scene" and manifest["tools"] == {"pillow": "pillow 13"}
    assert {"at", "host", "pid"} <= set(manifest["made"])
    for path in entry.iterdir():
        assert not _writable(path.stat().st_mode), f"{path} is writable"
    target = tmp_path / "build" / "scene.png"
    assert cache.fetch(key, {"scene.png": target})
    assert not _writable(target.stat().st_mode), "a hard-linked target must not invite editing in place"


def test_an_entry_edited_through_its_target_is_dropped_with_a_warning(tmp_path):
    cache = ArtifactCache(tmp_path / "cache")
    made = tmp_path / "made.wav"
    made.write_bytes(b"RIFF" + os.urandom(1000))
    key = digest({"recipe": "poisoned"})
    cache.store(key, {"a.wav": made})
    target = tmp_path / "build" / "a.wav"
    assert cache.fetch(key, {"a.wav": target})
    os.chmod(target, 0o644)  # what an editor's "save anyway" does, and root needs no permission
    with open(target, "r+b") as handle:
        handle.write(b"EDIT")
    warnings = []
    target.unlink()
    assert not cache.fetch(key, {"a.wav": target}, warn=warnings.append)
    assert not target.exists() and not cache.entry(key).exists()
    assert len(warnings) == 1 and str(cache.entry(key)) in warnings[0] and "a.wav" in warnings[0]
    cache.store(key, {"a.wav": made})
    assert cache.fetch(key, {"a.wav": target}, warn=warnings.append)
    assert target.read_bytes() == made.read_bytes() and len(warnings) == 1


def test_an_entry_without_a_manifest_is_a_miss_and_is_replaced(tmp_path):
    cache = ArtifactCache(tmp_path / "cache")
    key = "ef" * 16
    cache.entry(key).mkdir(parents=True)
    (cache.entry(key) / "x").write_bytes(b"from an older storybuild")
    (tmp_path / "new").write_bytes(b"new")
    warnings = []
    assert not cache.fetch(key, {"x": tmp_path / "got"}, warn=warnings.append)
    assert "manifest" in warnings[0]
    cache.store(key, {"x": tmp_path / "new"})
    assert cache.fetch(key, {"x": tmp_path / "got"}, warn=warnings.append)
    assert (tmp_path / "got").read_bytes() == b"new"


def test_a_killed_writers_staging_folder_is_swept_by_the_next_store(tmp_path):
    root = tmp_path / "cache"
    code = (
        "import sys\nfrom storybuild.store.atomic import temp_path\n"
        f"p = temp_path({str(root / 'tmp' / 'staging')!r}); p.mkdir(parents=True); (p / 'half.wav').write_bytes(b'x')"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    live = temp_path(root / "tmp" / "staging")  # this process's: a build still running
    live.mkdir()
    [orphan] = [p for p in (root / "tmp").iterdir() if p != live]
    older = root / "tmp" / ("0a" * 16)  # an older storybuild's staging folder: a bare uuid
    older.mkdir()
    os.utime(older, (time.time() - 3600,) * 2)
    (tmp_path / "f").write_bytes(b"x")
    ArtifactCache(root).store("12" * 16, {"f": tmp_path / "f"})
    assert not orphan.exists() and not older.exists() and live.exists()


def test_clear_empties_the_cache(tmp_path):
    cache = ArtifactCache(tmp_path / "cache")
    (tmp_path / "f").write_bytes(b"x")
    cache.store("cd" * 16, {"f": tmp_path / "f"})
    cache.clear()
    assert not cache.fetch("cd" * 16, {"f": tmp_path / "g"})


def test_atomic_output_leaves_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "cast.json"
    write_text(target, json_text({"v": 1}))
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text().strip().startswith("{") and '"v": 1' in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["cast.json"]


def test_digest_is_canonical_and_versioned():
    assert digest({"a": 1, "b": [1, 2]}) == digest({"b": [1, 2], "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})


@pytest.mark.parametrize("bad", ["..", "a/b", "a\\b", "", "."])
def test_layout_refuses_paths_outside_the_build_folder(bad):
    layout = StoryLayout("tale")
    with pytest.raises(StorybuildError):
        layout.scene_png(bad)
    with pytest.raises(StorybuildError):
        StoryLayout(bad if bad else "")


def test_layout_paths_are_normalized():
    layout = StoryLayout("tale", "./stories", "./build/")
    assert layout.cast == "build/tale/cast.json"
    assert layout.line_wav("0007") == "build/tale/lines/0007.wav"
    assert layout.story_txt == "stories/tale/story.txt"
