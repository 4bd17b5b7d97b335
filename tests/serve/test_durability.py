"""kill -9 of the server mid-build: no job is lost, and the rerun redoes nothing that had finished.

"Finished" is a journal record (a task's action completed); a record per (stage, item) means each
artifact was made once across both servers' builds, though the first build was stopped midway.
"""

from __future__ import annotations

import time
from collections import Counter

from conftest import Project

from .conftest import ServerProcess, free_port
from .test_api import _builds_of, _variant


def test_kill_9_mid_build_loses_no_job_and_redoes_nothing(built: Project):
    story = built.root / "stories" / "fresh"
    story.mkdir()
    (story / "story.txt").write_text(_variant("fresh", 2), encoding="utf-8")
    mark = built.mark()
    port = free_port()
    first = ServerProcess(built, port, "--max-concurrent", "1")
    try:
        building = first.server.submit("/api/generate/project/fresh", priority="high")
        queued = [first.server.submit("/api/generate/project/tiny", target=t) for t in ("cast", "subtitles")]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(built.records()) - mark < 6:
            time.sleep(0.05)
        assert len(built.records()) - mark >= 6, "the build did not get under way"
        first.kill()
    finally:
        first.stop()
    finished_before = len(built.records()) - mark
    assert _builds_of(built.root), "the build should outlive the killed server (its own session)"

    second = ServerProcess(built, port, "--max-concurrent", "1")
    try:
        status = second.server.wait_job(building, limit=120)
        assert status["status"] == "completed", status
        assert status["runs"] == 2, "the interrupted job runs again"
        for job in queued:
            assert second.server.wait_job(job)["status"] == "completed"
    finally:
        second.stop()
    records = built.records()[mark:]
    made = Counter((r["stage"], r["item"]) for r in records if r["item"].startswith("fresh"))
    assert len(records) > finished_before, "the second server finished the build"
    runs = {r["run"] for r in records if r["item"].startswith("fresh")}
    assert len(runs) >= 2, "the build a killed server left is stopped, and a new one finishes the work"
    assert [key for key, count in made.items() if count > 1] == [], "finished work was redone"
    assert ("final_mp4", "fresh") in made
    assert (built.build / "fresh" / "final.mp4").is_file()
