"""The fault suite (issue 5): hundreds of jobs across the five seed models through ONE client while a quarter of
the API's answers fail, and proof that nothing a person pays for is lost, doubled or left hanging.

Faults come from the simulator's random fault knob: on status/result/cancel/catalog every kind (429 with and
without Retry-After — seconds or an HTTP date —, 500/502/503/504, dropped connections, answers slower than the
client's read timeout and answers slow but in time, malformed JSON, HTTP 200 with an error_code body); on
submit only 429, the one kind where the server provably created no job (connection refused is covered in
tests/test_client.py). Jobs run in waves: while the simulator holds a wave in its queue, the submit faults are
on, then the full set; chosen jobs are cancelled while still queued, others fail on purpose (`sim:fail`).

Proven for every job: the terminal state it must have, its outputs (read back and measured), the error it raised
naming its request_id, exactly one accepted submit (simulator counters and jobs), its journal row; for every
wait: it returned within its timeout. The figures are printed (`python -m pytest tests/test_faults.py -s`) and
written to test-artifacts/fault_figures.json; scripts/fault_figures.py runs the same code outside pytest.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import json
import random
import statistics
import struct
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

import runcomfy_nb as rc
from runcomfy_nb._loop import run_sync
from runcomfy_nb.sim import body_sha256

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = ROOT / "test-artifacts" / "fault_figures.json"
TOKEN = "rc-fault-suite-token"

READ_TIMEOUT = 1.0  # the client's timeout; "slow" answers are set below and beyond it, wave by wave
SLOW_BELOW, SLOW_BEYOND = 0.4, 1.5  # seconds a "slow" fault sleeps: earlier waves below, the last wave beyond
FAULT_RATE = 0.25
SLACK = 15.0  # how far past its timeout a wait may return: catches a hang, not a slow machine (figures: tally)
ALL_KINDS = ["429", "500", "502", "503", "504", "drop", "slow", "malformed", "error200"]
ERROR_PATHS = ["status", "result", "cancel", "catalog"]
RED = Image.new("RGB", (64, 48), (200, 30, 30))

WAN = "wan-ai/wan-2-5/text-to-image"
DREAMINA = "bytedance/dreamina-4-0/text-to-image"
FLUX = "blackforestlabs/flux-1-kontext/pro/edit"
REFRAME = "ideogram/ideogram-v3/reframe"
VIDEO = "community/wan-2-1/fusionx/image-to-video"
# model, share of the jobs, whether a prompt can carry sim:fail / sim:images=N
MODELS = [(WAN, 0.25, True), (DREAMINA, 0.22, True), (FLUX, 0.2, True), (REFRAME, 0.2, False), (VIDEO, 0.13, True)]


@dataclass
class Planned:
    """One job of the suite: what is sent and what must come out of it."""

    index: int
    model_id: str
    inputs: dict[str, Any]
    expect: str  # "completed" | "failed" | "cancelled"
    kind: str  # "image" | "video"
    count: int
    size: tuple[int, int]
    job: Any = None
    error: BaseException | None = None
    waited: float = 0.0
    timeout: float = 0.0
    submit_attempts: int = 0


@dataclass
class Tally:
    """What the test itself saw (next to the simulator's and the client's own counters)."""

    retry_after: Counter = field(default_factory=Counter)  # 429 answers: "seconds" / "http-date" / "absent"
    responses: Counter = field(default_factory=Counter)  # every HTTP status the client received
    submits_given_up: int = 0  # RateLimitedError after the client's retries: no job; the test sends again
    cancels_repeated: int = 0  # job.cancel() raised after its retries; the test (a person) calls it again
    catalog_repeated: int = 0
    deadline_probes: list[dict[str, Any]] = field(default_factory=list)
    slow_by_phase: list[tuple[float, int]] = field(default_factory=list)  # (slow_seconds, slow faults drawn)


def plan_jobs(waves: int, per_wave: int, seed: int) -> list[list[Planned]]:
    rng = random.Random(seed)
    plans: list[list[Planned]] = []
    index = 0
    for _ in range(waves):
        wave = []
        for _ in range(per_wave):
            model, _, prompted = rng.choices(MODELS, weights=[m[1] for m in MODELS])[0]
            roll = rng.random()
            expect = "cancelled" if roll < 0.1 else "failed" if roll < 0.2 and prompted else "completed"
            count = 2 if model in (WAN, DREAMINA) and rng.random() < 0.2 else 1
            tag = f"#{index}" + (" sim:fail" if expect == "failed" else "") + (f" sim:images={count}" if count > 1 else "")
            if model == WAN:
                inputs, size = {"prompt": f"a red fox {tag}", "aspect_ratio": "1024:1024 (1:1)"}, (1024, 1024)
            elif model == DREAMINA:
                inputs, size = {"prompt": f"a lighthouse {tag}", "width×height": "1024x1024(1:1)"}, (1024, 1024)
            elif model == FLUX:
                inputs, size = {"prompt": f"make it blue {tag}", "image_url": RED, "aspect_ratio": "1:1",
                                "seed": index}, (1024, 1024)
            elif model == REFRAME:
                inputs, size = {"image": RED, "resolution": "512:1536 (1:3)", "seed": index}, (512, 1536)
            else:
                inputs, size = {"600_prompt": f"drift {tag}", "608_image": RED, "602_widthx602_height": "480x480 (1:1)",
                                "602_num_frames": 81, "609_frame_rate": 24, "598_seed": index}, (480, 480)
            wave.append(Planned(index, model, inputs, expect, "video" if model == VIDEO else "image", count, size))
            index += 1
        plans.append(wave)
    return plans


def submit_spec(seed: int) -> dict[str, Any]:
    """While a wave is submitted: only 429 (no job created), on every path including submit."""
    return {"rate": FAULT_RATE, "kinds": ["429"], "paths": ["submit", *ERROR_PATHS], "seed": seed,
            "retry_after": retry_after_choices()}


def full_spec(seed: int, slow: float) -> dict[str, Any]:
    """While jobs run: every kind, on every path but submit."""
    return {"rate": FAULT_RATE, "kinds": ALL_KINDS, "paths": ERROR_PATHS, "seed": seed, "slow_seconds": slow,
            "retry_after": retry_after_choices()}


def retry_after_choices() -> list[Any]:
    # no header, delta-seconds, and an HTTP date one second ahead (in the past by the time most are drawn)
    return [None, 0, 1, email.utils.formatdate(time.time() + 1, usegmt=True)]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    return struct.unpack(">II", data[16:24])


def api_requests(counters: dict[str, Any]) -> int:
    return sum(n for key, n in counters["requests"].items() if not key.endswith(" media"))


def watch_responses(client: Any, tally: Tally) -> None:
    """Count what the client receives (429s with and without Retry-After) through an httpx event hook."""
    async def hook(response: httpx.Response) -> None:
        tally.responses[response.status_code] += 1
        if response.status_code == 429:
            value = response.headers.get("Retry-After")
            tally.retry_after["absent" if value is None else "seconds" if value.strip().isdigit() else "http-date"] += 1

    client.transport.http.event_hooks = {"request": [], "response": [hook]}


async def submit_wave(client: Any, wave: list[Planned], tally: Tally) -> None:
    async def one(plan: Planned) -> None:
        while True:
            plan.submit_attempts += 1
            try:
                plan.job = await client.submit_async(plan.model_id, plan.inputs)
                return
            except rc.RateLimitedError:
                # Every send was refused with 429 (no job exists): a person would submit again.
                tally.submits_given_up += 1
                assert plan.submit_attempts < 4, f"job #{plan.index}: refused with 429 {plan.submit_attempts} times"

    await asyncio.wait_for(asyncio.gather(*(one(p) for p in wave)), timeout=60)


def cancel_queued(wave: list[Planned], tally: Tally) -> None:
    """Cancel the wave's chosen jobs while the simulator holds them in its queue (in parallel, like clicks)."""
    def cancel(plan: Planned) -> bool:
        for attempt in range(3):
            try:
                return plan.job.cancel(timeout=30)
            except rc.RunComfyError as error:  # the client's retries ran out: the error names the job
                assert plan.job.request_id in str(error), error
                tally.cancels_repeated += 1
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    chosen = [p for p in wave if p.expect == "cancelled"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(cancel, chosen))
    assert outcomes == [True] * len(chosen), [(p.index, p.job.status, p.job.cancel_note) for p in chosen]


