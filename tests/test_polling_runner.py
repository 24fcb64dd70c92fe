"""The polling policy inside the runner, against the real simulator over loopback: it learns a model's run time
and then asks less, keeps what it learned in the journal, batches routine journal writes, and shares wake-ups.
Counts and orders only; deadlines are hang-catchers."""

from __future__ import annotations

import asyncio
import statistics
from pathlib import Path
from typing import Any

from conftest import TEST_TOKEN

import runcomfy_nb as rc
from runcomfy_nb._journal import FLUSH_EVERY, Journal
from runcomfy_nb._polling import state_name
from runcomfy_nb.timer_wheel import _heartbeats

MODEL = "wan-ai/wan-2-5/text-to-image"
INPUTS = {"prompt": "a red fox", "aspect_ratio": "1024:1024 (1:1)"}
HANG = 120.0


def run_batch(client: Any, count: int) -> list[Any]:
    jobs = [client.submit(MODEL, INPUTS, fresh=True) for i in range(count)]
    for job in jobs:
        job.wait(HANG)
    return jobs


def test_status_requests_drop_once_a_fixed_run_time_is_learned(sim: Any, tmp_path: Path) -> None:
    sim.configure(run_times={MODEL: 60.0}, time_scale=0.1, workers=3)  # every run takes 6 s
    journal = Journal(tmp_path / "journal.sqlite3")
    client = rc.Client(token=TEST_TOKEN, base_url=sim.base_url, journal=journal)
    try:
        first = run_batch(client, 3)  # nothing known: the naive loop's ticks
        later = run_batch(client, 3)  # three samples of this input class: predicted polls
    finally:
        client.close()
    first_requests = [job.status_requests for job in first]
    later_requests = [job.status_requests for job in later]
    assert all(job.status == "completed" for job in first + later)
    assert statistics.mean(later_requests) <= 0.75 * statistics.mean(first_requests), (first_requests,
                                                                                     later_requests)
    # What it learned is on record, and a new client on the same journal starts from it.
    saved = journal.get_state(state_name(sim.base_url))
    assert saved and MODEL in saved
    again = rc.Client(token=TEST_TOKEN, base_url=sim.base_url, journal=Journal(tmp_path / "journal.sqlite3"))
    try:
        typical = again.policy.typical_run(MODEL, INPUTS)
        assert typical is not None and 3.0 < typical < 12.0, typical  # about 6 s of server time
    finally:
        again.close()


def commits_per_job(sim: Any, tmp_path: Path, count: int) -> float:
    journal = Journal(tmp_path / f"journal-{count}.sqlite3")
    client = rc.Client(token=TEST_TOKEN, base_url=sim.base_url, journal=journal)
    try:
        sim.configure(paused=True)  # all of them queued first: positions count down from count - 1
        jobs = [client.submit(MODEL, INPUTS, fresh=True) for i in range(count)]
        before = journal.commits
        sim.configure(paused=False)
        for job in jobs:
            job.wait(HANG)
    finally:
        client.close()
    assert all(job.status == "completed" for job in jobs)
    return (journal.commits - before) / count


def test_journal_commits_per_job_stay_flat_as_the_queue_grows(sim: Any, tmp_path: Path) -> None:
    # One worker, 0.3 s runs: a job far back sees its queue position change many times while it waits.
    sim.configure(run_times={MODEL: 3.0}, time_scale=0.1, workers=1)
    short = commits_per_job(sim, tmp_path, 8)
    long = commits_per_job(sim, tmp_path, 32)
    # Written one by one, each position change was a commit: per job it grew with the queue (×4 here).
    assert long <= short * 1.5 + 1, (short, long)


def test_routine_journal_changes_go_in_one_commit_per_tick(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    for i in range(5):
        journal.record_submitting(f"l{i}", MODEL, "http://127.0.0.1:1", True, {})
    before = journal.commits

    async def changes_on_a_loop() -> int:
        for position in (4, 3, 2, 1, 0):
            for i in range(5):
                journal.update_soon(f"l{i}", status="in_queue", queue_position=position)
        journal.put_state_soon("polling:x", lambda: '{"version": 1}')
        queued = journal.commits - before  # nothing written yet: the flush is a tick away
        await asyncio.sleep(FLUSH_EVERY * 3)  # the loop runs the flush first (its timer is earlier)
        return queued

    assert asyncio.run(changes_on_a_loop()) == 0
    assert journal.commits - before == 1
    assert [row["queue_position"] for row in journal.list()] == [0] * 5
    assert journal.get_state("polling:x") == '{"version": 1}'
    journal.update("l0", status="completed")  # an end is written at once
    journal.flush()  # nothing queued: no commit
    assert journal.commits - before == 2


def test_awaiting_many_jobs_shares_one_heartbeat(sim: Any, tmp_path: Path) -> None:
    # Paused until every wait has started: on a busy machine the first job could end while the last is submitted.
    sim.configure(run_times={MODEL: 10.0}, time_scale=0.1, workers=4, paused=True)
    client = rc.Client(token=TEST_TOKEN, base_url=sim.base_url, journal=Journal(tmp_path / "journal.sqlite3"))

    async def main() -> tuple[int, list[Any]]:
        jobs = [await client.submit_async(MODEL, INPUTS, fresh=True) for i in range(8)]
        waits = [asyncio.ensure_future(job.wait_async(HANG)) for job in jobs]
        await asyncio.sleep(0)  # every wait is inside the shared heartbeat now
        users = _heartbeats[asyncio.get_running_loop()].users
        await asyncio.to_thread(sim.configure, paused=False)
        await asyncio.gather(*waits)
        return users, jobs

    try:
        users, jobs = asyncio.run(main())
    finally:
        client.close()
    assert users == 8  # eight awaits, one timer between them
    assert all(job.status == "completed" for job in jobs)
