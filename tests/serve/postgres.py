"""A real PostgreSQL server for the tests, from the Debian package, in a temp folder; no mocks.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user. With
CI=true a missing PostgreSQL fails the tests; elsewhere they are skipped.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from components import missing


def _missing(what: str) -> None:
    missing(what, "apt-get install postgresql")


@contextmanager
def running_postgres(port: int) -> Iterator[str]:
    """Start PostgreSQL on 127.0.0.1:``port``; yield the URL of its ``postgres`` database."""
    try:
        import psycopg
    except ImportError:
        _missing("psycopg is not installed (pip install 'storybuild[serve]')")
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        _missing("no PostgreSQL server under /usr/lib/postgresql")
    bin_dir = Path(bins[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="storybuild-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                    "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)
    server = subprocess.Popen(
        [*as_user, str(bin_dir / "postgres"), "-D", str(data), "-k", str(sockets), "-p", str(port),
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(url, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"PostgreSQL did not start on port {port}") from None
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(server.pid, 2)  # SIGINT: PostgreSQL's fast shutdown
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(url: str, name: str) -> str:
    """A new empty database on the server at ``url``; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"
