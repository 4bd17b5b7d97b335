"""A hung ffmpeg is killed with its children: on timeout, on the stop flag, on Ctrl-C."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storybuild.errors import MediaError
from storybuild.media.ffmpeg import ENVIRONMENT, run_ffmpeg, work_timeout
from storybuild.stopping import Stopped, stop_requested

HANG = """#!/bin/sh
# Like an encoder stuck on its input: a child that never ends, and a parent waiting for it.
sleep 300 &
echo "$$ $!" > "{pids}"
wait
"""


@pytest.fixture
def hung_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make "ffmpeg" a script that hangs with a child; returns the file where it writes both pids."""
    pids = tmp_path / "pids"
    script = tmp_path / "ffmpeg"
    script.write_text(HANG.format(pids=pids))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(ENVIRONMENT, str(script))
    return pids


@pytest.fixture
def stop_flag() -> Iterator[None]:
    """The process-wide stop flag, cleared again after the test."""
    stop_requested.clear()
    yield
    stop_requested.clear()


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def started(pids: Path) -> list[int]:
    """The script's own pid and its child's, once it has written them."""
    for _ in range(200):
        if pids.is_file() and len(pids.read_text().split()) == 2:
            return [int(pid) for pid in pids.read_text().split()]
        time.sleep(0.01)
    raise AssertionError("the fake ffmpeg never started")


def gone(pids: list[int]) -> bool:
    """Whether all ``pids`` have ended, allowing a moment for the kernel to finish the kill."""
    for _ in range(100):
        if not any(running(pid) for pid in pids):
            return True
        time.sleep(0.01)
    return False


def test_a_hung_ffmpeg_is_killed_at_its_timeout_with_its_child(hung_ffmpeg: Path, stop_flag: None) -> None:
    begun = time.monotonic()
    with pytest.raises(MediaError, match="gave no result within 1 s and was killed") as caught:
        run_ffmpeg(["-i", "x.mp4", "y.mp4"], "encoding a hung clip", timeout=1.0)
    assert 1.0 <= time.monotonic() - begun < 5
    assert "encoding a hung clip" in str(caught.value)
    assert gone(started(hung_ffmpeg))


def test_the_stop_flag_kills_it_from_a_worker_thread(hung_ffmpeg: Path, stop_flag: None) -> None:
    # doit runs tasks in threads, where Ctrl-C never arrives: the flag is what reaches them.
    raised: list[BaseException] = []

    def work() -> None:
        try:
            run_ffmpeg(["-i", "x.mp4", "y.mp4"], "a clip in a worker", timeout=300)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            raised.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    pids = started(hung_ffmpeg)
    begun = time.monotonic()
    stop_requested.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert time.monotonic() - begun < 2
    assert len(raised) == 1 and isinstance(raised[0], Stopped)
    assert gone(pids)


def test_nothing_starts_once_the_build_is_stopping(hung_ffmpeg: Path, stop_flag: None) -> None:
    stop_requested.set()
    with pytest.raises(Stopped):
        run_ffmpeg(["-version"], "a late start", timeout=300)
    assert not hung_ffmpeg.exists()


def test_ctrl_c_in_the_main_thread_kills_it(hung_ffmpeg: Path, stop_flag: None) -> None:
    # The child runs in its own session, so the terminal's SIGINT reaches only us: we must kill it.
    previous = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(KeyboardInterrupt):
            run_ffmpeg(["-i", "x.mp4", "y.mp4"], "a clip in the main thread", timeout=300)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert gone(started(hung_ffmpeg))


def test_timeouts_grow_with_the_work() -> None:
    floor = work_timeout()
    assert floor >= 60
    second_720p = work_timeout(24, 1280, 720)
    minute_1080p = work_timeout(24 * 60, 1920, 1080, audio_seconds=60)
    assert floor < second_720p < minute_1080p
    # At least 10x what one core needs here (~0.012 s per megapixel-frame): a busy machine is not a hang.
    assert minute_1080p - floor > 10 * 0.012 * 24 * 60 * 1920 * 1080 / 1e6


def test_output_is_collected_without_a_pipe_to_fill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 4 MB on stderr would fill a pipe nobody reads while we poll, and the child would block.
    noisy = tmp_path / "ffmpeg"
    noisy.write_text("#!/bin/sh\nhead -c 4000000 /dev/zero | tr '\\0' 'x' >&2\necho 'the real error' >&2\nexit 3\n")
    noisy.chmod(noisy.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(ENVIRONMENT, str(noisy))
    with pytest.raises(MediaError, match="(?s)noisy step failed \\(ffmpeg exit 3\\).*the real error"):
        run_ffmpeg([], "noisy step", timeout=30)
    assert os.path.exists(noisy)


ORPHAN = """
import os, sys
os.environ["STORYBUILD_FFMPEG"] = sys.argv[1]
from storybuild.media.ffmpeg import run_ffmpeg
run_ffmpeg(["-i", "x.mp4", "y.mp4"], "a clip whose build is killed", timeout=300)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_build_killed_outright_takes_ffmpeg_with_it(tmp_path: Path) -> None:
    # kill -9 runs no cleanup code: only the kernel can end the child, armed with PR_SET_PDEATHSIG.
    pids = tmp_path / "pids"
    script = tmp_path / "ffmpeg"
    script.write_text(f'#!/bin/sh\necho "$$" > "{pids}"\nexec sleep 300\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    build = subprocess.Popen([sys.executable, "-c", ORPHAN, str(script)])
    try:
        for _ in range(500):
            if pids.is_file() and pids.read_text().strip():
                break
            time.sleep(0.01)
        child = int(pids.read_text())
        assert running(child)
    finally:
        build.kill()
        build.wait()
    try:
        assert gone([child])
    finally:
        if running(child):  # the test failed: leave nothing behind
            os.kill(child, signal.SIGKILL)
