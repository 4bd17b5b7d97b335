"""Two clones of a project share one S3 bucket (a real S3 server on loopback): real doit builds."""

from __future__ import annotations

import shutil
from pathlib import Path

import boto3
import pytest

from conftest import DATA, REPO, Project


def _clone(tmp_path: Path, name: str, endpoint: str, bucket: str, mode: str = "read-write") -> Project:
    root = tmp_path / name
    (root / "stories").mkdir(parents=True)
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    shutil.copytree(DATA / "tiny", root / "stories" / "tiny")
    (root / "storybuild.toml").write_text(
        f'[cache]\nremote = "s3://{bucket}/team"\nremote_mode = "{mode}"\nendpoint = "{endpoint}"\n'
    )
    return Project(root)


def _files(project: Project) -> dict[str, bytes]:
    out = project.build / "tiny"
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _generated(project: Project) -> list[str]:
    return [f"{r['stage']}:{r['item']}" for r in project.records() if r["outcome"] == "generated"]


def test_a_second_clone_builds_everything_from_the_bucket(tmp_path, s3_server, bucket) -> None:
    first = _clone(tmp_path, "first", s3_server, bucket)
    first.doit("final_mp4")
    assert _generated(first)
    second = _clone(tmp_path, "second", s3_server, bucket)
    second.doit("final_mp4")
    assert _generated(second) == []
    assert _files(second) == _files(first)
    # A one-line edit in the second clone: that line is voiced, the rest is local or pulled.
    story = second.story("tiny")
    text = story.read_text(encoding="utf-8")
    line = next(l for l in text.splitlines() if l.startswith("["))
    story.write_text(text.replace(line, line + " Indeed."), encoding="utf-8")
    mark = second.mark()
    second.doit("final_wav")
    assert len(second.generated("tts", mark)) == 1


def test_read_only_mode_uploads_nothing(tmp_path, s3_server, bucket) -> None:
    reader = _clone(tmp_path, "reader", s3_server, bucket, mode="read")
    reader.doit("cast")
    listed = boto3.client("s3", endpoint_url=s3_server).list_objects_v2(Bucket=bucket)
    assert listed.get("KeyCount", 0) == 0


def test_a_corrupted_remote_object_is_detected_and_regenerated(tmp_path, s3_server, bucket) -> None:
    first = _clone(tmp_path, "first", s3_server, bucket)
    first.doit("tts")
    s3 = boto3.client("s3", endpoint_url=s3_server)
    blobs = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="team/cas/")["Contents"]]
    for blob in blobs:  # same size, other bytes
        size = s3.head_object(Bucket=bucket, Key=blob)["ContentLength"]
        s3.put_object(Bucket=bucket, Key=blob, Body=b"\0" * size)
    second = _clone(tmp_path, "second", s3_server, bucket)
    done = second.doit("tts")
    assert "does not match its digest" in done.stdout + done.stderr
    assert len(second.generated("tts")) == len(first.generated("tts"))
    assert _files(second) == _files(first)  # made again, the right bytes


def test_a_remote_that_is_down_degrades_to_local_with_one_warning(tmp_path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    alone = _clone(tmp_path, "alone", f"http://127.0.0.1:{port}", "nobucket")
    done = alone.doit("tts")  # must not fail
    output = done.stdout + done.stderr
    assert output.count("is not answering") == 1
    assert alone.generated("tts")


def _local_only(project: Project) -> None:
    (project.root / "storybuild.toml").write_text("")


def _shared_column(output: str) -> dict[str, str]:
    rows = [line.split() for line in output.splitlines()[1:] if line.count(":") == 1 and len(line.split()) == 3]
    return {task: shared for task, _, shared in rows}


def test_push_status_and_pull_by_hand(tmp_path, s3_server, bucket) -> None:
    first = _clone(tmp_path, "first", s3_server, bucket)
    toml = (first.root / "storybuild.toml").read_text()
    _local_only(first)  # built before any remote was configured
    first.doit("final_wav")
    (first.root / "storybuild.toml").write_text(toml)
    before = _shared_column(first.storybuild("cache", "status", "--story", "tiny").stdout)
    assert "tts:tiny/0001" in before and set(before.values()) == {"no"}
    pushed = first.storybuild("cache", "push", "--story", "tiny")
    assert pushed.returncode == 0, pushed.stderr
    after = _shared_column(first.storybuild("cache", "status", "--story", "tiny").stdout)
    assert set(after) == set(before) and set(after.values()) == {"yes"}

    second = _clone(tmp_path, "second", s3_server, bucket)
    pulled = second.storybuild("cache", "pull", "--story", "tiny")
    assert _generated(second) == []  # pulling never generates
    assert pulled.returncode != 0  # the video half was never built by anyone: in neither cache
    assert (second.build / "tiny" / "final.wav").read_bytes() == (first.build / "tiny" / "final.wav").read_bytes()
