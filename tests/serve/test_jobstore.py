"""The job store on SQLite and on a real PostgreSQL: queue order, outbox, restart recovery, durability."""

from __future__ import annotations

import json
import time

import pytest

from storybuild.serve.jobs import Delivery, Job, JobStore

from .conftest import free_port
from .postgres import fresh_database, running_postgres


@pytest.fixture(scope="module")
def postgres_url():
    with running_postgres(free_port()) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    """A fresh store's URL on each database."""
    if request.param == "sqlite":
        return str(tmp_path / "state" / "serve.sqlite3")
    return fresh_database(request.getfixturevalue("postgres_url"), f"jobs_{tmp_path.name[-20:].lower()}")


def _job(story: str, priority: str = "normal", webhook: str | None = None) -> Job:
    return Job(id="", kind="project", story=story, targets=[f"final_mp4:{story}"], priority=priority, webhook=webhook)


def _event(name: str):
    def make(job: Job) -> list[Delivery]:
        now = time.time()
        return [Delivery(event_id=f"{job.id}-{name}", job_id=job.id, url=job.webhook, status="pending", attempts=0,
                         body=json.dumps({"event": name}), next_at=now, created_at=now)] if job.webhook else []
    return make


def test_queue_order_priorities_and_one_build_per_story(store_url):
    store = JobStore(store_url)
    low = store.create(_job("a", "low"))
    normal = store.create(_job("b"))
    high_a = store.create(_job("a", "high"))
    high_c = store.create(_job("c", "high"))
    assert store.get(low.id).status == "pending" and store.get("nope") is None
    first = store.claim(set())
    assert first.id == high_a.id and first.status == "running" and first.runs == 1
    assert store.claim({"a"}).id == high_c.id, "story a is being built: its other jobs wait"
    assert store.claim({"a", "c"}).id == normal.id
    assert store.claim({"a", "b", "c"}) is None
    assert store.claim({"b", "c"}).id == low.id
    assert [j.id for j in store.list(limit=2)] == [high_c.id, high_a.id]
    assert {j.id for j in store.list("running", 10)} == {low.id, normal.id, high_a.id, high_c.id}
    assert [j.id for j in store.list(story="b")] == [normal.id]
    store.close()


def test_state_changes_and_their_deliveries_are_one_transaction(store_url):
    store = JobStore(store_url)
    job = store.create(_job("a", webhook="http://example.com/hook"))
    job = store.claim(set())
    job.status, job.progress, job.result = "completed", 1.0, {"artifacts": [{"path": "final.mp4"}]}
    job.error = None
    store.save(job, _event("job.succeeded"))
    again = store.get(job.id)
    assert again.status == "completed" and again.result == {"artifacts": [{"path": "final.mp4"}]}
    due = store.due_deliveries(time.time() + 1, 10, set())
    assert [d.event_id for d in due] == [f"{job.id}-job.succeeded"]
    assert store.due_deliveries(time.time() + 1, 10, {due[0].event_id}) == []
    store.record_attempt(due[0], "pending", time.time() + 60, "HTTP 500")
    assert store.due_deliveries(time.time() + 1, 10, set()) == []
    assert store.next_delivery_at() > time.time() + 30
    store.record_attempt(due[0], "delivered", time.time(), None)
    [delivered] = store.deliveries(job.id)
    assert delivered.status == "delivered" and delivered.attempts == 2 and delivered.last_error is None
    assert store.next_delivery_at() is None
    store.close()


def test_jobs_and_outbox_outlive_the_connection_and_running_jobs_are_requeued_first(store_url):
    store = JobStore(store_url)
    waiting = store.create(_job("a", "high"))
    queued = store.create(_job("b", "low", webhook="http://example.com/h"))
    running = store.claim({"a"})
    assert running.id == queued.id
    running.pid, running.pid_start = 999999, 1
    store.save(running, _event("job.started"))
    store.close()  # the server dies here

    reopened = JobStore(store_url)
    [interrupted] = reopened.interrupted()
    assert interrupted.id == running.id and interrupted.pid == 999999
    assert reopened.get(running.id).status == "pending"
    assert reopened.claim(set()).id == running.id, "the interrupted job goes first, whatever its priority"
    assert reopened.claim(set()).id == waiting.id
    assert [d.event_id for d in reopened.due_deliveries(time.time() + 1, 10, set())] == [f"{running.id}-job.started"]
    reopened.close()


def test_the_server_runs_jobs_on_postgres_and_keeps_them(serve, postgres_url, tmp_path):
    url = fresh_database(postgres_url, "server_jobs")
    first = serve(database_url=url)
    job = first.submit("/api/generate/project/tiny", target="cast")
    assert first.wait_job(job)["status"] == "completed"
    first.stop()
    second = serve(database_url=url)
    assert [j["job_id"] for j in second.http.get("/api/jobs").json()] == [job]
    assert second.http.get(f"/api/status/{job}").json()["status"] == "completed"
