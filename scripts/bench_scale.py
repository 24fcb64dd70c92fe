"""Scale benchmark: many jobs in flight through one client, one loop thread and one connection pool, while an
asyncio loop on the main thread (standing in for the kernel's) measures how late its timers fire.
DESIGN.md target: 1000 jobs in flight with the kernel loop's lag p99 <= 20 ms and memory growth <= 100 MB.

    PYTHONPATH=$PWD python scripts/bench_scale.py [--quick] [--jobs 1000] [--seconds 20] [--rounds 1]

One simulator process, its queue paused, so every job stays queued (and polled) until it is cancelled.
Side by side with a plain httpx loop (issue #12 targets: submit time and CPU <= 1.3x, cancel time <= 1.3x), both
on runcomfy_nb's background loop thread, against the same simulator, in alternating rounds (the machine is shared:
each round prints its own figures, the summary sums the rounds):
- the plain loop: every POST gathered on one httpx.AsyncClient with runcomfy_nb's pool size (64 connections, 32
  kept alive), then one coroutine per job asking its status every second (a plain loop that polls while it still
  submits, as runcomfy_nb does, did not get through 1000 jobs here: 1000 polls a second saturate the loop thread);
- a bounded plain loop, for the submit alone (the fairest baseline): the POSTs at most 64 at a time, no polling;
- runcomfy_nb: `Client.start` for every job (validation, journal, polling policy), until all are accepted;
- submit: wall time until the last submit is answered, and this process's CPU time per job over that span;
- cancel: all queued jobs while they are being polled (2 s after the last submit, or after the lag measurement);
  also counts the status requests answered while the cancels were out (cancels go ahead of routine polls).
`--quick` uses 50 jobs, 2 s and one round: it checks the script works, not the figures. Prints the machine's
load (os.getloadavg) and CPU count at the start and the end. Takes about 4 minutes by default on the shared 2-core
machine (the plain loop takes most of it).
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
from typing import Any

import runcomfy_nb as rc
from runcomfy_nb._loop import run_sync

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
                               json.dumps({"paused": True, "max_queue": 2 * jobs + 10})],
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


class Figures:
    """One contender's figures over the rounds."""

    def __init__(self) -> None:
        self.submit: list[float] = []
        self.cpu: list[float] = []
        self.cancel: list[float] = []
        self.polls_during_cancel: list[int] = []


async def plain_loop(url: str, jobs: int, settle: float, figures: Figures) -> None:
    """A plain httpx loop: POST every job (gathered), then GET each one's /status every second; cancel them all."""
    import httpx

    # No pool timeout: 1000 gathered requests wait in httpcore's pool queue longer than any sane timeout.
    async with httpx.AsyncClient(headers={"Authorization": "Bearer bench"}, timeout=httpx.Timeout(120, pool=None),
                                 limits=httpx.Limits(max_connections=64, max_keepalive_connections=32)) as http:
        cpu, wall = time.process_time(), time.perf_counter()
        answers = await asyncio.gather(*(http.post(f"{url}/v1/models/{MODEL}",
                                                   json={"prompt": f"scale {i}", "aspect_ratio": "1024:1024 (1:1)"})
                                         for i in range(jobs)))
        figures.submit.append(time.perf_counter() - wall)
        figures.cpu.append(time.process_time() - cpu)
        ids = [a.json()["request_id"] for a in answers]
        polls = [0]

        async def poll(request_id: str) -> None:
            while True:
                await asyncio.sleep(1.0)
                await http.get(f"{url}/v1/requests/{request_id}/status")
                polls[0] += 1

        tasks = [asyncio.ensure_future(poll(i)) for i in ids]
        await asyncio.sleep(settle)
        before, wall = polls[0], time.perf_counter()
        await asyncio.gather(*(http.post(f"{url}/v1/requests/{i}/cancel") for i in ids))
        figures.cancel.append(time.perf_counter() - wall)
        figures.polls_during_cancel.append(polls[0] - before)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def bounded_plain_submit(url: str, jobs: int, figures: Figures) -> None:
    """The fairest plain baseline for the submit alone: the POSTs at most 64 at a time (no queue in httpcore's pool)
    and no polling at all; its jobs are cancelled afterwards (not measured)."""
    import httpx

    async with httpx.AsyncClient(headers={"Authorization": "Bearer bench"}, timeout=120,
                                 limits=httpx.Limits(max_connections=64, max_keepalive_connections=32)) as http:
        gate = asyncio.Semaphore(64)

        async def send(path: str, body: Any = None) -> httpx.Response:
            async with gate:
                return await http.post(f"{url}{path}", json=body)

        cpu, wall = time.process_time(), time.perf_counter()
        answers = await asyncio.gather(*(send(f"/v1/models/{MODEL}", {"prompt": f"scale {i}",
                                                                     "aspect_ratio": "1024:1024 (1:1)"})
                                         for i in range(jobs)))
        figures.submit.append(time.perf_counter() - wall)
        figures.cpu.append(time.process_time() - cpu)
        await asyncio.gather(*(send(f"/v1/requests/{a.json()['request_id']}/cancel") for a in answers))


