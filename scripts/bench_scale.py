"""Scale benchmark: many jobs in flight through one client, one loop thread and one connection pool, while an
asyncio loop on the main thread (standing in for the kernel's) measures how late its timers fire.
DESIGN.md target: 1000 jobs in flight with the kernel loop's lag p99 <= 20 ms and memory growth <= 100 MB.

    python scripts/bench_scale.py [--jobs 1000] [--seconds 20]

The simulator runs in its own process with its queue paused, so every job stays queued (and polled) for the whole
measurement; at the end all are cancelled, which also exercises 1000 cancels.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import runcomfy_nb as rc

MODEL = "wan-ai/wan-2-5/text-to-image"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def measure_lag(seconds: float, tick: float = 0.01) -> list[float]:
    lags = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        before = time.perf_counter()
        await asyncio.sleep(tick)
        lags.append(time.perf_counter() - before - tick)
    return lags


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    os.environ["RUNCOMFY_NB_HOME"] = tempfile.mkdtemp()
    server = subprocess.Popen([sys.executable, "-m", "runcomfy_nb.sim", "--port", "0", "--knobs",
                               json.dumps({"paused": True, "max_queue": args.jobs + 10})],
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    try:
        client = rc.Client(token="bench", base_url=url)
        client.schema(MODEL)
        rss_before = rss_mb()
        started = time.perf_counter()
        jobs = [client.start(MODEL, prompt=f"scale {i}", aspect_ratio="1024:1024 (1:1)") for i in range(args.jobs)]
        for job in jobs:
            job._accepted.result(timeout=120)
        submit_s = time.perf_counter() - started
        lags = asyncio.run(measure_lag(args.seconds))
        rss_after = rss_mb()
        in_flight = sum(job.status == "in_queue" for job in jobs)
        requests = sum(job.status_requests for job in jobs)
        started = time.perf_counter()
        for job in jobs:
            job.cancel_in_background()
        for job in jobs:
            with contextlib.suppress(rc.JobCancelledError):
                job.wait(timeout=120)
        cancel_s = time.perf_counter() - started
        lags.sort()
        print(f"jobs submitted: {args.jobs} in {submit_s:.1f} s; in flight during the measurement: {in_flight}")
        print(f"main-thread loop lag over {args.seconds:.0f} s: p50 {statistics.median(lags) * 1000:.1f} ms, "
              f"p99 {lags[int(len(lags) * 0.99)] * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms")
        print(f"memory: {rss_before:.0f} MB before submitting, {rss_after:.0f} MB with all in flight "
              f"(+{rss_after - rss_before:.0f} MB)")
        print(f"status requests: {requests} ({requests / args.jobs:.1f} per job)")
        print(f"cancelled: {sum(job.status == 'cancelled' for job in jobs)} in {cancel_s:.1f} s")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
