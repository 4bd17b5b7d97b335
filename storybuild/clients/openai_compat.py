"""The OpenAI-compatible chat API (LM Studio, Ollama, llama.cpp's server, vLLM): protocol only.

One sync client on httpx. It knows the wire and the quirks of real servers, nothing of stories:
``complete`` sends one chat completion (streamed when a build task is watching, for a live token
count, and so Ctrl-C stops it between tokens); ``ask`` gets a reply that validates against a
pydantic model, falling back ``json_schema`` -> ``json_object`` -> plain instructions and
remembering, per server and process, the first that the server accepted (llama.cpp-based servers
answer ``json_schema`` with an error, some with a 500). Requests to one server are limited to
``max_in_flight`` at once across every thread, because a local server answers one at a time and
doit runs tasks in threads.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from ..backends.context import current_job
from ..errors import BackendError, BackendUnavailable, TransientError
from ..stopping import Stopped, stop_requested

__all__ = [
    "AnswerTimeout", "ChatClient", "ChatReply", "ServerFailed", "ServerRefused", "extract_json", "strip_reasoning",
]

Answer = TypeVar("Answer", bound=BaseModel)
Reply = TypeVar("Reply")

MODES = ("json_schema", "json_object", "plain")
_PROGRESS_EVERY = 0.5  # seconds between live token counts

_locks = threading.Lock()
_gates: dict[str, threading.BoundedSemaphore] = {}
_accepted: dict[str, str] = {}  # base URL -> the structured-output mode it accepted

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^```(?:json)?\s*\n?(.*?)\n?```$", re.DOTALL | re.IGNORECASE)


class ServerRefused(BackendError):
    """The server answered 4xx: this request, as sent, will not succeed (unknown model, bad field)."""

    def __init__(self, message: str, *, status: int, service: str) -> None:
        super().__init__(message, service=service)
        self.status = status


class AnswerTimeout(TransientError):
    """No answer within the timeout: not retried, a model that slow is as slow the next time."""


class ServerFailed(TransientError):
    """The server answered 5xx (or an error inside a stream) and bounded retries did not help."""

    def __init__(self, message: str, *, status: int, service: str) -> None:
        super().__init__(message, service=service)
        self.status = status


@dataclass(frozen=True)
class ChatReply:
    """One completion: the assistant's text as sent, why it stopped, and how many tokens it took."""

    content: str
    finish_reason: str | None
    tokens: int


def strip_reasoning(content: str) -> str:
    """``content`` without ``<think>`` blocks, including an unterminated one that opens the reply."""
    text = _THINK.sub("", content).strip()
    if text.lower().startswith("<think>"):
        return ""
    return text


def extract_json(content: str) -> str:
    """The JSON text of a reply: reasoning stripped, a ```json fence or prose around it removed."""
    text = strip_reasoning(content)
    fenced = _FENCE.match(text)
    if fenced:
        return fenced.group(1).strip()
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    end = max(text.rfind("}"), text.rfind("]"))
    return text[start : end + 1] if 0 <= start < end else text