def probe_deadlines(plan: Planned, tally: Tally, timeout: float = 0.3) -> None:
    """A queued job's wait and await must give up at their deadline, naming the job."""
    for how in ("wait", "await"):
        started = time.monotonic()
        with pytest.raises(rc.JobTimeoutError) as caught:
            if how == "wait":
                plan.job.wait(timeout=timeout)
            else:
                asyncio.run(plan.job.wait_async(timeout=timeout))
        elapsed = time.monotonic() - started
        assert timeout <= elapsed <= timeout + SLACK, (how, elapsed)
        assert plan.job.request_id in str(caught.value) and caught.value.request_id == plan.job.request_id
        tally.deadline_probes.append({"how": how, "timeout": timeout, "elapsed": round(elapsed, 3)})


def check_catalog(client: Any, tally: Tally) -> None:
    for attempt in range(3):
        try:
            answer = run_sync(client.transport.list_models(include_schema="true", limit=200), timeout=60)
            break
        except rc.RunComfyError:
            tally.catalog_repeated += 1
            if attempt == 2:
                raise
    assert {m["model_id"] for m in answer["models"]} == {m[0] for m in MODELS}


def wait_all(plans: list[Planned], budget: float) -> None:
    """Every job waited on with a timeout, half with `job.wait`, half with `await job.wait_async`; measured."""
    end = time.monotonic() + budget

    def left() -> float:
        return max(end - time.monotonic(), 1.0)

    async def one(plan: Planned) -> None:
        plan.timeout = left()
        started = time.monotonic()
        try:
            await plan.job.wait_async(timeout=plan.timeout)
        except rc.RunComfyError as error:
            plan.error = error
        plan.waited = time.monotonic() - started

    async def half() -> None:
        await asyncio.gather(*(one(p) for p in plans[1::2]))

    asyncio.run(half())
    for plan in plans[0::2]:
        plan.timeout = left()
        started = time.monotonic()
        try:
            plan.job.wait(timeout=plan.timeout)
        except rc.RunComfyError as error:
            plan.error = error
        plan.waited = time.monotonic() - started


