"""How the loopback ComfyUI runs one job: messages in ComfyUI's order, the faults a test asked for, the files.

A job walks its nodes in dependency order, sending ``executing`` per node and ``progress`` per
sampler step, spends the configured time in its sampler (or first output node), and has each
output node write real files (``comfyui_outputs.make``). A workflow identical to one already run
comes from the node cache: every node listed in execution_cached, the same files, none written.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from servers import comfyui_outputs as outputs

_SAMPLERS = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")


@dataclass
class Job:
    """One queued prompt, as the queue and history rows show it."""

    number: int
    prompt_id: str
    prompt: dict
    client_id: str | None
    extra: dict
    outputs: list[str]
    done: asyncio.Event = field(default_factory=asyncio.Event)
    interrupted: bool = False

    def row(self) -> list:
        return [self.number, self.prompt_id, self.prompt, self.extra, self.outputs]


class _Interrupted(Exception):
    """The running job was interrupted (POST /interrupt)."""


class _Failed(Exception):
    """A node raised: the job ends with execution_error."""

    def __init__(self, data: dict) -> None:
        super().__init__(data["exception_message"])
        self.data = data


class JobRunner:
    """Runs the jobs of one server; ``node`` is the node running now (a reconnecting socket is told)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.node: str | None = None

    async def execute(self, job: Job) -> None:
        """Run one job: its messages in ComfyUI's order, its files, its history entry."""
        pid, cid, prompt = job.prompt_id, job.client_id, job.prompt
        await self.server.send("status", self.server.status(), None)
        key = json.dumps(prompt, sort_keys=True)
        cached = self.server.cache.get(key)
        order = execution_order(prompt)
        messages = [["execution_start", {"prompt_id": pid, "timestamp": now_ms()}],
                    ["execution_cached", {"nodes": order if cached else [], "prompt_id": pid, "timestamp": now_ms()}]]
        for event, data in messages:
            await self.server.send(event, data, cid)
        faults = self._take_faults() if cached is None else {}
        try:
            results = cached if cached is not None else await self._run_nodes(job, order, faults)
        except _Interrupted:
            node = self.node
            data = {"prompt_id": pid, "node_id": node, "node_type": prompt.get(node, {}).get("class_type"),
                    "executed": order[:order.index(node)] if node in order else [], "timestamp": now_ms()}
            await self._finish(job, {}, "error", messages, "execution_interrupted", data)
            return
        except _Failed as failed:
            await self._finish(job, {}, "error", messages, "execution_error", failed.data)
            return
        if cached is not None:  # cached output nodes repeat their outputs, same files
            for node, output in results.items():
                await self.server.send("executed", {"node": node, "display_node": node, "output": output, "prompt_id": pid}, cid)
        self.server.cache[key] = results
        await self._finish(job, results, "success", messages, "execution_success", {"prompt_id": pid, "timestamp": now_ms()})

    async def _finish(self, job: Job, results: dict, status: str, messages: list, event: str, data: dict) -> None:
        await self.server.send(event, data, job.client_id)
        self.server.history[job.prompt_id] = {
            "prompt": job.row(), "outputs": results,
            "status": {"status_str": status, "completed": status == "success", "messages": [*messages, [event, data]]},
            "meta": {node: {"node_id": node, "display_node": node} for node in results},
        }
        await self.server.send("status", self.server.status(), None)
        await self.server.send("executing", {"node": None, "prompt_id": job.prompt_id}, job.client_id)

    def _take_faults(self) -> dict[str, bool]:
        taken = {}
        for name in ("drop_socket_jobs", "restart_jobs", "error_jobs", "wrong_size_jobs", "black_jobs"):
            count = getattr(self.server.config, name)
            taken[name] = count > 0
            if count > 0:
                setattr(self.server.config, name, count - 1)
        return taken

    async def _run_nodes(self, job: Job, order: list[str], faults: dict) -> dict:
        pid, cid, prompt = job.prompt_id, job.client_id, job.prompt
        timed = [n for n in order if prompt[n]["class_type"] in _SAMPLERS] or [n for n in order if n in job.outputs][:1]
        results = {}
        for node in order:
            self.node = node
            class_type = prompt[node]["class_type"]
            await self.server.send("progress_state", {"prompt_id": pid, "nodes": {node: {"state": "running"}}}, cid)
            await self.server.send("executing", {"node": node, "display_node": node, "prompt_id": pid}, cid)
            if node in timed:
                await self._spend(job, node, self.server.config.job_time / len(timed), faults)
            if faults.get("error_jobs") and node == timed[-1]:
                raise _Failed({"prompt_id": pid, "node_id": node, "node_type": class_type, "executed": order[:order.index(node)],
                               "exception_message": self.server.config.error_message, "exception_type": "torch.OutOfMemoryError",
                               "traceback": ["Traceback (most recent call last):\n"], "current_inputs": {}, "current_outputs": {},
                               "timestamp": now_ms()})
            if node in job.outputs:
                try:
                    output = await asyncio.to_thread(outputs.make, prompt, node, self.server.root, self.server.config, faults)
                except Exception as exc:  # a node that raises fails its job, as in ComfyUI
                    raise _Failed({"prompt_id": pid, "node_id": node, "node_type": class_type,
                                   "executed": order[:order.index(node)], "exception_message": str(exc),
                                   "exception_type": type(exc).__name__, "traceback": [], "current_inputs": {},
                                   "current_outputs": {}, "timestamp": now_ms()}) from exc
                results[node] = output
                await self.server.send("executed", {"node": node, "display_node": node, "output": output, "prompt_id": pid}, cid)
        return results

    async def _spend(self, job: Job, node: str, seconds: float, faults: dict) -> None:
        steps = self.server.config.steps if job.prompt[node]["class_type"] in _SAMPLERS else 0
        slices = max(steps, 2)
        for index in range(slices):
            await self._sleep(job, seconds / slices)
            if index == slices // 2 - 1:
                await self._midway(job, faults)
            if steps:
                await self.server.send("progress", {"value": index + 1, "max": steps, "prompt_id": job.prompt_id, "node": node}, job.client_id)

    async def _sleep(self, job: Job, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            if job.interrupted:
                raise _Interrupted()
            left = end - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 0.01))

    async def _midway(self, job: Job, faults: dict) -> None:
        if faults.get("drop_socket_jobs"):
            for ws in list(self.server.sockets.get(job.client_id, ())):
                await ws.close(code=1011, message=b"dropped by the test")
        if faults.get("restart_jobs"):
            asyncio.get_running_loop().create_task(self.server.restart_in_loop(self.server.config.restart_down))
            await asyncio.sleep(3600)  # cancelled by the restart


def execution_order(prompt: dict) -> list[str]:
    """Every node after the nodes it reads from (ComfyUI runs them in such an order)."""
    order: list[str] = []

    def visit(node: str) -> None:
        if node in order or node not in prompt:
            return
        for value in (prompt[node].get("inputs") or {}).values():
            if outputs.is_link(value):
                visit(str(value[0]))
        order.append(node)

    for node in prompt:
        visit(node)
    return order


def now_ms() -> int:
    """ComfyUI's message timestamps: wall-clock milliseconds."""
    return int(time.time() * 1000)
