"""Killed at any point of an upload, a rerun resumes or finds the video: never two videos for one file.

The fake holds its reply at the chosen point (after doing the work, as a server that answered into
a connection nobody reads any more) while the test SIGKILLs doit; the rerun must finish with
exactly one video holding the whole file, and youtube.json naming it.
"""

from __future__ import annotations

import math
import os
import signal

import pytest

BLOCK = 256 * 1024


def _kill_at(site, point: str, nth: int = 1) -> str:
    """Run doit publish, SIGKILL it while the fake holds its ``nth`` ``point`` request; what it printed."""
    site.fake.fail(point, nth=nth, action="block")
    process = site.popen("publish")
    try:
        assert site.fake.blocked.wait(90), f"publish never reached {point} #{nth}"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        output = process.communicate(timeout=30)[0]
    site.fake.release.set()
    return output


def _one_video(site) -> None:
    final = (site.build / "final.mp4").read_bytes()
    assert site.fake.uploaded() == [final]
    [video_id] = site.fake.videos
    record = site.record()["video"]
    assert record["id"] == video_id
    assert record["content"] in site.fake.videos[video_id]["snippet"]["description"]
    assert not list((site.root / ".storybuild" / "youtube" / "uploads").glob("*.json"))


def _chunks(site) -> int:
    return math.ceil((site.build / "final.mp4").stat().st_size / BLOCK)


def test_killed_before_the_session_uri_is_known(site) -> None:
    _kill_at(site, "videos.insert")
    assert not site.fake.videos and not (site.build / "youtube.json").exists()
    site.doit("publish")
    _one_video(site)


def test_killed_mid_upload_resumes_from_the_byte_the_server_holds(site) -> None:
    _kill_at(site, "upload.chunk", nth=2)  # the server keeps chunk 2; the client never hears of it
    held = site.fake.bytes_received
    assert held == 2 * BLOCK
    chunks_before = site.fake.calls["upload.chunk"]
    site.doit("publish")
    _one_video(site)
    assert site.fake.calls["videos.insert"] == 1  # the same session, resumed
    assert site.fake.calls["upload.status"] >= 1
    assert site.fake.calls["upload.chunk"] - chunks_before == _chunks(site) - 2  # nothing sent twice
    assert site.fake.bytes_received == (site.build / "final.mp4").stat().st_size


@pytest.mark.parametrize("expired", [False, True], ids=["session-answers", "session-expired"])
def test_killed_after_the_last_chunk_before_the_record(site, expired: bool) -> None:
    _kill_at(site, "upload.chunk", nth=_chunks(site))  # the video exists; the client never learned its id
    assert len(site.fake.videos) == 1 and not (site.build / "youtube.json").exists()
    if expired:
        site.fake.expire_sessions()
    chunks = site.fake.calls["upload.chunk"]
    site.doit("publish")
    _one_video(site)
    assert site.fake.calls["videos.insert"] == 1 and site.fake.calls["upload.chunk"] == chunks
    if expired:  # found through the uploads playlist by the content key, at 1 unit a page
        assert site.fake.calls["playlistItems.list"] >= 2 and site.fake.calls["channels.list"] >= 2


def test_killed_after_the_last_chunk_then_rebuilt_the_finished_video_is_recorded_not_doubled(site) -> None:
    _kill_at(site, "upload.chunk", nth=_chunks(site))  # the video exists; the client never learned its id
    final = site.build / "final.mp4"
    first = final.read_bytes()
    changed = bytearray(first)
    changed[len(changed) // 2] ^= 0xFF  # then final.mp4 is rebuilt with a new picture
    site.replace_built("final_mp4:tiny", final, bytes(changed))
    result = site.doit("publish", check=False)
    assert result.returncode != 0 and "cannot replace" in result.stdout
    assert site.fake.uploaded() == [first]
    assert site.record()["video"]["id"] == next(iter(site.fake.videos))
