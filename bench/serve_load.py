"""Load on ``storybuild serve``: many clients polling job status while a few submit jobs, on loopback.

Usage: python bench/serve_load.py [--duration 60] [--pollers 50] [--submitters 5] [--interval 0.05]

A temporary project holds one copy of the tiny test story per submitter; the server runs as its
own process (``python -m storybuild.serve``), as a user would start it, with the default three
builds at once. Each submitter queues a ``cast`` job for its story about once a second; each
poller asks ``GET /api/status`` of a random known job every ``--interval`` seconds. Every loop
ends at the deadline. Prints request counts, errors, and status latency percentiles; no verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "tests" / "data" / "tiny"
DODO = "from storybuild.graph import *  # noqa\nfrom storybuild.graph import doit_config\n\nDOIT_CONFIG = doit_config()\n"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def _submitter(client: httpx.AsyncClient, story: str, deadline: float, jobs: list[str], stats: dict) -> None:
    while time.monotonic() < deadline:
        began = time.perf_counter()
        try:
            answer = await client.post(f"/api/generate/project/{story}",
                                       json={"target": "cast", "priority": random.choice(["low", "normal", "high"])})
            stats["submit_ms"].append((time.perf_counter() - began) * 1000)
            if answer.status_code == 202:
                jobs.append(answer.json()["job_id"])
            else:
                stats["errors"].append(f"submit {answer.status_code}")
        except httpx.HTTPError as exc:
            stats["errors"].append(f"submit {type(exc).__name__}")
        await asyncio.sleep(1.0)


async def _poller(client: httpx.AsyncClient, deadline: float, jobs: list[str], interval: float, stats: dict) -> None:
    while time.monotonic() < deadline:
        if not jobs:
            await asyncio.sleep(0.05)
            continue
        job = random.choice(jobs)
        began = time.perf_counter()
        try:
            answer = await client.get(f"/api/status/{job}")
            stats["status_ms"].append((time.perf_counter() - began) * 1000)
            if answer.status_code != 200:
                stats["errors"].append(f"status {answer.status_code}")
        except httpx.HTTPError as exc:
            stats["errors"].append(f"status {type(exc).__name__}")
        await asyncio.sleep(interval)


async def _load(url: str, args: argparse.Namespace) -> dict:
    stats: dict = {"status_ms": [], "submit_ms": [], "errors": []}
    jobs: list[str] = []
    limits = httpx.Limits(max_connections=args.pollers + args.submitters + 5)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        deadline = time.monotonic() + args.duration
        await asyncio.gather(
            *(_submitter(client, f"tiny-{n}", deadline, jobs, stats) for n in range(args.submitters)),
            *(_poller(client, deadline, jobs, args.interval, stats) for _ in range(args.pollers)),
        )
        finished = (await client.get("/api/jobs", params={"status": "completed", "limit": 500})).json()
    stats["jobs"], stats["completed"] = len(jobs), len(finished)
    return stats


def main() -> int:
    """Run the load and print what it measured."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--pollers", type=int, default=50)
    parser.add_argument("--submitters", type=int, default=5)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between one poller's requests")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="serve-load-")) / "project"
    (root / "stories").mkdir(parents=True)
    (root / "dodo.py").write_text(DODO, encoding="utf-8")
    for n in range(args.submitters):
        shutil.copytree(TINY, root / "stories" / f"tiny-{n}")
    port = _port()
    server = subprocess.Popen([sys.executable, "-m", "storybuild.serve", "--root", str(root), "--port", str(port)],
                              cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        stats = asyncio.run(_load(url, args))
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(root.parent, ignore_errors=True)
    status = stats["status_ms"]
    print(f"duration {args.duration:.0f} s, {args.pollers} pollers, {args.submitters} submitters, loopback")
    print(f"status requests {len(status)} ({len(status) / args.duration:.0f}/s), submissions {len(stats['submit_ms'])},"
          f" jobs completed in the window {stats['completed']} of {stats['jobs']}")
    print(f"errors {len(stats['errors'])}" + (f": {sorted(set(stats['errors']))[:5]}" if stats["errors"] else ""))
    if status:
        print(f"status latency ms: p50 {statistics.median(status):.1f}  p90 {_percentile(status, 0.9):.1f}"
              f"  p99 {_percentile(status, 0.99):.1f}  max {max(status):.1f}")
    if stats["submit_ms"]:
        print(f"submit latency ms: p50 {statistics.median(stats['submit_ms']):.1f}"
              f"  p99 {_percentile(stats['submit_ms'], 0.99):.1f}")
    return 1 if stats["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