def runcomfy_round(url: str, jobs: int, settle: float, figures: Figures, lag_seconds: float) -> list[str]:
    """Submit and cancel `jobs` through one Client; returns extra lines (lag, memory) when `lag_seconds`."""
    client = rc.Client(token="bench", base_url=url)
    lines: list[str] = []
    try:
        client.schema(MODEL)
        rss_before = rss_mb()
        commits, cpu, started = client.journal.commits, time.process_time(), time.perf_counter()
        started_jobs = [client.start(MODEL, prompt=f"scale {i}", aspect_ratio="1024:1024 (1:1)")
                        for i in range(jobs)]
        for job in started_jobs:
            job._accepted.result(timeout=300)
        figures.submit.append(time.perf_counter() - started)
        figures.cpu.append(time.process_time() - cpu)
        lines.append(f"journal commits while submitting: {client.journal.commits - commits} ({jobs} of them the "
                     "'submitting' rows, each committed before its POST)")
        if lag_seconds:
            lags = sorted(asyncio.run(measure_lag(lag_seconds)))
            rss_after = rss_mb()
            in_flight = sum(job.status == "in_queue" for job in started_jobs)
            requests = sum(job.status_requests for job in started_jobs)
            lines += [f"in flight during the lag measurement: {in_flight}",
                      f"main-thread loop lag over {lag_seconds:.0f} s with {in_flight} jobs polled: p50 "
                      f"{statistics.median(lags) * 1000:.1f} ms, p99 {lags[int(len(lags) * 0.99)] * 1000:.1f} ms, "
                      f"max {lags[-1] * 1000:.1f} ms",
                      f"memory: {rss_before:.0f} MB before submitting, {rss_after:.0f} MB with all in flight "
                      f"(+{rss_after - rss_before:.0f} MB)",
                      f"status requests until then: {requests} ({requests / jobs:.1f} per job over "
                      f"{time.perf_counter() - started:.0f} s)"]
        else:
            time.sleep(settle)
        before = sum(job.status_requests for job in started_jobs)
        started = time.perf_counter()
        for job in started_jobs:
            job.cancel_in_background()
        for job in started_jobs:
            with contextlib.suppress(rc.JobCancelledError):
                job.wait(timeout=300)
        figures.cancel.append(time.perf_counter() - started)
        figures.polls_during_cancel.append(sum(job.status_requests for job in started_jobs) - before)
        lines.append(f"cancelled: {sum(job.status == 'cancelled' for job in started_jobs)} of {jobs}")
    finally:
        client.close()
    return lines


def load_line(when: str) -> str:
    load = os.getloadavg()
    return f"load average {when}: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0, help="lag measurement, in the first round")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds (each prints its figures)")
    parser.add_argument("--quick", action="store_true", help="50 jobs, 2 s, one round: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.seconds, args.rounds = 50, 2.0, 1
    os.environ["RUNCOMFY_NB_HOME"] = tempfile.mkdtemp()
    print(load_line("before"), flush=True)
    n, settle = args.jobs, 2.0
    plain, bounded, ours = Figures(), Figures(), Figures()
    server, url = start_sim(n)
    try:
        for round_ in range(args.rounds):
            run_sync(plain_loop(url, n, settle, plain), timeout=900)
            run_sync(bounded_plain_submit(url, n, bounded), timeout=900)
            lines = runcomfy_round(url, n, settle, ours, args.seconds if round_ == 0 else 0.0)
            print(f"round {round_ + 1}: submit {n}: runcomfy_nb {ours.submit[-1]:.2f} s "
                  f"{ours.cpu[-1] / n * 1000:.1f} ms CPU/job, plain httpx {plain.submit[-1]:.2f} s "
                  f"{plain.cpu[-1] / n * 1000:.1f} ms CPU/job, bounded plain httpx {bounded.submit[-1]:.2f} s "
                  f"{bounded.cpu[-1] / n * 1000:.1f} ms CPU/job; cancel {n}: runcomfy_nb {ours.cancel[-1]:.2f} s "
                  f"({ours.polls_during_cancel[-1]} status answers meanwhile), plain httpx {plain.cancel[-1]:.2f} s "
                  f"({plain.polls_during_cancel[-1]} status answers meanwhile); {load_line('now')}", flush=True)
            for line in lines:
                print("  " + line, flush=True)
    finally:
        server.terminate()
        server.wait(10)
    rounds = f"{args.rounds} round{'s' if args.rounds > 1 else ''} summed"
    print(f"submit {n}: runcomfy_nb {sum(ours.submit):.2f} s, {sum(ours.cpu) / n / args.rounds * 1000:.1f} ms "
          f"CPU/job; plain httpx {sum(plain.submit):.2f} s, {sum(plain.cpu) / n / args.rounds * 1000:.1f} ms "
          f"CPU/job; ratio time {sum(ours.submit) / sum(plain.submit):.2f}x, CPU "
          f"{sum(ours.cpu) / max(sum(plain.cpu), 1e-9):.2f}x (target <= 1.3x; {rounds})")
    print(f"submit {n}, against the bounded plain loop (64 at a time, no polling): bounded "
          f"{sum(bounded.submit):.2f} s, {sum(bounded.cpu) / n / args.rounds * 1000:.1f} ms CPU/job; ratio time "
          f"{sum(ours.submit) / sum(bounded.submit):.2f}x, CPU {sum(ours.cpu) / max(sum(bounded.cpu), 1e-9):.2f}x")
    print(f"cancel {n} queued: runcomfy_nb {sum(ours.cancel):.2f} s; plain httpx {sum(plain.cancel):.2f} s; ratio "
          f"{sum(ours.cancel) / sum(plain.cancel):.2f}x (target <= 1.3x; {rounds})")
    print(load_line("after"))


if __name__ == "__main__":
    main()
