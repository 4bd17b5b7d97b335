"""Chapters as a chpl box alone: read by every reader, and the media data still where it was."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from components import missing

from storybuild.errors import MediaError
from storybuild.media.chapters import MAX_CHAPTERS, add_chapters
from storybuild.media.ffmpeg import run_ffmpeg
from storybuild.media.probe import probe

from . import decode, make_clip

MARKS = [(0.0, "Début"), (0.5, "Ünïcödé; with = signs"), (1.25, "End")]


def remux(clip: Path, out: Path, *flags: str) -> Path:
    run_ffmpeg(["-i", clip, "-c", "copy", *flags, out], f"remuxing {clip.name}")
    return out


def drop_udta(mp4: Path) -> Path:
    """Remove moov's udta from a file whose moov comes last (so no chunk offset moves)."""
    data = bytearray(mp4.read_bytes())
    moov = data.index(b"moov") - 4
    assert moov > data.index(b"mdat"), "moov must come after mdat"
    at = moov + 8
    while data[at + 4 : at + 8] != b"udta":
        at += struct.unpack_from(">I", data, at)[0]
    size = struct.unpack_from(">I", data, at)[0]
    del data[at : at + size]
    struct.pack_into(">I", data, moov, struct.unpack_from(">I", data, moov)[0] - size)
    mp4.write_bytes(data)
    return mp4


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "clip.mp4", 48)


@pytest.mark.parametrize(
    "layout", ["faststart", "moov-last", "no-udta"]
)
def test_chapters_are_added_and_the_pictures_survive(tmp_path: Path, clip: Path, layout: str) -> None:
    out = remux(clip, tmp_path / "out.mp4", *(["-movflags", "+faststart"] if layout == "faststart" else []))
    if layout == "no-udta":
        assert b"udta" not in drop_udta(out).read_bytes()
    before = decode(out)
    add_chapters(out, MARKS)
    info = probe(out)
    assert [(c.start, c.title) for c in info.chapters] == MARKS
    assert [c.end for c in info.chapters] == pytest.approx([0.5, 1.25, 2.0])
    assert [s.type for s in info.streams] == ["video"]
    # Chunk offsets were moved with the media data: every frame decodes to the same picture.
    after = decode(out)
    assert len(after) == len(before) == 48
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    run_ffmpeg(["-xerror", "-i", out, "-f", "null", "-"], "decoding the chaptered file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "clip.png", "out.mp4"]


def test_ffprobe_reads_them_without_a_warning(tmp_path: Path, clip: Path) -> None:
    if shutil.which("ffprobe") is None:
        missing("no ffprobe on PATH", "apt-get install ffmpeg")
    out = remux(clip, tmp_path / "out.mp4", "-movflags", "+faststart")
    add_chapters(out, MARKS)
    done = subprocess.run(["ffprobe", "-v", "warning", "-show_chapters", "-of", "csv", str(out)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert [line.split(",")[-1] for line in done.stdout.splitlines()] == [title for _, title in MARKS]


def test_what_a_chapter_list_cannot_hold_is_refused(tmp_path: Path, clip: Path) -> None:
    out = remux(clip, tmp_path / "out.mp4")
    with pytest.raises(MediaError, match="at most 255"):
        add_chapters(out, [(i / 1000, f"c{i}") for i in range(MAX_CHAPTERS + 1)])
    add_chapters(out, MARKS)
    with pytest.raises(MediaError, match="already has chapters"):
        add_chapters(out, MARKS)
    with pytest.raises(MediaError, match="moov"):
        junk = tmp_path / "junk.mp4"
        junk.write_bytes(b"\0\0\0\x10free" + bytes(8))
        add_chapters(junk, MARKS)
