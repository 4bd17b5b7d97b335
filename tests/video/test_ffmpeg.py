"""Finding ffmpeg, running it, and mapping its failures to storybuild errors."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import pytest

from storybuild.errors import BackendUnavailable, MediaError
from storybuild.media import ffmpeg
from storybuild.media.ffmpeg import ffmpeg_exe, has_libass, run_ffmpeg
from storybuild.store.atomic import atomic_output
from storybuild.media.probe import probe


@pytest.fixture
def fresh_lookup() -> Iterator[None]:
    """Forget the cached binary before and after, so PATH changes are seen and undone."""
    ffmpeg_exe.cache_clear()
    yield
    ffmpeg_exe.cache_clear()


def test_falls_back_to_imageio_ffmpeg_without_one_on_path(
    fresh_lookup: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert ffmpeg_exe() == imageio_ffmpeg.get_ffmpeg_exe()


def test_prefers_ffmpeg_on_path(fresh_lookup: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    assert ffmpeg_exe() == str(fake)


def test_run_ffmpeg_writes_its_output(tmp_path: Path) -> None:
    out = tmp_path / "red.png"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=red:size=32x16", "-frames:v", "1", out], "a red frame")
    video = probe(out).video
    assert (video.width, video.height) == (32, 16)


def test_failure_names_the_step_and_shows_ffmpegs_reason(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-input.mp4"
    with pytest.raises(MediaError) as caught:
        run_ffmpeg(["-i", missing, tmp_path / "out.mp4"], "reading the missing clip")
    message = str(caught.value)
    assert message.startswith("reading the missing clip failed (ffmpeg exit")
    assert "no-such-input.mp4" in message
    assert caught.value.__cause__ is not None


def test_missing_binary_is_backend_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ffmpeg, "ffmpeg_exe", lambda: str(tmp_path / "nowhere" / "ffmpeg"))
    with pytest.raises(BackendUnavailable, match="cannot run ffmpeg"):
        run_ffmpeg(["-version"], "asking for the version")


def test_media_writes_replace_the_target_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"old")
    with pytest.raises(MediaError):
        with atomic_output(out) as part:
            part.write_bytes(b"half")
            raise MediaError("ffmpeg died")
    assert out.read_bytes() == b"old"
    with atomic_output(out) as part:
        assert part.parent == out.parent and part.suffix == ".mp4"
        part.write_bytes(b"new")
    assert out.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_bundled_ffmpeg_can_burn_subtitles() -> None:
    # imageio-ffmpeg's static build has libass; mux_final's burn-in depends on it.
    assert has_libass() is True
