"""A loopback OpenAI-compatible server that answers from a script, for protocol tests.

Real HTTP on 127.0.0.1 (stdlib ThreadingHTTPServer, HTTP/1.1, chunked server-sent events when a
request asks to stream), so the client is tested on the wire, not against mocks of our own code.
Each test scripts the replies and then reads ``requests`` to see what the client sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer to a chat completion."""

    content: str = "{}"
    finish_reason: str = "stop"
    status: int = 200
    error: Any = None  # the body's "error" value when status >= 400
    reasoning: str = ""  # sent as reasoning_content beside the content
    delay: float = 0.0  # seconds before answering (a hang when longer than the client's timeout)
    raw: str | None = None  # a body sent as is instead of a chat completion


@dataclass
class Request:
    """What the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def response_format(self) -> str | None:
        """The structured-output mode asked for, or None."""
        return (self.body.get("response_format") or {}).get("type")

    @property
    def prompt(self) -> str:
        """Every message's text, joined."""
        return "\n".join(message.get("content") or "" for message in self.body.get("messages", []))


Handler = Callable[[Request], Reply]


class OpenAIServer:
    """The server: ``script`` replies in order, then ``handler`` (default: an empty JSON object)."""

    def __init__(self, models: tuple[str, ...] = ("qwen/qwen3-14b",)) -> None:
        self.models = list(models)
        self.script: list[Reply] = []
        self.handler: Handler = lambda request: Reply()
        self.reject_json_schema = False  # answer json_schema with a 500, as some llama.cpp builds do
        self.chunk_delay = 0.0  # seconds between streamed chunks
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        """The base URL, as LM Studio's ``http://127.0.0.1:1234/v1``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def chats(self) -> list[Request]:
        """The chat-completion requests received so far."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> OpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next_reply(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self.reject_json_schema and request.response_format == "json_schema":
                return Reply(status=500, error={"message": "response_format type json_schema is not supported"})
            if self.script:
                return self.script.pop(0)
        return self.handler(request)

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _completion(model: str, reply: Reply) -> dict[str, Any]:
    message = {"role": "assistant", "content": reply.content}
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(reply.content.split()), "total_tokens": 10},
    }


def _handler_class(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _send_json(self, status: int, body: Any) -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            with server._lock:
                server.requests.append(Request("GET", self.path, dict(self.headers)))
            if self.path.rstrip("/").endswith("/models"):
                data = [{"id": name, "object": "model", "owned_by": "local"} for name in server.models]
                self._send_json(200, {"object": "list", "data": data})
            else:
                self._send_json(404, {"error": f"Unexpected endpoint {self.path}"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            request = Request("POST", self.path, dict(self.headers), body)
            reply = server._next_reply(request)
            model = body.get("model", "")
            # In flight from the request's arrival until its answer is complete but for the last
            # bytes: a client may send its next request as soon as it has read them, before this
            # thread runs again, and that is not two requests at once.
            server._enter()
            left = False

            def leave() -> None:
                nonlocal left
                if not left:
                    left = True
                    server._leave()

            try:
                time.sleep(reply.delay)
                if body.get("stream") and reply.status < 400 and reply.raw is None and model in server.models:
                    self._stream(model, reply, leave)
                    return
                leave()
                if model not in server.models:
                    self._send_json(404, {"error": {"message": f"model '{model}' not found", "type": "invalid_request_error"}})
                elif reply.status >= 400:
                    self._send_json(reply.status, {"error": reply.error or "server error"})
                elif reply.raw is not None:
                    self._send_json(200, reply.raw)
                else:
                    self._send_json(200, _completion(model, reply))
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                leave()

        def _chunk(self, event: Any) -> None:
            data = f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _stream(self, model: str, reply: Reply, leave: Callable[[], None]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            pieces = [("reasoning_content", word) for word in reply.reasoning.split(" ") if word]
            content = reply.content
            pieces += [("content", content[i : i + 4]) for i in range(0, len(content), 4)]
            base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": model}
            for key, text in pieces:
                self._chunk({**base, "choices": [{"index": 0, "delta": {key: text}, "finish_reason": None}]})
                time.sleep(server.chunk_delay)
            self._chunk({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]})
            leave()
            self._chunk("[DONE]")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler
