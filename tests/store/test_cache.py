"""The artifact cache and atomic writes, on real files."""

from __future__ import annotations

import os

import pytest

from storybuild.errors import StorybuildError
from storybuild.layout import StoryLayout
from storybuild.store.atomic import atomic_output, json_text, write_text
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
