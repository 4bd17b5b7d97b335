"""The REST surface over real HTTP on loopback: stories, jobs, status, events, artifacts, security."""

from __future__ import annotations

import http.client
import json
import os
import time
from pathlib import Path

import httpx
import pytest

from storybuild.errors import ConfigError
from storybuild.serve.settings import ServeConfig


def _variant(slug_words: str, scenes: int = 3) -> str:
    """A story unlike tiny (so nothing of it is in the cache): every build of it generates."""
    body = [f"title: {slug_words}"]
    for n in range(scenes):
        body += [f"(place{n}) A {slug_words} place number {n}, a lamp and a {slug_words} door.",
                 f"[female_eve] We are at {slug_words} {n}.", f"{slug_words} waited by the door {n}."]
    return "\n".join(body) + "\n"


def test_health_capabilities_and_docs(serve):
    server = serve()
    assert server.http.get("/api/health").json() == {"status": "ok", "running": 0, "pending": 0}
    capabilities = server.http.get("/api/capabilities").json()
    assert "storybook" in capabilities["backends"]["image"] and "espeak" in capabilities["backends"]["tts"]
    assert capabilities["servers"]["comfyui"][0]["answers"] is False
    assert set(capabilities["quality_presets"]) >= {"draft", "standard", "high"}
    assert server.http.get("/docs").status_code == 200
    paths = server.http.get("/openapi.json").json()["paths"]
    for path in ("/api/generate/project/{story}", "/api/generate/scene/{story}/{scene}", "/api/status/{job_id}",
                 "/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/events", "/api/reroll/{story}/{stage}/{item}",
                 "/api/artifacts/{story}/{path}", "/api/stories/{story}"):
        assert path in paths


def test_put_story_lists_it_and_refuses_what_does_not_parse(serve, built):
    server = serve()
    answer = server.http.put("/api/stories/second", content=_variant("second"),
                             headers={"Content-Type": "text/plain"})
    assert answer.status_code == 200, answer.text
    assert (built.root / "stories" / "second" / "story.txt").read_text() == _variant("second")
    assert {s["story"] for s in server.http.get("/api/stories").json()} == {"tiny", "second"}
    details = server.http.get("/api/stories/second").json()
    assert [s["id"] for s in details["scene_details"]] == ["place0", "place1", "place2"]

    bad = server.http.put("/api/stories/broken", json={"story_txt": "title: x\n\n[ada Hello\n"})
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("stories/broken/story.txt:3:"), bad.text
    assert not (built.root / "stories" / "broken" / "story.txt").exists()
    toml = server.http.put("/api/stories/second", json={"story_txt": _variant("second"),
                                                       "story_toml": "[video]\nfps = 'fast'\n"})
    assert toml.status_code == 422 and "fps" in toml.text
    assert server.http.put("/api/stories/Bad_Name", content="x").status_code == 400
    assert server.http.put("/api/stories/latin", content=b"caf\xe9\n").status_code == 422
    assert server.http.put("/api/stories/json", json={"story": "x"}).status_code == 422
    huge = server.http.put("/api/stories/huge", content=b"a" * (7 * 1024 * 1024))
    assert huge.status_code == 413
    assert server.http.get("/api/stories/nothere").status_code == 404


def test_scene_job_builds_its_picture_and_clip(serve, built):
    server = serve()
    (built.build / "tiny" / "scenes" / "barn.png").unlink()
    job = server.submit("/api/generate/scene/tiny/barn", priority="high", quality_preset="draft")
    status = server.wait_job(job)
    assert status["status"] == "completed", status
    assert status["progress"] == 1.0 and status["type"] == "scene" and status["target_id"] == "tiny/barn"
    assert status["targets"] == ["scene:tiny/barn", "animate:tiny/barn"]
    assert status["stages"]["scene"] == {"done": 1, "total": 1}
    made = {a["path"]: a for a in status["result"]["artifacts"]}
    assert made["scenes/barn.png"]["outcome"] == "reused"
    picture = server.http.get(made["scenes/barn.png"]["url"])
    assert picture.status_code == 200 and picture.content == (built.build / "tiny/scenes/barn.png").read_bytes()
    listed = server.http.get("/api/jobs", params={"status": "completed", "limit": 10}).json()
    assert [j["job_id"] for j in listed] == [job]
    assert server.http.get("/api/jobs", params={"status": "nonsense"}).status_code == 422
    assert server.http.post("/api/generate/scene/tiny/nowhere", json={}).status_code == 404
    assert server.http.post("/api/generate/project/tiny", json={"target": "nonsense"}).status_code == 422
    assert server.http.post("/api/generate/project/tiny", json={"priority": "urgent"}).status_code == 422


