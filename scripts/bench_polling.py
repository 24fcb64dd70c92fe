"""Benchmark of the polling schedule against the simulator: lag from a server-side state change to the client
seeing it, and status requests per job (DESIGN.md targets: median lag <= 100 ms, <= 10 requests for a 10 s job).

    python scripts/bench_polling.py [--jobs 6] [--seconds 10]

Jobs run one after another on a free worker, so the first job has no history and later ones use the learned
run time. Prints one line per job and the medians.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import datetime

import runcomfy_nb as rc
from runcomfy_nb import sim

MODEL = "wan-ai/wan-2-5/text-to-image"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    import os

    os.environ["RUNCOMFY_NB_HOME"] = tempfile.mkdtemp()  # a fresh journal: the first job knows nothing
    server = sim.start(port=0, time_scale=1.0, run_times={MODEL: args.seconds}, make_default=False)
    client = rc.Client(token="bench", base_url=server.base_url)
    lags: list[float] = []
    for index in range(args.jobs):
        job = client.submit(MODEL, prompt=f"bench {index}", aspect_ratio="1024:1024 (1:1)")
        job.wait(timeout=args.seconds * 3)
        server_job = next(j for j in server.jobs() if j["request_id"] == job.request_id)
        started = datetime.fromisoformat(server_job["started_at"]).timestamp()
        finished = datetime.fromisoformat(server_job["finished_at"]).timestamp()
        lag_start, lag_end = job.started_at - started, job.finished_at - finished
        lags += [lag_start, lag_end]
        print(f"job {index}: status requests {job.status_requests:2d}   lag to in_progress {lag_start * 1000:6.0f} ms"
              f"   lag to completed {lag_end * 1000:6.0f} ms")
    print(f"median lag {statistics.median(lags) * 1000:.0f} ms over {len(lags)} state changes "
          f"(the submit answer itself reports in_queue with no lag)")
    client.close()
    server.stop()


if __name__ == "__main__":
    main()
