"""doit publish against the fake YouTube: one upload, then only the calls each change needs."""

from __future__ import annotations

import os
import stat



def _final(site) -> bytes:
    return (site.build / "final.mp4").read_bytes()


def test_publish_uploads_once_with_everything(site) -> None:
    result = site.doit("publish")
    fake = site.fake
    assert fake.uploaded() == [_final(site)]
    video_id = next(iter(fake.videos))
    video = fake.videos[video_id]
    assert video["status"]["selfDeclaredMadeForKids"] is False
    assert video["status"]["privacyStatus"] == "private"
    assert video["snippet"]["categoryId"] == "24"
    assert video["snippet"]["title"] == "The Small Bell"
    record = site.record()["video"]
    assert record["id"] == video_id and record["url"].endswith(video_id)
    assert record["content"] in video["snippet"]["description"]
    assert fake.thumbnails[video_id] == (site.build / "thumbnail.png").read_bytes()
    [caption] = fake.captions.values()
    assert caption["data"] == (site.build / "story.srt").read_bytes() and caption["videoId"] == video_id
    assert fake.calls["videos.insert"] == 1
    assert fake.calls["captions.insert"] == 1 and fake.calls["thumbnails.set"] == 1
    assert not list((site.root / ".storybuild" / "youtube" / "uploads").glob("*.json"))
    # The token file stays private, and neither token shows in what the build printed.
    assert stat.S_IMODE(os.stat(site.token).st_mode) == 0o600
    printed = result.stdout + result.stderr
    token = site.token.read_text()
    for secret in ("1//fake-refresh-token", "fake-client-secret", *fake.access):
        assert secret not in printed
        assert secret in token or secret.startswith("ya29.")

    before = dict(fake.calls)
    site.doit("publish")
    assert dict(fake.calls) == before  # nothing changed: nothing called
    site.doit("clean", "publish")
    assert site.record()["video"]["id"] == video_id  # the record is the only proof: never cleaned
