"""Offline, deterministic evaluation of polling schedules in virtual time (no clock, no network).

A workload (`Scenario`: submit times, run times, inputs, workers) gives a server timeline (FIFO queue in front of
the workers); each contender — `PollingPolicy` or a fixed-interval loop — is replayed against it, each request
taking `rtt` seconds, and scored on the lag from each server-side change (start, end) to the answer that shows it,
and on status requests per job. Used by tests/test_polling.py (the issue's targets as assertions) and by
`python scripts/eval_polling.py` (the table). Stdlib only; seeded randomness.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._polling import PollingPolicy

MODEL = "wan-ai/wan-2-5/text-to-image"
RTT = 0.01      # seconds per status request, both ways
PICKUP = 0.02   # a free worker starts a job this long after it was submitted


@dataclass
class TraceJob:
    """One job of a workload: when it is submitted (server time), how long it runs, with what inputs."""

    submit: float
    run: float
    inputs: dict[str, Any] = field(default_factory=dict)
    pickup: float = PICKUP  # how long a free worker takes to start it
    start: float = 0.0  # filled by `timeline`
    end: float = 0.0


@dataclass
class Scenario:
    """A named workload for one model."""

    name: str
    jobs: list[TraceJob]
    workers: int = 1
    model: str = MODEL


def timeline(scenario: Scenario) -> list[TraceJob]:
    """Fill in each job's start and end: FIFO by submit time in front of `workers` workers."""
    free = [0.0] * scenario.workers
    for job in sorted(scenario.jobs, key=lambda j: j.submit):
        worker = min(range(len(free)), key=free.__getitem__)
        job.start = max(job.submit + job.pickup, free[worker])
        job.end = job.start + job.run
        free[worker] = job.end
    return scenario.jobs


def server_state(jobs: list[TraceJob], index: int, at: float) -> tuple[str, int | None]:
    """(status, queue_position) of job `index` at time `at`."""
    job = jobs[index]
    if at >= job.end:
        return "completed", None
    if at >= job.start:
        return "in_progress", None
    ahead = sum(1 for other in jobs if other.submit < job.submit and other.start > at and other.submit <= at)
    return "in_queue", ahead


def sequential(name: str, runs: list[float], inputs: list[dict[str, Any]] | None = None,
               gap: float = 0.5, pickups: list[float] | None = None) -> Scenario:
    """Jobs one after another on a free worker (each submitted `gap` s after the previous one ended)."""
    jobs, at = [], 0.0
    for i, run in enumerate(runs):
        pickup = pickups[i] if pickups else PICKUP
        jobs.append(TraceJob(at, run, dict(inputs[i]) if inputs else {"aspect_ratio": "1024:1024 (1:1)"},
                             pickup=pickup))
        at += pickup + run + gap
    return Scenario(name, jobs)


def busy_queue(rounds: int = 6, size: int = 15, run: float = 3.0, seed: int = 7) -> Scenario:
    """Rounds of `size` jobs submitted together (50 ms apart at most) in front of one worker, runs ±3 %."""
    rng = random.Random(seed)
    jobs, at = [], 0.0
    for _ in range(rounds):
        for _ in range(size):
            jobs.append(TraceJob(at + rng.uniform(0, 0.05), run * rng.uniform(0.97, 1.03),
                                 {"aspect_ratio": "1024:1024 (1:1)"}))
        at += size * (run + PICKUP) + 2.0
    return Scenario(f"busy queue {size}x1 worker", jobs, workers=1)


def scenarios(seed: int = 1, scale: int = 1) -> list[Scenario]:
    """The issue's workloads (fixed 3/10/30 s, uniform 2-40 s, busy queue) plus run time by input class.
    "Fixed" run times jitter by ±3 % and a free worker starts a job 20-300 ms after its submit, as a real
    service's do (exactly equal times would make the fixed loops' lag depend on an accident of phase).
    `scale` multiplies the job counts."""
    rng = random.Random(seed)

    def jitter(base: float) -> float:
        return base * rng.uniform(0.97, 1.03)

    classes = [{"aspect_ratio": "1024:1024 (1:1)"}, {"aspect_ratio": "1280:720 (16:9)"}]
    picks = [rng.randrange(2) for _ in range(40 * scale)]

    def pickups(n: int) -> list[float]:  # a free worker starts a job 20-300 ms after the submit
        return [rng.uniform(0.02, 0.3) for _ in range(n)]

    return [
        sequential("fixed 3 s", [jitter(3.0) for _ in range(20 * scale)], pickups=pickups(20 * scale)),
        sequential("fixed 10 s", [jitter(10.0) for _ in range(20 * scale)], pickups=pickups(20 * scale)),
        sequential("fixed 30 s", [jitter(30.0) for _ in range(12 * scale)], pickups=pickups(12 * scale)),
        sequential("uniform 2-40 s", [rng.uniform(2, 40) for _ in range(800 * scale)],
                   pickups=pickups(800 * scale)),
        busy_queue(rounds=4 * scale, seed=seed),
        sequential("by input class 5 s / 30 s", [jitter((5.0, 30.0)[p]) for p in picks],
                   [classes[p] for p in picks], pickups=pickups(40 * scale)),
    ]


