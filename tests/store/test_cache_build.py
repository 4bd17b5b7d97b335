"""The cache under real doit builds: it cannot be poisoned, follows a renamed story, and knows its tools."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

from conftest import Project

from storybuild.media.ffmpeg import ffmpeg_exe
from storybuild.store.hashing import file_digest

# An ffmpeg on PATH in front of the real one: logs every call, and says it is another build.
FAKE_FFMPEG = """#!{python}
import os, subprocess, sys
with open({log!r}, "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
done = subprocess.run([{real!r}, *sys.argv[1:]], capture_output=True)
out = done.stdout
if "-version" in sys.argv:
    out = out.replace(b"ffmpeg version ", b"ffmpeg version 99-wrapped-", 1)
sys.stdout.buffer.write(out)
sys.stderr.buffer.write(done.stderr)
sys.exit(done.returncode)
"""


def _entries(cache: Path) -> list[Path]:
    return [entry for bucket in cache.glob("??") for entry in bucket.iterdir()]


def _last(project: Project, stage: str, item: str) -> dict:
    return [r for r in project.records() if r["stage"] == stage and r["item"] == item][-1]


def test_entries_are_read_only_and_match_their_manifests(built_tiny: Project) -> None:
    entries = _entries(built_tiny.root / ".storybuild" / "cache")
    assert len(entries) > 20
    for entry in entries:
        manifest = json.loads((entry / "manifest.json").read_text())
        assert manifest["key"] == entry.name
        for name, expected in manifest["files"].items():
            path = entry / name
            assert {"xxh3": file_digest(path), "size": path.stat().st_size} == expected, path
            assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), f"{path} is writable"
    clip = json.loads((entries[0] / "manifest.json").read_text())
    assert "tools" in clip and "recipe" in clip and "stage" in clip


def test_a_target_edited_in_place_is_not_handed_out_again(built_tiny: Project) -> None:
    target = built_tiny.build / "tiny" / "scenes" / "yard.png"
    good = file_digest(target)
    key = _last(built_tiny, "scene", "tiny/yard")["key"]
    os.chmod(target, 0o644)  # an editor's "save anyway"; root writes read-only files regardless
    with open(target, "r+b") as handle:
        handle.seek(200)
        handle.write(b"scribbled over in an editor")
    edited = file_digest(target)
    built_tiny.doit("clean", "scene:tiny/yard")
    mark = built_tiny.mark()
    result = built_tiny.doit("scene:tiny/yard")
    assert built_tiny.generated("scene", mark) == ["tiny/yard"]
    assert file_digest(target) == good != edited
    output = result.stdout + result.stderr
    assert "warning" in output and key in output, output
    assert not target.stat().st_mode & stat.S_IWUSR


def test_a_noop_run_spawns_no_ffmpeg_and_another_ffmpeg_misses_the_cache(built_tiny: Project, tmp_path: Path) -> None:
    fake_dir, log = tmp_path / "bin", tmp_path / "ffmpeg.log"
    fake_dir.mkdir()
    fake = fake_dir / "ffmpeg"
    fake.write_text(FAKE_FFMPEG.format(python=sys.executable, log=str(log), real=ffmpeg_exe()))
    fake.chmod(0o755)
    path = f"{fake_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    env = built_tiny.env
    # On PATH, and named by the variable that picks an ffmpeg over the bundled one.
    built_tiny.env = lambda: {**env(), "PATH": path, "STORYBUILD_FFMPEG": str(fake)}
    try:
        built_tiny.doit("final_mp4")
        assert not log.exists(), "a no-op run must not run ffmpeg, not even for its identity"
        built_tiny.doit("clean", "soundtrack:tiny")
        mark = built_tiny.mark()
        built_tiny.doit("soundtrack:tiny")
        assert built_tiny.generated("soundtrack", mark) == ["tiny"], "another ffmpeg must not reuse this one's files"
        assert "-version" in log.read_text()
    finally:
        built_tiny.env = env
    built_tiny.doit("clean", "soundtrack:tiny")
    mark = built_tiny.mark()
    built_tiny.doit("soundtrack:tiny")
    assert built_tiny.reused("soundtrack", mark) == ["tiny"]


def test_a_renamed_story_reuses_every_artifact(built_tiny: Project, tmp_path: Path) -> None:
    copy = Project(tmp_path / "copy")
    shutil.copytree(built_tiny.root, copy.root, symlinks=True)
    (copy.root / "stories" / "tiny").rename(copy.root / "stories" / "tiny2")
    mark = copy.mark()
    copy.doit("final_mp4")
    records = copy.records()[mark:]
    assert records and all(r["item"].startswith("tiny2") for r in records)
    assert [(r["stage"], r["item"]) for r in records if r["outcome"] != "reused"] == []
    assert file_digest(copy.build / "tiny2" / "final.mp4") == file_digest(built_tiny.build / "tiny" / "final.mp4")
