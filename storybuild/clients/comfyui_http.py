"""HTTP to one ComfyUI server: bounded retries of what may pass, every error naming the server.

Connection errors and 5xx are retried (5 tries, 0.1 s doubling: 1.5 s in all, which outlasts a
server restart's port gap on loopback without hiding a server that is really gone) and then
raise TransientError; any other 4xx is a BackendError at once, since asking again changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from storybuild.errors import BackendError, TransientError

__all__ = ["TRIES", "ServerHTTP"]

TRIES = 5
_BACKOFF = 0.1


class _ServerError(Exception):
    """An HTTP 5xx, to be retried like a connection error."""


class ServerHTTP:
    """Requests to ``base_url`` through one (thread-safe, pooled) httpx client."""

    def __init__(self, base_url: str, http: httpx.Client) -> None:
        self.base_url = base_url
        self.http = http

    def json(self, method: str, path: str, *, tries: int = TRIES, **kwargs: Any) -> Any:
        """The JSON answer ({} for an empty body) of a request that must succeed."""
        answer = self.request(method, path, tries=tries, **kwargs)
        self.check(answer, f"{method} {path}", answer.content)
        return self.body(answer) if answer.content else {}

    def request(self, method: str, path: str, *, tries: int = TRIES, **kwargs: Any) -> httpx.Response:
        """The answer to a request, after retrying connection errors and 5xx; 4xx are returned."""
        def send() -> httpx.Response:
            answer = self.http.request(method, f"{self.base_url}{path}", **kwargs)
            if answer.status_code >= 500:
                raise _ServerError(f"HTTP {answer.status_code}: {answer.text[:200]}")
            return answer

        return self.retrying(f"{method} {path}", send, tries=tries)

    @contextmanager
    def stream(self, path: str, what: str, params: dict) -> Iterator[httpx.Response]:
        """A streamed GET whose status was checked (call inside ``retrying``)."""
        with self.http.stream("GET", f"{self.base_url}{path}", params=params) as answer:
            self.check(answer, what, answer.read() if answer.status_code >= 400 else b"")
            yield answer

    def retrying(self, what: str, call: Callable[[], Any], *, tries: int = TRIES) -> Any:
        """``call()``, again after connection errors and 5xx, then TransientError naming the server."""
        for attempt in range(tries):
            if attempt:
                time.sleep(_BACKOFF * 2 ** (attempt - 1))
            try:
                return call()
            except (httpx.TransportError, _ServerError) as exc:
                last = exc
        raise TransientError(f"ComfyUI at {self.base_url} failed {what} after {tries} tries: "
                             f"{type(last).__name__}: {last}", service=self.base_url) from last

    @staticmethod
    def pause(attempt: int) -> None:
        """The backoff before try ``attempt + 2``, for callers that retry on their own terms."""
        time.sleep(_BACKOFF * 2 ** attempt)

    def check(self, answer: httpx.Response, what: str, content: bytes) -> None:
        """Raise for an error status: 5xx (retried by ``retrying``) or 4xx (not retried)."""
        if answer.status_code >= 500:
            raise _ServerError(f"HTTP {answer.status_code}")
        if answer.status_code >= 400:
            text = content.decode("utf-8", "replace")[:300]
            raise BackendError(f"ComfyUI at {self.base_url} answered HTTP {answer.status_code} to {what}: {text}",
                               service=self.base_url)

    def body(self, answer: httpx.Response) -> Any:
        """The answer's JSON; a BackendError naming the server if it is not JSON."""
        try:
            return answer.json()
        except ValueError as exc:
            raise BackendError(f"ComfyUI at {self.base_url} answered {answer.request.method} "
                               f"{answer.request.url.path} with something that is not JSON: {answer.text[:200]}",
                               service=self.base_url) from exc
