"""What ComfyUI's answers mean, in storybuild's words: rejections, failures, progress and outputs.

Kept apart from the client so the wire handling (HTTP, WebSocket, retries) reads on its own, and so
these pure functions can be checked on recorded server answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from storybuild.errors import BackendError

__all__ = ["ExecutionFailed", "Progress", "WorkflowRejected", "output_files", "rejection", "failure"]

# Output kinds a history entry lists files under: ComfyUI's savers use "images" (also for animated
# video and WEBP, flagged "animated"), "audio"; VideoHelperSuite uses "gifs"; some custom nodes "video(s)".
_FILE_KINDS = ("images", "gifs", "videos", "video", "audio")


class WorkflowRejected(BackendError):
    """ComfyUI refused the workflow before running it (HTTP 400 on POST /prompt)."""


class ExecutionFailed(BackendError):
    """A node raised while ComfyUI ran the workflow."""


def output_files(outputs: dict, node_id: str | None = None) -> list[dict]:
    """The file refs ({filename, subfolder, type}) in a history entry's outputs, of one node or all."""
    nodes = [outputs.get(node_id) or {}] if node_id is not None else list(outputs.values())
    files = []
    for node_output in nodes:
        for kind in _FILE_KINDS:
            for item in node_output.get(kind) or ():
                if isinstance(item, dict) and "filename" in item:
                    files.append(item)
    return files


def rejection(url: str, body: Any) -> WorkflowRejected:
    """The error for a 400 answer to POST /prompt, listing every node error ComfyUI gave."""
    body = body if isinstance(body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    lines = [f"ComfyUI at {url} rejected the workflow: {error.get('message') or 'no reason given'}"
             + (f" ({error['details']})" if error.get("details") else "")]
    if error.get("type") == "invalid_prompt" and "does not exist" in str(error.get("message")):
        lines.append("  install the custom node that provides it (see the workflow's README), then restart ComfyUI")
    for node, report in sorted((body.get("node_errors") or {}).items()):
        class_type = report.get("class_type", "?")
        for item in report.get("errors") or ():
            extra = item.get("extra_info") or {}
            where = f" input {extra['input_name']}" if extra.get("input_name") else ""
            details = f": {item['details']}" if item.get("details") else ""
            lines.append(f"  node {node} ({class_type}){where}: {item.get('type')}: {item.get('message')}{details}")
    return WorkflowRejected("\n".join(lines), service=url)


def failure(url: str, prompt_id: str, data: dict) -> ExecutionFailed:
    """The error for an execution_error message (or the same record in a history entry)."""
    node, node_type = data.get("node_id", "?"), data.get("node_type", "?")
    exception = f"{data.get('exception_type', '')}: {data.get('exception_message', '')}".strip(": ")
    message = f"ComfyUI at {url}: node {node} ({node_type}) failed in job {prompt_id}: {exception}"
    if _out_of_memory(data):
        message += ("\n  the GPU ran out of memory: set quality = \"draft\" (or a smaller resolution or"
                    " frame count) for this stage, or free the GPU of other work")
    return ExecutionFailed(message, service=url)


def _out_of_memory(data: dict) -> bool:
    text = f"{data.get('exception_type', '')} {data.get('exception_message', '')}".lower()
    return any(sign in text for sign in ("out of memory", "outofmemory", "allocation on device"))


class Progress:
    """Turns a job's messages into short status strings: ``comfyui host:port KSampler 12/30 41s``."""

    def __init__(self, host: str, classes: dict[str, str], report: Callable[[str], None] | None) -> None:
        self.host, self.classes, self.report = host, classes, report
        self.started = time.monotonic()
        self.node: str | None = None

    def executing(self, node: str | None) -> None:
        """A node started running."""
        self.node = node
        self._say("")

    def queued(self) -> None:
        """The job still waits in the server's queue."""
        if self.node is None:
            self._say("")

    def step(self, node: str | None, value: Any, maximum: Any) -> None:
        """A sampling node finished a step."""
        if node is not None:
            self.node = node
        self._say(f" {value}/{maximum}")

    def _say(self, steps: str) -> None:
        if self.report is None:
            return
        what = self.classes.get(self.node or "", self.node) if self.node is not None else "queued"
        self.report(f"comfyui {self.host} {what}{steps} {time.monotonic() - self.started:.0f}s")
