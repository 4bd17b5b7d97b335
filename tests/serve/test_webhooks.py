"""Webhooks against loopback receivers: retried until accepted, one event id, signed; none can stall."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from storybuild.serve.webhooks import verify

SECRET = "test-secret"


class Receiver:
    """A loopback webhook receiver answering from a script per path or path#event (codes, 0: hang), then 200."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.scripts: dict[str, list[int]] = {}
        self.hanging = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event = json.loads(body)["event"]
                script = receiver.scripts.get(f"{self.path}#{event}") or receiver.scripts.setdefault(self.path, [])
                code = script.pop(0) if script else 200
                receiver.calls.append({"path": self.path, "headers": dict(self.headers), "body": body, "code": code,
                                       "at": time.monotonic()})
                if code == 0:  # hang: hold the connection without answering
                    receiver.hanging.set()
                    receiver.release.wait(30)
                    return
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self, path: str, event: str) -> list[dict]:
        """Calls on ``path`` that carried ``event`` and were answered 2xx."""
        return [c for c in self.calls if c["path"] == path and c["code"] == 200
                and json.loads(c["body"])["event"] == event]

    def wait(self, path: str, event: str, limit: float = 30) -> dict:
        """The accepted call of ``event`` on ``path``, once it comes."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            found = self.accepted(path, event)
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no accepted {event} on {path} in {limit}s: {[c['path'] for c in self.calls]}")

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


def test_failing_receiver_gets_the_event_once_accepted_same_id_signed(serve, receiver):
    receiver.scripts["/hook#job.started"] = [500, 503]  # the started event's first two attempts fail
    server = serve(webhook_first_retry=0.2)
    job = server.submit("/api/generate/project/tiny", target="cast", notify_webhook=f"{receiver.url}/hook")
    assert server.wait_job(job)["status"] == "completed"
    done = receiver.wait("/hook", "job.succeeded")
    receiver.wait("/hook", "job.started")
    started = [c for c in receiver.calls if json.loads(c["body"])["event"] == "job.started"]
    assert [c["code"] for c in started] == [500, 503, 200], "retried until accepted, then never again"
    assert len({c["headers"]["X-Storybuild-Event-Id"] for c in started}) == 1
    assert len({json.loads(c["body"])["event_id"] for c in started}) == 1
    for call in [*started, done]:
        headers = call["headers"]
        assert verify(SECRET, headers["X-Storybuild-Timestamp"], call["body"], headers["X-Storybuild-Signature"])
        assert not verify("other-secret", headers["X-Storybuild-Timestamp"], call["body"],
                          headers["X-Storybuild-Signature"])
    body = json.loads(done["body"])
    assert body["job_id"] == job and body["status"] == "completed" and body["success"] is True
    assert body["type"] == "project" and body["target_id"] == "tiny" and body["completed_at"]
    assert not verify(SECRET, done["headers"]["X-Storybuild-Timestamp"], done["body"] + b" ",
                      done["headers"]["X-Storybuild-Signature"])


def test_a_hanging_receiver_delays_no_other_job(serve, receiver):
    receiver.scripts["/hang"] = [0, 0, 0]
    server = serve(webhook_first_retry=0.2, webhook_timeout=20)
    stuck = server.submit("/api/generate/project/tiny", target="cast", notify_webhook=f"{receiver.url}/hang")
    assert receiver.hanging.wait(30), "the hanging receiver was never called"
    other = server.submit("/api/generate/project/tiny", target="subtitles", notify_webhook=f"{receiver.url}/ok")
    assert server.wait_job(other)["status"] == "completed"
    receiver.wait("/ok", "job.succeeded")
    assert server.wait_job(stuck)["status"] == "completed"
    assert not receiver.release.is_set(), "all of this happened while the receiver still hung"


def test_pending_deliveries_survive_a_restart(serve, receiver):
    receiver.scripts["/down"] = [500] * 50
    first = serve(webhook_first_retry=0.3)
    job = first.submit("/api/generate/project/tiny", target="cast", notify_webhook=f"{receiver.url}/down")
    first.wait_job(job)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(json.loads(c["body"])["event"] == "job.succeeded"
                                                 for c in receiver.calls):
        time.sleep(0.05)
    refused = {json.loads(c["body"])["event_id"] for c in receiver.calls if json.loads(c["body"])["event"] == "job.succeeded"}
    assert refused, "the first server tried"
    first.stop()
    receiver.scripts["/down"] = []
    second = serve(webhook_first_retry=0.3)
    done = receiver.wait("/down", "job.succeeded")
    assert json.loads(done["body"])["event_id"] in refused, "the same event, not a new one"
    assert second.http.get(f"/api/status/{job}").json()["status"] == "completed"
