"""A stand-in for ComfyUI or LM Studio: answers /health after a delay, records /free calls.

    python fake_service.py PORT DELAY RECORD_DIR

It also starts a child process (like a real server's workers) so tests can check that stopping
the service stops its whole process group.
"""

import http.server
import os
import subprocess
import sys
import time
from pathlib import Path

port, delay, record = int(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3])
record.mkdir(parents=True, exist_ok=True)
with open(record / "starts", "a") as handle:
    handle.write(f"{os.getpid()}\n")
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
(record / "child").write_text(str(child.pid))
time.sleep(delay)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def do_POST(self):
        with open(record / "frees", "a") as handle:
            handle.write(self.path + "\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