def run_fault_suite(sim: Any, client: Any, *, waves: int = 3, per_wave: int = 100, seed: int = 5,
                    budget: float = 150.0) -> dict[str, Any]:
    """Run every wave through `client` against `sim`, assert everything, return the figures."""
    assert waves >= 2, "slow answers below the read timeout come from the early waves, beyond it from the last"
    started = time.monotonic()
    tally = Tally()
    sim.configure(time_scale=0.02, workers=4, paused=False, faults=None, fail_next={}, output_ttl=None)
    sim.reset()
    plans = plan_jobs(waves, per_wave, seed)

    def slow_for(wave: int) -> float:
        return SLOW_BEYOND if wave == waves - 1 else SLOW_BELOW
    watch_responses(client, tally)
    slow_before = 0
    for number, wave in enumerate(plans):
        sim.configure(paused=True, faults=submit_spec(seed * 100 + 2 * number))
        slow_now = sim.counters()["faults"].get("slow", 0)  # no "slow" is drawn in this window: exact split
        if number:
            tally.slow_by_phase.append((slow_for(number - 1), slow_now - slow_before))
        slow_before = slow_now
        asyncio.run(submit_wave(client, wave, tally))
        assert all(p.job.request_id for p in wave)
        sim.configure(faults=full_spec(seed * 100 + 2 * number + 1, slow_for(number)))
        probe_deadlines(next(p for p in wave if p.expect == "completed"), tally)
        cancel_queued(wave, tally)
        check_catalog(client, tally)
        sim.configure(paused=False)
        if number < waves - 1:  # let half of this wave run (under its own faults) before the next one queues up
            until = time.monotonic() + 20
            while sum(p.job.done() for p in wave) < len(wave) // 2 and time.monotonic() < until:
                time.sleep(0.05)
    everyone = [p for wave in plans for p in wave]
    wait_all(everyone, budget - (time.monotonic() - started))
    sim.configure(faults=None)
    counters = sim.counters()
    tally.slow_by_phase.append((slow_for(len(plans) - 1), counters["faults"].get("slow", 0) - slow_before))
    wall = time.monotonic() - started

    # --- every job: its terminal state, its outputs, its error ---------------------------------------------
    outputs = 0
    for plan in everyone:
        job, error = plan.job, plan.error
        where = f"job #{plan.index} {plan.model_id} {job.request_id}"
        assert plan.waited <= plan.timeout + SLACK, f"{where}: waited {plan.waited:.2f} s for {plan.timeout:.2f} s"
        assert job.status == plan.expect, f"{where}: {job.status} ({error})"
        if plan.expect == "completed":
            assert error is None, f"{where}: {error!r}"
            assert [o.kind for o in job.outputs] == [plan.kind] * plan.count, where
            for output in job.outputs:
                data = output.read()
                if plan.kind == "image":
                    assert png_size(data) == plan.size, where
                else:
                    assert data[4:8] == b"ftyp" and len(data) > 1000, where
                outputs += 1
        else:
            expected = rc.JobFailedError if plan.expect == "failed" else rc.JobCancelledError
            assert isinstance(error, expected), f"{where}: {error!r}"
            assert error.request_id == job.request_id and job.request_id in str(error), f"{where}: {error}"
            assert not job.outputs, where
            if plan.expect == "failed":
                assert "SIM_REQUESTED_FAILURE" in (job.error or ""), f"{where}: {job.error}"

    # --- exactly one accepted submit per job; nothing else was created --------------------------------------
    n = len(everyone)
    assert counters["submits_accepted"] == n
    rows = {row["request_id"]: row for row in sim.jobs()}
    assert len(rows) == n and set(rows) == {p.job.request_id for p in everyone}
    server_status = {"completed": "succeeded", "failed": "failed", "cancelled": "cancelled"}
    for plan in everyone:
        row = rows[plan.job.request_id]
        assert row["model_id"] == plan.model_id and row["status"] == server_status[plan.expect], row
        assert row["inputs_sha256"] == body_sha256(plan.job.inputs), row
    digests = [body_sha256(p.job.inputs) for p in everyone]
    assert len(set(digests)) == n  # every body distinct, so the per-body counts below are per job
    assert all(counters["bodies"].get(d, 0) >= 1 for d in digests)
    assert sum(counters["bodies"].values()) == counters["submits_received"]
    assert counters["submits_received"] > counters["submits_accepted"]  # some submits were refused and sent again
    assert counters["cancels"]["cancelled"] == sum(p.expect == "cancelled" for p in everyone)

    # --- the journal has every request_id, final -----------------------------------------------------------
    journal = rc.jobs(limit=None)
    by_id = {row["request_id"]: row for row in journal if row["request_id"]}
    assert set(by_id) == {p.job.request_id for p in everyone}
    assert all(by_id[p.job.request_id]["status"] == p.expect for p in everyone)
    assert sum(row["request_id"] is None for row in journal) == tally.submits_given_up
    assert all(row["status"] == "rejected" for row in journal if row["request_id"] is None)  # never "uncertain"

    # --- the faults really happened ------------------------------------------------------------------------
    faults = counters["faults"]
    requests = api_requests(counters)
    rate = sum(faults.values()) / requests
    assert rate >= 0.20, f"only {rate:.1%} of {requests} requests failed"
    assert set(ALL_KINDS) <= set(faults), faults
    by_reason = dict(client.transport.counters.by_reason)
    assert by_reason.get("ReadTimeout", 0) >= 1 and by_reason.get("RemoteProtocolError", 0) >= 1, by_reason
    slow_below = sum(n for seconds, n in tally.slow_by_phase if seconds < READ_TIMEOUT)
    slow_beyond = sum(n for seconds, n in tally.slow_by_phase if seconds >= READ_TIMEOUT)
    assert slow_below >= 1 and slow_beyond >= 1, tally.slow_by_phase
    assert tally.retry_after["absent"] >= 1 and tally.retry_after["seconds"] >= 1, tally.retry_after

    outcome = Counter(p.expect for p in everyone)
    return {
        "jobs": n,
        "jobs_by_model": dict(Counter(p.model_id for p in everyone)),
        "jobs_by_outcome": dict(outcome),
        "outputs_read_and_checked": outputs,
        "wall_time_s": round(wall, 2),
        "api_requests": requests,
        "api_requests_by_path": {k: v for k, v in counters["requests"].items() if not k.endswith(" media")},
        "faults_injected": sum(faults.values()),
        "faults_by_kind": dict(sorted(faults.items())),
        "fault_rate": round(rate, 4),
        "fault_rate_configured": FAULT_RATE,
        "slow_below_read_timeout": slow_below,
        "slow_beyond_read_timeout": slow_beyond,
        "read_timeout_s": READ_TIMEOUT,
        "http_429_retry_after": dict(tally.retry_after),
        "client_requests": client.transport.counters.requests,
        "client_retries": client.transport.counters.retries,
        "client_retries_by_reason": dict(sorted(by_reason.items())),
        "submits_received": counters["submits_received"],
        "submits_accepted": counters["submits_accepted"],
        "submits_refused_with_429_and_sent_again": counters["submits_received"] - counters["submits_accepted"],
        "submits_given_up_after_429_and_resent": tally.submits_given_up,
        "cancels": counters["cancels"],
        "cancel_calls_repeated_after_error": tally.cancels_repeated,
        "catalog_calls_repeated_after_error": tally.catalog_repeated,
        "status_requests_per_job_median": statistics.median(p.job.status_requests for p in everyone),
        "deadline_probes": tally.deadline_probes,
        "wait_overrun_max_s": round(max(p.waited - p.timeout for p in everyone), 3),  # < 0: all before deadline
        "wait_longest_s": round(max(p.waited for p in everyone), 3),
    }


