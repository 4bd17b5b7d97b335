"""The ComfyUI pool against one, two and four loopback servers with a fixed time per job.

For each server count it runs --jobs distinct jobs from --threads threads (like `doit -n`),
through one ComfyUIPool, and prints the wall time against the ideal (total job time / servers)
and each server's largest idle gap between consecutive jobs while work remained.

Target: wall / ideal <= 1.05 (the GPUs never wait on us).

Run: .venv/bin/python bench/comfyui_pool.py [--jobs 24] [--job-time 0.5] [--threads 8]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from clients.prompts import image_prompt  # noqa: E402
from servers.comfyui import running_comfyui  # noqa: E402

from storybuild.clients.pool import ComfyUIPool  # noqa: E402


def measure(servers: int, jobs: int, job_time: float, threads: int) -> tuple[float, float, float]:
    """Wall seconds, the ideal seconds, and the largest idle gap between jobs on any server."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        running = [stack.enter_context(running_comfyui(Path(tmp) / str(i), job_time=job_time)) for i in range(servers)]
        pool = ComfyUIPool([s.url for s in running])
        stack.callback(pool.close)

        def one(i: int) -> None:
            pool.run(image_prompt(f"bench/{i}", seed=i), str(uuid.uuid4()), timeout=600)

        one(-1)  # connect every socket before timing: a build's first job pays that once
        for server in running:
            server.executions.clear()
        started = time.monotonic()
        with ThreadPoolExecutor(threads) as workers:
            list(workers.map(one, range(jobs)))
        wall = time.monotonic() - started
        gap = 0.0
        for server in running:
            runs = sorted(server.executions, key=lambda run: run[1])
            gap = max([gap, *(b[1] - a[2] for a, b in zip(runs, runs[1:]))])
    return wall, jobs * job_time / servers, gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--job-time", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    print(f"{args.jobs} jobs of {args.job_time:.2f} s from {args.threads} threads")
    print(f"{'servers':>7} {'wall s':>8} {'ideal s':>8} {'ratio':>6} {'max idle gap ms':>16}")
    for servers in (1, 2, 4):
        wall, ideal, gap = measure(servers, args.jobs, args.job_time, args.threads)
        print(f"{servers:>7} {wall:>8.2f} {ideal:>8.2f} {wall / ideal:>6.3f} {gap * 1000:>16.1f}")
    print("target: ratio <= 1.05")


if __name__ == "__main__":
    main()
