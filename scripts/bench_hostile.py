"""Memory and time against hostile servers (issue 13): prints figures, asserts nothing.

    python scripts/bench_hostile.py

A 0.5 MiB gzip bomb answering /status (1 GiB decoded), an endless /status body, and a 512 MiB output saved to disk:
peak RSS growth of this process for each (ru_maxrss), and how long until the typed error.
"""

from __future__ import annotations

import resource
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import runcomfy_nb as rc
from runcomfy_nb._http import RetryPolicy
from runcomfy_nb._loop import run_sync
from runcomfy_nb._outputs import parse_outputs

MIB = 1024 * 1024


def _bomb(decoded_mib: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"0" * MIB
    return b"".join([*(packer.compress(zeros) for _ in range(decoded_mib)), packer.flush()])


BOMB = _bomb(1024)
BIG = 512 * MIB


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path.endswith("/bomb/status"):
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(BOMB)))
            self.end_headers()
            self.wfile.write(BOMB)
        elif self.path.endswith("/endless/status"):
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass
        else:
            self.send_response(200)
            self.send_header("Content-Length", str(BIG))
            self.end_headers()
            chunk = b"\0" * MIB
            try:
                for _ in range(BIG // MIB):
                    self.wfile.write(chunk)
            except OSError:
                pass

    def log_message(self, *args: object) -> None:
        pass


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda *args: None  # a client hanging up on the endless body is the point
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    client = rc.Client(token="bench-token-0123456789", base_url=url, retry=RetryPolicy(attempts=1))
    print(f"gzip bomb: {len(BOMB) / MIB:.2f} MiB on the wire, 1024 MiB decoded")
    for name in ("bomb", "endless"):
        before, start = peak_mib(), time.perf_counter()
        try:
            run_sync(client.transport.status(name))
        except rc.ServerError as error:
            outcome = type(error).__name__
        print(f"/status {name}: {outcome} after {time.perf_counter() - start:.2f} s, "
              f"peak RSS +{peak_mib() - before:.0f} MiB")
    (output,) = parse_outputs({"video": f"{url}/big.mp4"}, "r1", client.transport)
    with tempfile.TemporaryDirectory() as folder:
        before, start = peak_mib(), time.perf_counter()
        path = output.save(Path(folder))
        print(f"save() of a {BIG // MIB} MiB output: {path.stat().st_size // MIB} MiB on disk in "
              f"{time.perf_counter() - start:.2f} s, peak RSS +{peak_mib() - before:.0f} MiB")
    client.close()
    server.shutdown()


if __name__ == "__main__":
    main()
