"""A CI-like run: a fresh clone with a warm shared cache builds the sample stories.

Starts a real S3-compatible server on loopback (moto's), then:
1. a first clone builds every story in stories/ to final_mp4 with `cache.remote` set (a local full
   build that also pushes what it makes): timed;
2. a second, fresh clone (empty .storybuild) builds the same: timed, counting generations, and the
   bytes it downloaded (the bucket's objects it needed).
Prints both wall times, their ratio, the generations of the second run (target: 0) and the bytes
moved. Asserts nothing.

Run: .venv/bin/python bench/ci_remote_cache.py [-n 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clone(base: Path, name: str, endpoint: str) -> Path:
    root = base / name
    shutil.copytree(ROOT / "stories", root / "stories")
    shutil.copy(ROOT / "dodo.py", root / "dodo.py")
    (root / "storybuild.toml").write_text(f'[cache]\nremote = "s3://bench/ci"\nendpoint = "{endpoint}"\n')
    return root


def _build(root: Path, jobs: int) -> tuple[float, list[dict]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMFYUI_", "LM_STUDIO_", "STORYBUILD_"))}
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "doit", "-n", str(jobs), "final_mp4"], cwd=root, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.monotonic() - started
    log = root / ".storybuild" / "log.jsonl"
    return wall, [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2, help="doit -n")
    args = parser.parse_args()
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    port = _port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket="bench")
    try:
        with tempfile.TemporaryDirectory(prefix="storybuild-ci-bench-") as tmp:
            first_wall, first = _build(_clone(Path(tmp), "first", endpoint), args.n)
            objects = s3.list_objects_v2(Bucket="bench").get("Contents", [])
            stored = sum(o["Size"] for o in objects)
            second_wall, second = _build(_clone(Path(tmp), "second", endpoint), args.n)
            made = [r for r in second if r["outcome"] == "generated"]
            pulled = {r["key"] for r in second if r["outcome"] == "reused"}
            moved = 0
            for key in pulled:
                record = json.loads(s3.get_object(Bucket="bench", Key=f"ci/ac/{key}.json")["Body"].read())
                moved += sum(meta["size"] for meta in record["files"].values())
    finally:
        server.stop()
    stories = len(list((ROOT / "stories").glob("*/story.txt")))
    print(f"{stories} stories, doit -n {args.n}")
    print(f"first clone, local full build (pushing): {first_wall:6.1f} s, "
          f"{sum(r['outcome'] == 'generated' for r in first)} generated")
    print(f"fresh clone, warm shared cache:          {second_wall:6.1f} s, {len(made)} generated (target 0), "
          f"{len(pulled)} artifacts pulled")
    print(f"ratio fresh / full: {second_wall / first_wall:.2f}")
    print(f"bytes moved: {moved / 1e6:.1f} MB downloaded; {stored / 1e6:.1f} MB in the bucket")


if __name__ == "__main__":
    main()