@dataclass
class Score:
    """One contender on one scenario."""

    start_lags: list[float]
    end_lags: list[float]
    requests: list[int]

    @staticmethod
    def _pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[max(math.ceil(q * len(ordered)) - 1, 0)] if ordered else math.nan

    def summary(self) -> dict[str, float]:
        return {"start_p50": self._pct(self.start_lags, 0.5), "start_p90": self._pct(self.start_lags, 0.9),
                "end_p50": self._pct(self.end_lags, 0.5), "end_p90": self._pct(self.end_lags, 0.9),
                "requests": sum(self.requests) / len(self.requests)}


def run_fixed(scenario: Scenario, interval: float, rtt: float = RTT) -> Score:
    """A plain loop: after the submit answer, sleep `interval`, ask, repeat until it ended."""
    jobs = timeline(scenario)
    starts, ends, counts = [], [], []
    for index, job in enumerate(jobs):
        answered, count = job.submit + rtt / 2, 0
        seen_start: float | None = None
        while True:
            sent = answered + interval
            status, _ = server_state(jobs, index, sent + rtt / 2)
            answered, count = sent + rtt, count + 1
            if status != "in_queue" and seen_start is None:
                seen_start = answered
            if status == "completed":
                break
        starts.append((seen_start if seen_start is not None else answered) - job.start)
        ends.append(answered - job.end)
        counts.append(count)
    return Score(starts, ends, counts)


def run_policy(scenario: Scenario, make: Callable[[], PollingPolicy] = PollingPolicy, rtt: float = RTT) -> Score:
    """The policy, all jobs interleaved in time order so that what one job teaches is used by the next."""
    jobs = timeline(scenario)
    policy = make()
    events: list[tuple[float, int, int]] = []  # (time, 0 = submit answered / 1 = poll, job index)
    for index, job in enumerate(jobs):
        heapq.heappush(events, (job.submit + rtt / 2, 0, index))
    trackers = {}
    seen_start: dict[int, float] = {}
    starts, ends, counts = [0.0] * len(jobs), [0.0] * len(jobs), [0] * len(jobs)
    while events:
        when, kind, index = heapq.heappop(events)
        job = jobs[index]
        if kind == 0:  # the tracker is made when the submit is answered, with what the policy knows by then
            trackers[index] = policy.track(scenario.model, job.inputs, submitted_at=when)
            heapq.heappush(events, (when + policy.next_delay(trackers[index], when), 1, index))
            continue
        tracker, sent = trackers[index], when
        status, position = server_state(jobs, index, sent + rtt / 2)
        answered = sent + rtt
        policy.observe(tracker, status, position, at=sent + rtt / 2, answered_at=answered)
        if status != "in_queue" and index not in seen_start:
            seen_start[index] = answered
            starts[index] = answered - job.start
        if status == "completed":
            ends[index], counts[index] = answered - job.end, tracker.status_requests
            continue
        heapq.heappush(events, (answered + policy.next_delay(tracker, answered), 1, index))
    return Score(starts, ends, counts)


def compare(scenario: Scenario, intervals: tuple[float, ...] = (0.1, 0.5, 1.0, 2.0)) -> dict[str, dict[str, float]]:
    """{contender: summary} for the policy and each fixed interval."""
    out = {"runcomfy_nb": run_policy(scenario).summary()}
    for interval in intervals:
        out[f"every {interval:g} s"] = run_fixed(scenario, interval).summary()
    return out


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """The comparison as text: one block per scenario, one line per contender (lags in ms)."""
    lines = []
    for name, rows in results.items():
        lines.append(f"{name}")
        lines.append(f"  {'contender':<14} {'start p50':>9} {'start p90':>9} {'end p50':>9} {'end p90':>9} "
                     f"{'requests/job':>12}")
        for contender, s in rows.items():
            lines.append(f"  {contender:<14} {s['start_p50'] * 1000:9.0f} {s['start_p90'] * 1000:9.0f} "
                         f"{s['end_p50'] * 1000:9.0f} {s['end_p90'] * 1000:9.0f} {s['requests']:12.1f}")
    return "\n".join(lines)