def _error_detail(response: httpx.Response) -> str:
    """The server's error message: ``{"error": {"message"}}`` or LM Studio's ``{"error": "..."}``."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return response.text[:300].strip() or response.reason_phrase
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error or response.text[:300])


class ChatClient:
    """Chat completions and model listing against one OpenAI-compatible server."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 300.0,
        max_in_flight: int = 1,
        retries: int = 3,
        backoff: float = 0.5,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries, self.backoff = retries, backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = http or httpx.Client(timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)))
        self.http.headers.update(headers)
        self.timeout = timeout
        with _locks:
            self._gate = _gates.setdefault(self.base_url, threading.BoundedSemaphore(max_in_flight))

    # -- the wire -------------------------------------------------------------------------------

    def models(self, wanted: str = "") -> list[str]:
        """The ids ``GET /models`` lists: the models this server can answer with now.

        ``wanted`` is the model the caller means to use, named in errors.
        """
        return self._retrying(lambda: self._models(wanted), self.retries)

    def _models(self, wanted: str) -> list[str]:
        url = f"{self.base_url}/models"
        try:
            response = self.http.get(url, timeout=min(10.0, self.timeout))
        except httpx.TransportError as exc:
            raise self._down(wanted, exc) from exc
        if response.status_code >= 400:
            raise BackendUnavailable(
                f"{url} answered {response.status_code}: {_error_detail(response)}", service=self.base_url
            )
        try:
            return [str(entry["id"]) for entry in response.json()["data"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise BackendError(
                f"{url} did not list models as an OpenAI-compatible server does: {response.text[:200]!r}",
                service=self.base_url,
            ) from exc

    def complete(
        self,
        model: str,
        messages: list[dict[str, str]],
        *,
        response_format: dict[str, Any] | None = None,
        retries: int | None = None,
        **sampling: Any,
    ) -> ChatReply:
        """One chat completion; connection errors and 5xx retried ``retries`` times with backoff.

        ``sampling`` holds ``temperature``, ``seed``, ``max_tokens`` (None values are not sent).
        Streamed when a build task is running, so the display shows tokens as they come.
        """
        job = current_job()
        payload: dict[str, Any] = {"model": model, "messages": messages, "stream": job is not None}
        payload.update({key: value for key, value in sampling.items() if value is not None})
        if response_format is not None:
            payload["response_format"] = response_format
        return self._retrying(lambda: self._send(payload, job), self.retries if retries is None else retries)

    def _retrying(self, call: Callable[[], Reply], retries: int) -> Reply:
        """``call`` in a slot of this server, again after a pause if the server is down or failing."""
        for attempt in range(retries + 1):
            try:
                with _Slot(self._gate):
                    return call()
            except AnswerTimeout:
                raise  # a model too slow for the timeout is as slow the next time
            except (TransientError, BackendUnavailable):
                if attempt == retries:
                    raise
            self._pause(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _send(self, payload: dict[str, Any], job: Any) -> ChatReply:
        url, model = f"{self.base_url}/chat/completions", payload["model"]
        try:
            if payload["stream"]:
                return self._send_streamed(url, payload, job)
            response = self.http.post(url, json=payload)
            self._check_status(response, model)
            return self._parse(response, model)
        except httpx.TimeoutException as exc:
            raise AnswerTimeout(
                f"{self.base_url} (model {model}) gave no answer within {self.timeout:g}s; a slow model "
                "needs a larger [servers] llm_timeout",
                service=self.base_url,
            ) from exc
        except httpx.ConnectError as exc:
            raise self._down(model, exc) from exc
        except httpx.TransportError as exc:
            raise TransientError(
                f"the connection to {self.base_url} (model {model}) failed: {exc}", service=self.base_url
            ) from exc

    def _down(self, model: str, exc: Exception) -> BackendUnavailable:
        wanted = f" (model {model})" if model else ""
        then = f", then `lms load {model}`" if model else ""
        return BackendUnavailable(
            f"no language-model server answers at {self.base_url}{wanted}: {type(exc).__name__}; start it "
            f"(`lms server start`{then}) or point LM_STUDIO_BASE_URL / [servers] llm_url at it",
            service=self.base_url,
        )

    def _check_status(self, response: httpx.Response, model: str) -> None:
        if response.status_code < 400:
            return
        response.read()
        detail = _error_detail(response)
        message = f"{self.base_url} (model {model}) answered {response.status_code}: {detail}"
        if response.status_code >= 500:
            raise ServerFailed(message, status=response.status_code, service=self.base_url)
        if response.status_code in (400, 404) and "model" in detail.lower():
            message += f"; is it loaded? run `lms load {model}`"
        raise ServerRefused(message, status=response.status_code, service=self.base_url)

    def _parse(self, response: httpx.Response, model: str) -> ChatReply:
        try:
            body = response.json()
            choice = body["choices"][0]
            content = choice["message"].get("content") or ""
            tokens = int((body.get("usage") or {}).get("completion_tokens") or 0)
            return ChatReply(content=content, finish_reason=choice.get("finish_reason"), tokens=tokens)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise BackendError(
                f"{self.base_url} (model {model}) answered something that is not a chat completion: "
                f"{response.text[:200]!r}",
                service=self.base_url,
            ) from exc

    def _send_streamed(self, url: str, payload: dict[str, Any], job: Any) -> ChatReply:
        model, started, shown = payload["model"], time.monotonic(), 0.0
        parts: list[str] = []
        tokens, finish, usage = 0, None, 0
        with self.http.stream("POST", url, json=payload) as response:
            self._check_status(response, model)
            for event in _events(response):
                if stop_requested.is_set():
                    raise Stopped()
                if "error" in event:
                    raise ServerFailed(
                        f"{self.base_url} (model {model}) failed mid-answer: {event['error']}",
                        status=response.status_code,
                        service=self.base_url,
                    )
                usage = int((event.get("usage") or {}).get("completion_tokens") or usage)
                for choice in event.get("choices") or []:
                    delta = choice.get("delta") or {}
                    if delta.get("content") or delta.get("reasoning_content"):
                        tokens += 1
                    parts.append(delta.get("content") or "")
                    finish = choice.get("finish_reason") or finish
                now = time.monotonic()
                if now - shown >= _PROGRESS_EVERY:
                    shown = now
                    job.progress(f"llm {model} {tokens} tokens {now - started:.0f}s")
        return ChatReply(content="".join(parts), finish_reason=finish, tokens=usage or tokens)

    @staticmethod
    def _pause(seconds: float) -> None:
        if stop_requested.wait(seconds):
            raise Stopped()

    # -- structured answers -----------------------------------------------------------------------

    def ask(
        self,
        model: str,
        messages: list[dict[str, str]],
        schema: type[Answer],
        *,
        name: str,
        attempts: int = 3,
        **sampling: Any,
    ) -> Answer:
        """A reply validated as ``schema``; an invalid one is sent back with the error, ``attempts`` times."""
        conversation = list(messages)
        problem = ""
        for _ in range(attempts):
            reply = self._structured(model, conversation, schema, name, sampling)
            if reply.finish_reason == "length":
                raise BackendError(
                    f"{self.base_url} (model {model}): the {name} answer was cut at "
                    f"max_tokens={sampling.get('max_tokens')}; raise [llm] options.max_tokens",
                    service=self.base_url,
                )
            text = extract_json(reply.content)
            try:
                return schema.model_validate_json(text)
            except ValidationError as exc:
                problem = _describe(exc)
            conversation = [
                *conversation,
                {"role": "assistant", "content": text},
                {"role": "user", "content": f"That answer is not valid: {problem}. "
                 "Answer again with only the corrected JSON object."},
            ]
        raise BackendError(
            f"{self.base_url} (model {model}) gave no valid {name} answer in {attempts} tries; last "
            f"problem: {problem}. Try another model ([llm] options.model) or more retries (options.retries)",
            service=self.base_url,
        )

    def _structured(
        self, model: str, messages: list[dict[str, str]], schema: type[BaseModel], name: str, sampling: dict
    ) -> ChatReply:
        """One completion in the best structured-output mode this server accepts."""
        with _locks:
            known = _accepted.get(self.base_url)
        candidates = (known,) if known else MODES
        json_schema = schema.model_json_schema()
        for mode in candidates:
            final = mode == candidates[-1]
            try:
                reply = self.complete(
                    model,
                    _instructed(messages, json_schema) if mode != "json_schema" else messages,
                    response_format=_response_format(mode, name, json_schema),
                    retries=None if final else 0,
                    **sampling,
                )
            except (ServerRefused, ServerFailed):
                if final:
                    raise
                continue
            with _locks:
                _accepted.setdefault(self.base_url, mode)
            return reply
        raise AssertionError("unreachable")


class _Slot:
    """One of the server's in-flight places, waited for so that a stop request still gets through."""

    def __init__(self, gate: threading.BoundedSemaphore) -> None:
        self.gate = gate

    def __enter__(self) -> None:
        while not self.gate.acquire(timeout=0.2):
            if stop_requested.is_set():
                raise Stopped()

    def __exit__(self, *exc: object) -> None:
        self.gate.release()


def _events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The JSON payloads of a server-sent-event stream, up to ``data: [DONE]``."""
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            yield json.loads(data)
        except ValueError:
            continue


def _response_format(mode: str, name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}
    if mode == "json_object":
        return {"type": "json_object", "schema": schema}
    return None


def _instructed(messages: list[dict[str, str]], schema: dict[str, Any]) -> list[dict[str, str]]:
    """``messages`` with the schema spelled out, for servers that cannot be given it as a format."""
    rule = "Answer with one JSON object only, no prose, matching this JSON Schema:\n" + json.dumps(schema)
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": f"{messages[0]['content']}\n\n{rule}"}, *messages[1:]]
    return [{"role": "system", "content": rule}, *messages]


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors()[:8]:
        where = ".".join(str(part) for part in error["loc"])
        problems.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(problems)
