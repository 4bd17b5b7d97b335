"""A build process in miniature, for the kill tests: record a job under a key, then run it.

    python job_process.py STORE URL KEY [--die-after-record]

Prints "recorded <prompt_id>" once the record is committed, then "done <filename>" when the job
ran (re-attaching to a recorded job if the store has one), and marks the job finished.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clients.prompts import image_prompt  # noqa: E402
from storybuild.clients.comfyui import ComfyUIClient, output_files  # noqa: E402
from storybuild.store.jobs import JobStore  # noqa: E402


def main(store_path: str, url: str, key: str, *flags: str) -> None:
    store = JobStore(store_path)
    client = ComfyUIClient(url)
    found = store.lookup(key)
    if found is None:
        prompt_id = str(uuid.uuid4())
        store.record(key, url, prompt_id)
    else:
        prompt_id = found[1]
    print("recorded" if found is None else "found", prompt_id, flush=True)
    if "--die-after-record" in flags:
        os.kill(os.getpid(), signal.SIGKILL)
    outputs = client.run(image_prompt(prefix=f"storybuild/{key}"), prompt_id, timeout=60)
    store.finish(key)
    print("done", output_files(outputs)[0]["filename"], flush=True)
    client.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
