"""Choosing ffmpeg, naming its build, running it, and mapping its failures to storybuild errors."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from storybuild.errors import BackendUnavailable, ConfigError, MediaError
from storybuild.media import ffmpeg
from storybuild.media.ffmpeg import ENVIRONMENT, ffmpeg_exe, ffmpeg_identity, has_libass, run_ffmpeg, use_ffmpeg
from storybuild.media.probe import probe
from storybuild.store.atomic import atomic_output

from .conftest import IN_CI


@pytest.fixture(autouse=True)
def default_choice(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No STORYBUILD_FFMPEG from outside, and the process-wide choice back to the default after."""
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    yield
    use_ffmpeg("bundled")


def fake_ffmpeg(folder: Path) -> Path:
    """An executable named ffmpeg that does nothing."""
    folder.mkdir(parents=True, exist_ok=True)
    fake = folder / "ffmpeg"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return fake


def is_bundled(path: str) -> bool:
    return Path(path).parent.name == "binaries" and Path(path).parent.parent.name == "imageio_ffmpeg"


def test_bundled_is_the_default_even_with_an_ffmpeg_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_ffmpeg(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "ffmpeg"))  # imageio's own override is not ours
    assert is_bundled(ffmpeg_exe())
    assert os.access(ffmpeg_exe(), os.X_OK)


def test_system_is_the_ffmpeg_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_ffmpeg(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    use_ffmpeg("system")
    assert ffmpeg_exe() == str(fake)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BackendUnavailable, match="no ffmpeg on PATH"):
        ffmpeg_exe()


def test_a_path_is_used_as_is_and_checked(tmp_path: Path) -> None:
    fake = fake_ffmpeg(tmp_path)
    use_ffmpeg(str(fake))
    assert ffmpeg_exe() == str(fake)
    use_ffmpeg(str(tmp_path / "missing" / "ffmpeg"))
    with pytest.raises(BackendUnavailable, match="no executable file"):
        ffmpeg_exe()


def test_choices_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="video.ffmpeg = 'ffmpeg'"):
        use_ffmpeg("ffmpeg")
    monkeypatch.setenv(ENVIRONMENT, "relative/ffmpeg")
    with pytest.raises(ConfigError, match=ENVIRONMENT):
        ffmpeg_exe()


def test_the_environment_wins_over_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_ffmpeg(tmp_path)
    use_ffmpeg(str(fake))
    monkeypatch.setenv(ENVIRONMENT, "bundled")
    assert is_bundled(ffmpeg_exe())
    monkeypatch.delenv(ENVIRONMENT)
    assert ffmpeg_exe() == str(fake)


def test_identity_names_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = ffmpeg_identity()
    assert bundled.startswith("ffmpeg ") and "x264 core " in bundled
    assert ffmpeg_identity() == bundled
    if shutil.which("ffmpeg") is None and not IN_CI:
        return
    monkeypatch.setenv(ENVIRONMENT, "system")
    system = ffmpeg_identity()
    assert system.startswith("ffmpeg ") and system != bundled


def test_identity_refuses_what_is_not_ffmpeg(tmp_path: Path) -> None:
    use_ffmpeg(str(fake_ffmpeg(tmp_path)))
    with pytest.raises(BackendUnavailable, match="is it ffmpeg"):
        ffmpeg_identity()


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


def test_bundled_ffmpeg_can_burn_subtitles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With a do-nothing ffmpeg first on PATH, the answer can only come from the bundled binary.
    fake_ffmpeg(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    assert is_bundled(ffmpeg_exe())
    # imageio-ffmpeg's static build has libass; mux_final's burn-in depends on it.
    assert has_libass() is True
