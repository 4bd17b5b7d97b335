"""A real S3-compatible server on loopback: moto's standalone server, which enforces If-None-Match."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest
from components import missing


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a moto S3 server on 127.0.0.1, with fake credentials in the environment."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        missing("moto[server] is not installed", "pip install -e '.[test]'")
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def bucket(s3_server: str, request: pytest.FixtureRequest) -> str:
    """A fresh, empty bucket on the loopback S3 server."""
    import boto3

    name = f"sb-{abs(hash(request.node.nodeid)) % 10**10}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=name)
    return name