def test_events_stream_until_the_job_ends(serve):
    server = serve()
    job = server.submit("/api/generate/project/tiny", target="subtitles")
    seen = []
    with server.http.stream("GET", f"/api/jobs/{job}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
            if len(seen) > 200:
                break
    assert seen and seen[-1]["status"] == "completed" and seen[-1]["progress"] == 1.0


def test_range_requests_seek_the_video(serve, built):
    server = serve()
    data = (built.build / "tiny" / "final.mp4").read_bytes()
    part = server.http.get("/api/artifacts/tiny/final.mp4", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert part.content == data[100:200]
    tail = server.http.get("/api/artifacts/tiny/final.mp4", headers={"Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == data[-16:]
    assert server.http.get("/api/artifacts/tiny/final.mp4", headers={"Range": f"bytes={len(data) + 5}-"}).status_code == 416
    whole = server.http.get("/api/artifacts/tiny/final.mp4")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes" and whole.content == data


def _raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client normalizes its dots or escapes)."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_paths_out_of_the_build_folder_are_refused(serve, built):
    secret = b"the project's own dodo"
    (built.root / "outside.txt").write_bytes(secret)
    (built.root / "build" / "outside.txt").write_bytes(secret)
    os.symlink(built.root / "outside.txt", built.build / "tiny" / "link.txt")
    os.symlink(built.root, built.build / "tiny" / "up")
    os.symlink(built.root / "stories", built.build / "linked")
    server = serve()
    attempts = [
        "/api/artifacts/tiny/../../outside.txt", "/api/artifacts/tiny/..%2F..%2Foutside.txt",
        "/api/artifacts/tiny/%2E%2E/%2E%2E/outside.txt", "/api/artifacts/tiny/..%5C..%5Coutside.txt",
        "/api/artifacts/tiny/%2F" + str(built.root / "outside.txt").lstrip("/"),
        "/api/artifacts/tiny//" + str(built.root / "outside.txt").lstrip("/"),
        "/api/artifacts/..%2Foutside.txt/x", "/api/artifacts/tiny/%00/outside.txt",
        "/api/artifacts/tiny/link.txt", "/api/artifacts/tiny/up/outside.txt", "/api/artifacts/linked/tiny/story.txt",
        "/api/artifacts/tiny/./../outside.txt", "/api/stories/..%2F..%2Fetc",
    ]
    for path in attempts:
        status, body = _raw_get(server.url, path)
        assert status in (400, 404), (path, status)
        assert secret not in body and b"title:" not in body, path
    assert _raw_get(server.url, "/api/artifacts/tiny/cast.json")[0] == 200


def test_cancel_and_priorities(serve, built):
    """One build at a time: a long job runs, three wait; the queue takes them high, normal, low."""
    server = serve(max_concurrent=1)
    mark = built.mark()
    assert server.http.put("/api/stories/slow", content=_variant("slow", 4)).status_code == 200
    blocker = server.submit("/api/generate/project/slow")
    server.wait_job(blocker, states=("running",))
    waiting = {p: server.submit("/api/generate/project/tiny", priority=p, target="cast")
               for p in ("low", "normal", "high")}
    dropped = server.submit("/api/generate/project/tiny", priority="high", target="cast")
    assert server.http.delete(f"/api/jobs/{dropped}").json()["status"] == "cancelled"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(built.records()) <= mark:
        time.sleep(0.1)  # the build is under way: something finished
    builds = _builds_of(built.root)
    assert builds, "no doit process for the running job"
    assert server.http.get(f"/api/status/{waiting['high']}").json()["status"] == "pending"
    answer = server.http.delete(f"/api/jobs/{blocker}")
    assert answer.status_code == 200
    cancelled = server.wait_job(blocker, limit=60)
    assert cancelled["status"] == "cancelled"
    assert not any(Path(f"/proc/{pid}").exists() and _state(pid) != "Z" for pid in builds), "the build still runs"
    done = {p: server.wait_job(j) for p, j in waiting.items()}
    assert all(s["status"] == "completed" for s in done.values()), done
    order = sorted(done, key=lambda p: done[p]["started_at"])
    assert order == ["high", "normal", "low"]
    assert server.http.get(f"/api/status/{dropped}").json()["started_at"] is None
    assert server.http.delete("/api/jobs/nope").status_code == 404


def _builds_of(root: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            if b"storybuild.serve.build" in cmdline and os.readlink(proc / "cwd") == str(root):
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return found


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return "gone"


def test_token_is_required_off_loopback_and_checked(serve):
    with pytest.raises(ConfigError, match="STORYBUILD_API_TOKEN"):
        ServeConfig(root=Path("."), host="0.0.0.0").check()
    server = serve(token="s3cret")
    anonymous = httpx.Client(base_url=server.url, timeout=10)
    assert anonymous.get("/api/health").status_code == 200
    for path in ("/api/stories", "/api/jobs", "/api/capabilities", "/api/artifacts/tiny/cast.json", "/"):
        assert anonymous.get(path).status_code == 401, path
    assert anonymous.get("/api/stories", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert server.http.get("/api/stories").status_code == 200
    # A browser signs in once with ?token=: the cookie then lets pictures and events in, nothing else does.
    browser = httpx.Client(base_url=server.url, timeout=10)
    assert browser.get("/", params={"token": "wrong"}).status_code == 401
    assert browser.get("/", params={"token": "s3cret"}).status_code == 200
    assert browser.get("/api/artifacts/tiny/cast.json").status_code in (200, 404)  # let in: the file may not exist
    assert browser.get("/api/stories").status_code == 200
    forger = httpx.Client(base_url=server.url, timeout=10, cookies={"storybuild_token": "wrong"})
    assert forger.get("/api/stories").status_code == 401


def test_private_webhook_targets_are_refused_unless_allowed(serve):
    server = serve(allow_private_webhooks=False)
    for url in ("http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://[::1]/x", "file:///etc/passwd"):
        answer = server.http.post("/api/generate/project/tiny", json={"notify_webhook": url})
        assert answer.status_code == 422, url
    assert server.http.get("/api/jobs").json() == []


def test_a_failing_build_names_stage_story_and_item(serve, built):
    import shutil

    shutil.rmtree(built.build / "tiny" / "scenes")
    (built.build / "tiny" / "scenes").write_text("a file where the folder of pictures goes")
    server = serve()
    status = server.wait_job(server.submit("/api/generate/scene/tiny/barn"))
    assert status["status"] == "failed", status
    error = status["error"]
    assert (error["stage"], error["story"], error["item"]) == ("scene", "tiny", "tiny/barn"), error
    assert "scenes" in error["message"] and status["message"]
    assert status["result"]["counts"].get("failed") == 1


def test_rerolling_a_line_voices_it_again_and_the_page_offers_it(serve, built):
    server = serve()
    page = server.http.get("/stories/tiny").text
    assert 'data-stage="tts" data-item="0001"' in page  # every line has its reroll button
    answer = server.http.post("/api/reroll/tiny/tts/0001", json={})
    assert answer.status_code == 202, answer.text
    status = server.wait_job(answer.json()["job_id"])
    assert status["status"] == "completed", status
    assert status["targets"][0] == "tts:tiny/0001"
    assert '"0001" = 1' in (built.root / "stories" / "tiny" / "seeds.toml").read_text()
    tts = [r for r in built.records() if r["stage"] == "tts" and r["item"] == "tiny/0001"]
    assert tts[-1]["outcome"] == "generated"  # a new seed is a new take, never the old one from the cache
    assert server.http.post("/api/reroll/tiny/tts/9999", json={}).status_code == 404
