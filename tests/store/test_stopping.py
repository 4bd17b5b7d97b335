"""install_signal_handlers: Ctrl-C and SIGTERM stop doit's main thread and tell worker waits to give up."""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storybuild.stopping import install_signal_handlers, stop_requested


@pytest.fixture
def default_handlers() -> Iterator[None]:
    """Both signals at Python's defaults for the test, the stop flag clear; all put back after."""
    term = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    interrupt = signal.signal(signal.SIGINT, signal.default_int_handler)
    stop_requested.clear()
    yield
    signal.signal(signal.SIGTERM, term)
    signal.signal(signal.SIGINT, interrupt)
    stop_requested.clear()


def test_nothing_is_installed_on_import_or_by_opening_the_db(tmp_path: Path) -> None:
    code = (
        "import signal, storybuild.stopping, storybuild.store.db\n"
        "from doit.dependency import JSONCodec\n"
        f"storybuild.store.db.WalSqliteDB({str(tmp_path / 'db.sqlite3')!r}, JSONCodec()).dump()\n"
        "print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL,"
        " signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["True", "True"], done.stderr


def test_sigterm_becomes_keyboard_interrupt_once_and_sets_the_flag(default_handlers: None) -> None:
    install_signal_handlers()
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGTERM)
    assert stop_requested.is_set()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, "a second SIGTERM should kill"


def test_ctrl_c_sets_the_flag_a_worker_thread_sees(default_handlers: None) -> None:
    install_signal_handlers()
    seen = threading.Event()

    def worker() -> None:
        if stop_requested.wait(timeout=10):
            seen.set()

    thread = threading.Thread(target=worker)
    thread.start()
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
    thread.join(timeout=10)
    assert seen.is_set()
    assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler


def test_processes_forked_from_doit_die_of_sigterm(default_handlers: None) -> None:
    install_signal_handlers()
    fork = multiprocessing.get_context("fork")
    running = fork.Event()
    worker = fork.Process(target=_work_for_a_while, args=(running,))
    worker.start()
    assert running.wait(timeout=10)
    worker.terminate()
    worker.join(timeout=10)
    assert worker.exitcode == -signal.SIGTERM


def test_handlers_set_by_someone_else_are_left_alone(default_handlers: None) -> None:
    def theirs(signum: int, frame: object) -> None:
        """Someone else's handler."""

    signal.signal(signal.SIGTERM, theirs)
    signal.signal(signal.SIGINT, theirs)
    install_signal_handlers()
    assert signal.getsignal(signal.SIGTERM) is theirs
    assert signal.getsignal(signal.SIGINT) is theirs


def test_no_handler_is_set_from_another_thread(default_handlers: None) -> None:
    thread = threading.Thread(target=install_signal_handlers)
    thread.start()
    thread.join()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _work_for_a_while(running: Any) -> None:
    """A forked worker's job: say it started, then take long enough to be stopped."""
    running.set()
    time.sleep(30)
