"""What the ComfyUI client costs per job, and whether the server ever waits on us.

Against the loopback ComfyUI (tests/servers/comfyui.py, in its own process like a real one) with a
fixed time per job, N consecutive jobs go through one client, three ways:

- ``run``: the resume-safe path backends use (GET /history, GET /queue, POST /prompt, wait, GET /history);
- ``submit+wait``: a fresh prompt_id needs no look first (POST, wait, GET /history);
- ``pipelined``: job i+1 is submitted before waiting on job i, so one job is always queued.

Per way it prints the client overhead per job (client wall time minus the server's execution time
of that job, both on one monotonic clock) and the server's idle gap between consecutive jobs.
Targets: overhead <= 20 ms per job, idle gap <= 5 ms. Prints numbers; asserts nothing.

Run: .venv/bin/python bench/comfyui_overhead.py [--jobs N] [--job-time S]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from storybuild.clients.comfyui import ComfyUIClient

TESTS = Path(__file__).resolve().parent.parent / "tests"


@contextmanager
def loopback_comfyui(job_time: float) -> Iterator[str]:
    """The loopback server in a child process (it holds its own GIL, as ComfyUI would); its URL."""
    child = subprocess.Popen([sys.executable, "-m", "servers.comfyui", "--job-time", str(job_time), "--steps", "10"],
                             cwd=TESTS, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield child.stdout.readline().strip()
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def executions(url: str) -> list[tuple[str, float, float]]:
    """(prompt_id, start, end) of every job the server ran; CLOCK_MONOTONIC is shared by processes."""
    return [tuple(row) for row in httpx.get(f"{url}/loopback/executions").json()]


def prompt(seed: int) -> dict:
    """A text-to-image workflow; a new seed each job, so ComfyUI's cache never answers."""
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse", "clip": ["1", 1]}},
        "3": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "4": {"class_type": "KSampler", "inputs": {
            "model": ["1", 0], "seed": seed, "steps": 10, "cfg": 7.0, "sampler_name": "euler",
            "scheduler": "normal", "positive": ["2", 0], "negative": ["2", 0], "latent_image": ["3", 0],
            "denoise": 1.0}},
        "5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0], "vae": ["1", 2]}},
        "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": f"bench/{seed}"}},
    }


def measure(url: str, client: ComfyUIClient, way: str, jobs: int, first_seed: int) -> tuple[list[float], list[float]]:
    """(overhead per job, idle gaps) in seconds for ``jobs`` jobs done ``way``."""
    ids = [str(uuid.uuid4()) for _ in range(jobs)]
    walls: list[float] = []
    before = len(executions(url))
    if way == "pipelined":
        start = time.monotonic()
        client.submit(prompt(first_seed), ids[0])
        for n, prompt_id in enumerate(ids):
            if n + 1 < jobs:
                client.submit(prompt(first_seed + n + 1), ids[n + 1])
            client.wait(prompt_id, timeout=60)
        walls = [(time.monotonic() - start) / jobs] * jobs
    else:
        for n, prompt_id in enumerate(ids):
            start = time.monotonic()
            if way == "run":
                client.run(prompt(first_seed + n), prompt_id, timeout=60)
            else:
                client.submit(prompt(first_seed + n), prompt_id)
                client.wait(prompt_id, timeout=60)
            walls.append(time.monotonic() - start)
    runs = executions(url)[before:]
    busy = [end - begin for _, begin, end in runs]
    gaps = [runs[i + 1][1] - runs[i][2] for i in range(len(runs) - 1)]
    return [wall - work for wall, work in zip(walls, busy)], gaps


def main() -> None:
    """Run the three ways and print their numbers."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--job-time", type=float, default=0.05, help="seconds the server spends per job")
    args = parser.parse_args()
    with loopback_comfyui(args.job_time) as url:
        client = ComfyUIClient(url)
        client.run(prompt(-1), str(uuid.uuid4()), timeout=60)  # warm up: socket, connections, imports
        print(f"{args.jobs} jobs of {args.job_time * 1000:.0f} ms each, one client, loopback ComfyUI")
        print(f"{'way':<12} {'overhead/job ms (median, mean, max)':>36} {'idle gap ms (median, max)':>28}")
        for n, way in enumerate(("run", "submit+wait", "pipelined")):
            overhead, gaps = measure(url, client, way, args.jobs, n * 10_000)
            if way == "pipelined":
                overhead_text = f"{'':>12}{statistics.mean(overhead) * 1000:>8.1f}{'':>8}"
            else:
                overhead_text = (f"{statistics.median(overhead) * 1000:>12.1f}{statistics.mean(overhead) * 1000:>8.1f}"
                                 f"{max(overhead) * 1000:>8.1f}")
            print(f"{way:<12} {overhead_text:>36} {statistics.median(gaps) * 1000:>18.1f}{max(gaps) * 1000:>10.1f}")
        client.close()
    print("targets: overhead <= 20 ms/job; idle gap <= 5 ms (keep one job queued: submit the next before waiting)")


if __name__ == "__main__":
    main()
