"""Webhooks: a signed JSON event per job state change, delivered at least once, retried for a day.

An event is written to the job store's outbox in the same transaction as the state change it
reports, so it survives any crash; a sender thread posts what is due. The body keeps the bridge's
fields (``job_id, status, type, target_id, completed_at, success, error``) and adds ``event`` and
``event_id``, the same on every attempt, so receivers can drop repeats. Headers, as the big senders
do it (Stripe, Standard Webhooks):

    X-Storybuild-Event-Id:   the event id
    X-Storybuild-Timestamp:  unix seconds of this attempt
    X-Storybuild-Signature:  sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the secret>

Signing the timestamp with the body lets a receiver refuse replays of an old request. Any 2xx is
accepted; anything else, or no answer within ``TIMEOUT``, is retried after 10 s, 20 s, 40 s...
(at most an hour apart) until a day has passed. Each attempt runs in a small pool, so a receiver
that hangs holds one worker for ``TIMEOUT`` at most and never the server or other jobs.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable
from urllib.parse import urlsplit

import httpx

from ..errors import ConfigError
from .jobs import Delivery, Job, JobStore

__all__ = ["WebhookSender", "check_url", "event_maker", "sign", "verify"]

TIMEOUT = 10.0
FIRST_RETRY = 10.0
MAX_RETRY = 3600.0
GIVE_UP_AFTER = 24 * 3600.0
WORKERS = 4


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, tolerance: float = 300.0) -> bool:
    """Whether ``signature`` is ours for ``body`` and ``timestamp`` is recent: what a receiver checks."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def check_url(url: str, allow_private: bool) -> str:
    """``url`` if it may receive webhooks: http(s), and not a loopback or private address unless allowed.

    Private targets are refused by default because a caller could otherwise make the server probe
    its own network (SSRF). The check runs on submit and again before each attempt (DNS may change).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"notify_webhook: expected an http:// or https:// URL, not {url!r}")
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise ConfigError(f"notify_webhook: cannot resolve {parts.hostname!r}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise ConfigError(
                f"notify_webhook: {parts.hostname} is {address}, a loopback, private or reserved address;"
                " set STORYBUILD_WEBHOOK_ALLOW_PRIVATE=1 to allow it"
            )
    return url


def payload(job: Job, event: str) -> dict[str, Any]:
    """The JSON body of ``event`` about ``job``."""
    return {
        "event_id": uuid.uuid4().hex, "event": event, "job_id": job.id, "status": job.status, "type": job.kind,
        "target_id": job.target_id, "story": job.story, "scene": job.scene, "progress": job.progress,
        "created_at": job.created_at, "completed_at": job.finished_at,
        "success": job.status == "completed", "error": job.error, "updated_at": job.updated_at,
    }


def event_maker(event: str) -> Callable[[Job], list[Delivery]]:
    """What ``JobStore.save`` calls to queue ``event`` for the job's webhook, if it has one."""

    def make(job: Job) -> list[Delivery]:
        if not job.webhook:
            return []
        body = payload(job, event)
        now = time.time()
        return [Delivery(event_id=body["event_id"], job_id=job.id, url=job.webhook, body=json.dumps(body),
                         status="pending", attempts=0, next_at=now, created_at=now)]

    return make


class WebhookSender:
    """Posts due deliveries from the outbox, each at most ``WORKERS`` at a time, with backoff."""

    def __init__(self, store: JobStore, secret: str, allow_private: bool, *, first_retry: float = FIRST_RETRY,
                 timeout: float = TIMEOUT, client: httpx.Client | None = None) -> None:
        self.store, self.secret, self.allow_private = store, secret, allow_private
        self.first_retry = first_retry
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="webhook")
        self._sending: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="storybuild-webhooks", daemon=True)

    def start(self) -> None:
        """Start sending (pending deliveries from before a restart included)."""
        self._thread.start()

    def wake(self) -> None:
        """Look at the outbox now (an event was just queued)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop sending; what is not delivered stays in the outbox."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stopping:
            with self._lock:
                free, sending = WORKERS - len(self._sending), set(self._sending)
            due = self.store.due_deliveries(time.time(), free, sending) if free > 0 else []
            for delivery in due:
                with self._lock:
                    self._sending.add(delivery.event_id)
                self._pool.submit(self._attempt, delivery)
            following = self.store.next_delivery_at()
            wait = 1.0 if following is None else min(1.0, max(0.05, following - time.time()))
            self._wake.wait(timeout=wait)
            self._wake.clear()

    def _attempt(self, delivery: Delivery) -> None:
        try:
            error = self._post(delivery)
            if error is None:
                self.store.record_attempt(delivery, "delivered", time.time(), None)
                return
            retry_at = time.time() + min(MAX_RETRY, self.first_retry * 2 ** delivery.attempts)
            given_up = retry_at - delivery.created_at > GIVE_UP_AFTER
            self.store.record_attempt(delivery, "dead" if given_up else "pending", retry_at, error)
        finally:
            with self._lock:
                self._sending.discard(delivery.event_id)
            self._wake.set()

    def _post(self, delivery: Delivery) -> str | None:
        """One attempt: None if the receiver took it, else why not."""
        try:
            check_url(delivery.url, self.allow_private)
        except ConfigError as exc:
            return str(exc)
        body = delivery.body.encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json", "User-Agent": "storybuild-webhooks",
            "X-Storybuild-Event-Id": delivery.event_id, "X-Storybuild-Timestamp": timestamp,
            "X-Storybuild-Signature": sign(self.secret, timestamp, body),
        }
        try:
            answer = self.client.post(delivery.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
