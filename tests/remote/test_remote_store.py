"""The remote cache stores: create-only writes, verified reads, on a real S3 server and a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from storybuild.errors import CacheError
from storybuild.store.remote import FolderRemote, RemoteUnavailable, open_remote


def _files(folder: Path, **contents: bytes) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, data in contents.items():
        path = folder / name.replace("_", ".")
        path.write_bytes(data)
        paths[path.name] = path
    return paths


@pytest.fixture(params=["s3", "folder"])
def remote(request, tmp_path: Path):
    if request.param == "s3":
        endpoint, bucket = request.getfixturevalue("s3_server"), request.getfixturevalue("bucket")
        return open_remote(f"s3://{bucket}/team/cache", endpoint=endpoint)
    (tmp_path / "share").mkdir()
    return open_remote((tmp_path / "share").as_uri())


def test_push_then_fetch_gives_the_same_bytes(remote, tmp_path: Path) -> None:
    files = _files(tmp_path / "made", clip_mp4=b"\x00video" * 1000, meta_json=b"{}")
    assert remote.push("k1", files) is True
    staging = tmp_path / "staging"
    staging.mkdir()
    assert remote.fetch("k1", staging) is True
    assert (staging / "clip.mp4").read_bytes() == files["clip.mp4"].read_bytes()
    assert (staging / "meta.json").read_bytes() == b"{}"
    assert remote.keys() == {"k1"}


def test_a_miss_is_false(remote, tmp_path: Path) -> None:
    assert remote.fetch("absent", tmp_path) is False
    assert remote.has("absent") is False


def test_second_writer_never_overwrites_the_first(remote, tmp_path: Path) -> None:
    first = _files(tmp_path / "a", line_wav=b"first take")
    second = _files(tmp_path / "b", line_wav=b"other bytes, same key")
    assert remote.push("same", first) is True
    assert remote.push("same", second) is False
    staging = tmp_path / "staging"
    staging.mkdir()
    assert remote.fetch("same", staging)
    assert (staging / "line.wav").read_bytes() == b"first take"


def test_s3_put_is_create_only_on_the_wire(s3_server: str, bucket: str) -> None:
    """If-None-Match: * is really sent: the server refuses a second create of one key."""
    remote = open_remote(f"s3://{bucket}/p", endpoint=s3_server)
    assert remote._put_new("ac/x.json", b"one") is True
    assert remote._put_new("ac/x.json", b"two") is False
    assert remote._get("ac/x.json") == b"one"


def test_corrupted_blob_is_detected_and_leaves_nothing(s3_server: str, bucket: str, tmp_path: Path) -> None:
    import boto3

    remote = open_remote(f"s3://{bucket}/c", endpoint=s3_server)
    files = _files(tmp_path / "made", scene_png=b"P" * 5000)
    remote.push("k", files)
    s3 = boto3.client("s3", endpoint_url=s3_server)
    blob = next(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="c/cas/")["Contents"])
    s3.put_object(Bucket=bucket, Key=blob, Body=b"Q" * 5000)  # same size, other bytes
    staging = tmp_path / "staging"
    staging.mkdir()
    with pytest.raises(CacheError, match="does not match its digest"):
        remote.fetch("k", staging)
    assert list(staging.iterdir()) == []


def test_unreachable_s3_is_remote_unavailable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    remote = open_remote("s3://b/p", endpoint=f"http://127.0.0.1:{port}", region="us-east-1")
    with pytest.raises(RemoteUnavailable, match="s3://b/p"):
        remote.has("k")


def test_missing_share_is_remote_unavailable(tmp_path: Path) -> None:
    with pytest.raises(RemoteUnavailable, match="mounted"):
        FolderRemote(tmp_path / "not-mounted")
