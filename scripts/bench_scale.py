"""Scale benchmark: many jobs in flight through one client, one loop thread and one connection pool, while an
asyncio loop on the main thread (standing in for the kernel's) measures how late its timers fire.
DESIGN.md target: 1000 jobs in flight with the kernel loop's lag p99 <= 20 ms and memory growth <= 100 MB.

    python scripts/bench_scale.py [--quick] [--jobs 1000] [--seconds 20]

The simulator runs in its own process with its queue paused, so every job stays queued (and polled) for the whole
measurement; at the end all are cancelled, which also exercises 1000 cancels.
Side by side with a plain httpx loop (issue #12 targets: submit time and CPU <= 1.3x, cancel time <= 1.3x):
- submit: `Client.start` for every job, until all are accepted, against `httpx.AsyncClient.post` for every job
  gathered on one asyncio loop (wall time, and this process's CPU time per job);
- cancel: all queued jobs, while they are being polled, against the plain loop's cancels while its own 1 s
  status loops run.
`--quick` uses 50 jobs and 2 s: it checks the script works, not the figures. Prints the machine's load.
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


def start_sim(jobs: int) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen([sys.executable, "-m", "runcomfy_nb.sim", "--port", "0", "--knobs",
                               json.dumps({"paused": True, "max_queue": jobs + 10})],
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


async def plain_loop(url: str, jobs: int) -> tuple[float, float, float]:
    """(submit wall s, submit CPU s, cancel wall s) for a plain httpx client on one loop."""
    import httpx

    async with httpx.AsyncClient(headers={"Authorization": "Bearer bench"}, timeout=120,
                                 limits=httpx.Limits(max_connections=64)) as http:
        cpu, wall = time.process_time(), time.perf_counter()
        answers = await asyncio.gather(*(http.post(f"{url}/v1/models/{MODEL}",
                                                   json={"prompt": f"scale {i}", "aspect_ratio": "1024:1024 (1:1)"})
                                         for i in range(jobs)))
        submit_wall, submit_cpu = time.perf_counter() - wall, time.process_time() - cpu
        ids = [a.json()["request_id"] for a in answers]

        async def poll(request_id: str) -> None:
            while True:
                await asyncio.sleep(1.0)
                await http.get(f"{url}/v1/requests/{request_id}/status")

        polls = [asyncio.ensure_future(poll(i)) for i in ids]
        await asyncio.sleep(2.0)
        wall = time.perf_counter()
        await asyncio.gather(*(http.post(f"{url}/v1/requests/{i}/cancel") for i in ids))
        cancel_wall = time.perf_counter() - wall
        for task in polls:
            task.cancel()
        await asyncio.gather(*polls, return_exceptions=True)
    return submit_wall, submit_cpu, cancel_wall


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="50 jobs, 2 s: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.seconds = 50, 2.0
    os.environ["RUNCOMFY_NB_HOME"] = tempfile.mkdtemp()
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")

    server, url = start_sim(args.jobs)
    try:
        plain_submit, plain_cpu, plain_cancel = asyncio.run(plain_loop(url, args.jobs))
    finally:
        server.terminate()
        server.wait(10)

    server, url = start_sim(args.jobs)
    try:
        client = rc.Client(token="bench", base_url=url)
        client.schema(MODEL)
        rss_before = rss_mb()
        cpu, started = time.process_time(), time.perf_counter()
        jobs = [client.start(MODEL, prompt=f"scale {i}", aspect_ratio="1024:1024 (1:1)") for i in range(args.jobs)]
        for job in jobs:
            job._accepted.result(timeout=120)
        submit_s, submit_cpu = time.perf_counter() - started, time.process_time() - cpu
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
        n = args.jobs
        print(f"submit {n}: runcomfy_nb {submit_s:.2f} s, {submit_cpu / n * 1000:.1f} ms CPU/job; plain httpx "
              f"{plain_submit:.2f} s, {plain_cpu / n * 1000:.1f} ms CPU/job; ratio time "
              f"{submit_s / plain_submit:.2f}x, CPU {submit_cpu / max(plain_cpu, 1e-9):.2f}x (target <= 1.3x)")
        print(f"cancel {n} queued: runcomfy_nb {cancel_s:.2f} s; plain httpx {plain_cancel:.2f} s; ratio "
              f"{cancel_s / plain_cancel:.2f}x (target <= 1.3x)")
        print(f"in flight during the measurement: {in_flight}")
        print(f"main-thread loop lag over {args.seconds:.0f} s: p50 {statistics.median(lags) * 1000:.1f} ms, "
              f"p99 {lags[int(len(lags) * 0.99)] * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms")
        print(f"memory: {rss_before:.0f} MB before submitting, {rss_after:.0f} MB with all in flight "
              f"(+{rss_after - rss_before:.0f} MB)")
        print(f"status requests: {requests} ({requests / n:.1f} per job)")
        print(f"cancelled: {sum(job.status == 'cancelled' for job in jobs)} of {n}")
    finally:
        server.terminate()
        server.wait(10)
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