def report(figures: dict[str, Any], path: Path = ARTIFACT) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    width = max(len(k) for k in figures)
    lines = ["", "fault suite figures (also in " + str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path) + ")"]
    lines += [f"  {key:<{width}}  {json.dumps(value, ensure_ascii=False)}" for key, value in figures.items()]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def make_client(base_url: str) -> Any:
    return rc.Client(token=TOKEN, base_url=base_url, timeout=httpx.Timeout(READ_TIMEOUT, connect=READ_TIMEOUT))


def test_hundreds_of_jobs_through_one_client_under_faults(sim: Any) -> None:
    client = make_client(sim.base_url)
    try:
        figures = run_fault_suite(sim, client)
    finally:
        client.close()
    report(figures)
    assert figures["jobs"] >= 300


def test_the_connection_pool_survives_contention_with_slow_answers(sim: Any) -> None:
    """Far more requests than pooled connections, each answered slowly: every one succeeds, none waits for a pool
    slot with a deadline, and no slot is leaked (httpcore leaks one when a pool wait times out just as a new
    connection is handed over; once all leaked, every request failed with PoolTimeout for ever)."""
    client = make_client(sim.base_url)
    try:
        job = client.submit(WAN, prompt="contention", aspect_ratio="1024:1024 (1:1)")
        job.wait(timeout=30)
        sim.configure(faults={"rate": 1.0, "kinds": ["slow"], "paths": ["status"], "slow_seconds": 0.3})

        async def burst(n: int) -> list[Any]:
            return await asyncio.gather(*(client.transport.status(job.request_id) for _ in range(n)),
                                        return_exceptions=True)

        for _ in range(2):  # a leaked pool slot would stall the second burst until run_sync's deadline
            answers = run_sync(burst(600), timeout=60)
            assert [a for a in answers if isinstance(a, BaseException)] == []
            assert all(a["status"] == "completed" for a in answers)
        assert "PoolTimeout" not in client.transport.counters.by_reason, client.transport.counters.by_reason
        pool = client.transport.http._transport._pool  # httpcore internals, as a diagnostic: no slot left behind
        assert not [c for c in pool.connections if "CONNECTING" in repr(c)], pool.connections
    finally:
        client.close()
