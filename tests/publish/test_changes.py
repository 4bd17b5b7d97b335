"""After publishing, each change calls only the endpoint that carries it (counted on the fake)."""

from __future__ import annotations

from collections import Counter

from PIL import Image

from storybuild.store.hashing import file_digest


def _publish_counting(site, *args: str, check: bool = True):
    before = Counter(site.fake.calls)
    result = site.doit("publish", *args, check=check)
    return Counter(site.fake.calls) - before, result


def test_each_change_calls_only_its_endpoint(site) -> None:
    site.doit("publish")
    [video_id] = site.fake.videos

    site.settings({"category": 22, "playlist": None})
    calls, _ = _publish_counting(site)
    assert calls == Counter({"videos.update": 1})
    assert site.fake.videos[video_id]["snippet"]["categoryId"] == "22"
    assert site.record()["video"]["content"] in site.fake.videos[video_id]["snippet"]["description"]

    thumbnail = site.build / "thumbnail.png"
    Image.new("RGB", (1280, 720), (200, 30, 30)).save(site.root / "stories" / "tiny" / "thumbnail.png")  # your own
    calls, _ = _publish_counting(site)
    assert calls == Counter({"thumbnails.set": 1})
    assert site.fake.thumbnails[video_id] == thumbnail.read_bytes()
    assert Image.open(thumbnail).convert("RGB").getpixel((640, 360)) == (200, 30, 30)

    srt = site.build / "story.srt"
    site.replace_built("subtitles:tiny", srt, srt.read_bytes().replace(b"bell", b"BELL"))
    calls, _ = _publish_counting(site)  # final.mp4 is remade with the new soft subtitles: same picture and sound
    assert calls == Counter({"captions.update": 1})
    assert site.record()["video"]["content"] != file_digest(site.build / "final.mp4")  # the file did change
    [caption] = site.fake.captions.values()
    assert b"BELL" in caption["data"]

    site.settings({"category": 22, "playlist": "PLstories"})
    calls, _ = _publish_counting(site)
    assert calls == Counter({"playlistItems.insert": 1})
    assert [i["snippet"]["resourceId"]["videoId"] for i in site.fake.playlists["PLstories"]] == [video_id]

    calls, _ = _publish_counting(site)
    assert calls == Counter()


def test_changed_video_is_refused_unless_asked_for_a_new_one(site) -> None:
    site.doit("publish")
    [old] = site.fake.videos
    final = site.build / "final.mp4"
    changed = bytearray(final.read_bytes())
    changed[len(changed) // 2] ^= 0xFF  # a byte of a picture or sound packet: what YouTube shows changed
    site.replace_built("final_mp4:tiny", final, bytes(changed))
    calls, result = _publish_counting(site, check=False)
    assert result.returncode != 0 and calls == Counter()
    assert "cannot replace" in result.stdout and 'on_video_change = "new"' in result.stdout
    assert site.record()["video"]["id"] == old

    site.settings({"on_video_change": "new"})
    calls, _ = _publish_counting(site)
    assert calls["videos.insert"] == 1 and len(site.fake.videos) == 2
    record = site.record()
    assert record["video"]["id"] != old and [v["id"] for v in record["previous"]] == [old]
    assert site.fake.uploaded()[-1] == final.read_bytes()
