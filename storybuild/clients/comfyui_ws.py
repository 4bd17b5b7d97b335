"""One WebSocket per ComfyUI client, read by one thread that hands each message to its prompt's queue.

ComfyUI sends a prompt's messages only to the socket whose clientId submitted it, and may send them
before the POST /prompt reply arrives; so the socket is opened before the first submission, kept
open across jobs (no connect cost per job), and messages for a prompt nobody waits on yet are kept
until someone does. When the socket drops, every waiter is told (``DROPPED``) and falls back to
polling /history; the next ``connect()`` opens a new socket.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import OrderedDict
from typing import Any

__all__ = ["DROPPED", "EventStream"]

#: Put on every waiter's queue when the socket goes away.
DROPPED = ("_dropped", {})

# Messages kept for prompts nobody waits on yet: enough for the POST race and a re-attach, bounded
# so a server busy with other clients' prompts cannot grow it without end.
_UNCLAIMED_PROMPTS = 256
_UNCLAIMED_PER_PROMPT = 512
# After a failed connect, wait before trying again (doubling per failure, up to the max): waiters
# poll meanwhile, and a server that never completes the handshake costs one open_timeout per pause.
_RECONNECT_PAUSE, _RECONNECT_PAUSE_MAX = 1.0, 30.0


class EventStream:
    """The client's WebSocket, its reader thread and the per-prompt message queues."""

    def __init__(self, ws_url: str, *, open_timeout: float) -> None:
        self.ws_url = ws_url
        self.open_timeout = open_timeout
        self._lock = threading.Lock()  # the socket and queues; held briefly, by the reader too
        self._connecting = threading.Lock()  # one connect at a time; held for a whole handshake
        self._socket: Any = None
        self._reader: threading.Thread | None = None
        self._queues: dict[str, queue.SimpleQueue] = {}
        self._unclaimed: OrderedDict[str, list[tuple[str, dict]]] = OrderedDict()
        self._retry_at = 0.0
        self._pause = _RECONNECT_PAUSE
        self._closed = False
        #: Bumped each time a socket is lost, so a waiter can tell it may have missed messages.
        self.drops = 0
        #: Bumped each time a socket opens: messages sent before it are not on it.
        self.opened = 0

    @property
    def connected(self) -> bool:
        """Whether a socket is open and being read now."""
        return self._socket is not None

    def connect(self) -> bool:
        """Open the socket if it is not open; False (waiters poll instead) when that fails."""
        with self._connecting:
            if self._socket is not None:
                return True
            if self._closed or time.monotonic() < self._retry_at:
                return False
            opened: dict[str, Any] = {}
            ready = threading.Event()
            reader = threading.Thread(target=self._run, args=(opened, ready), daemon=True,
                                      name=f"comfyui-ws {self.ws_url}")
            reader.start()
            ready.wait()
            with self._lock:
                if "socket" not in opened or opened.get("lost"):
                    self._retry_at = time.monotonic() + self._pause
                    self._pause = min(self._pause * 2, _RECONNECT_PAUSE_MAX)
                    return False
                self._socket, self._reader = opened["socket"], reader
                self._pause = _RECONNECT_PAUSE
                self.opened += 1
                return True

    def subscribe(self, prompt_id: str) -> queue.SimpleQueue:
        """The queue of ``prompt_id``'s messages, holding any that arrived before this call."""
        with self._lock:
            box = self._queues.get(prompt_id)
            if box is None:
                box = self._queues[prompt_id] = queue.SimpleQueue()
                for message in self._unclaimed.pop(prompt_id, ()):
                    box.put(message)
            return box

    def unsubscribe(self, prompt_id: str) -> None:
        """Stop keeping messages for ``prompt_id``."""
        with self._lock:
            self._queues.pop(prompt_id, None)
            self._unclaimed.pop(prompt_id, None)

    def close(self) -> None:
        """Close the socket for good and wait for the reader to end."""
        with self._lock:
            self._closed = True
            socket, reader = self._socket, self._reader
        if socket is not None:
            socket.close()
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=5)

    def _run(self, opened: dict[str, Any], ready: threading.Event) -> None:
        """The reader thread: open the socket (reporting to ``connect``), then read until it drops."""
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        try:
            # No compression: messages are small, and deflate costs more than it saves on a LAN.
            with connect(self.ws_url, open_timeout=self.open_timeout, compression=None,
                         max_size=None) as socket:
                opened["socket"] = socket
                ready.set()
                self._read(socket, opened)
        except (OSError, WebSocketException, TimeoutError):
            pass
        finally:
            ready.set()

    def _read(self, socket: Any, opened: dict[str, Any]) -> None:
        from websockets.exceptions import WebSocketException

        try:
            while True:
                frame = socket.recv()
                if isinstance(frame, str):  # binary frames are preview images
                    self._dispatch(frame)
        except (OSError, WebSocketException):
            pass
        finally:
            with self._lock:
                opened["lost"] = True  # connect() must not install a socket that is already gone
                if self._socket is socket:
                    self._socket = None
                self.drops += 1
                waiting = list(self._queues.values())
            for box in waiting:
                box.put(DROPPED)

    def _dispatch(self, frame: str) -> None:
        try:
            message = json.loads(frame)
            kind, data = message["type"], message.get("data") or {}
        except (ValueError, KeyError, TypeError):
            return
        prompt_id = data.get("prompt_id") if isinstance(data, dict) else None
        if not isinstance(prompt_id, str):
            return  # status broadcasts and reconnect notices: nothing to route
        with self._lock:
            box = self._queues.get(prompt_id)
            if box is None:
                kept = self._unclaimed.setdefault(prompt_id, [])
                self._unclaimed.move_to_end(prompt_id)
                if len(kept) < _UNCLAIMED_PER_PROMPT:
                    kept.append((kind, data))
                while len(self._unclaimed) > _UNCLAIMED_PROMPTS:
                    self._unclaimed.popitem(last=False)
                return
        box.put((kind, data))
