"""A job's life through the layers, against the simulator over loopback: the bugs the restructuring fixed.

A failing journal cannot hang `submit()`; re-attaching an uncertain submit by its local id polls nothing; a
passing catalog failure is not remembered for good; `await job` leaves nothing behind; every background task is
kept and closing a client stops them; a schema is normalised once, not on every check.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_TOKEN, polling_left_behind

import runcomfy_nb as rc
from runcomfy_nb import _loop, schemas
from runcomfy_nb._http import RetryPolicy
from runcomfy_nb._journal import Journal

MODEL = "wan-ai/wan-2-5/text-to-image"
INPUTS = {"prompt": "a red fox", "aspect_ratio": "1024:1024 (1:1)"}


class BrokenJournal(Journal):
    """A journal whose updates fail (a full disk): the first row is written, nothing after it."""

    def update(self, local_id: str, **values: Any) -> None:
        raise OSError("No space left on device")


def test_submit_returns_even_when_the_journal_fails_on_the_failure_path(sim: Any, tmp_path: Path) -> None:
    sim.configure(fail_next={"submit": 1}, fail_next_kind="drop")
    client = rc.Client(token=TEST_TOKEN, base_url=sim.base_url, journal=BrokenJournal(tmp_path / "j.sqlite3"))
    outcome: list[BaseException] = []

    def submit() -> None:
        try:
            client.submit(MODEL, INPUTS)
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=submit, daemon=True)
    try:
        worker.start()
        worker.join(timeout=60)  # hang-catching deadline: before the fix this thread waited for ever
        assert not worker.is_alive(), "submit() hung after the journal failed"
        assert len(outcome) == 1 and isinstance(outcome[0], rc.SubmitUncertainError)
        assert sim.counters()["submits_received"] == 1
    finally:
        client.close()


def test_attaching_an_uncertain_submit_by_local_id_polls_nothing(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("RUNCOMFY_API_BASE", sim.base_url)
    sim.configure(fail_next={"submit": 1}, fail_next_kind="drop")
    with pytest.raises(rc.SubmitUncertainError):
        rc.submit(MODEL, INPUTS)
    (row,) = rc.jobs()
    assert row["status"] == "uncertain" and row["request_id"] is None
    job = rc.attach(row["local_id"])
    assert job.done() and job.status == "failed" and job.request_id is None
    with pytest.raises(rc.SubmitUncertainError):
        job.wait(timeout=30)
    counters = sim.counters()["requests"]
    assert counters["GET status"] == 0 and counters["GET result"] == 0  # the local id was never polled
    (after,) = rc.jobs()
    assert after["status"] == "uncertain"  # still flagged "may exist": not turned into a failure


def test_a_passing_catalog_failure_is_not_remembered_for_good(sim: Any) -> None:
    client = rc.Client(token=TEST_TOKEN, base_url=sim.base_url, retry=RetryPolicy(attempts=1))
    try:
        sim.configure(fail_next={"catalog": 1}, fail_next_kind="503")
        assert client.schema(MODEL) == schemas.shipped_schema(MODEL)  # the shipped schema stands in
        asked = sim.counters()["requests"]["GET catalog"]
        assert client.schema(MODEL) == schemas.shipped_schema(MODEL)  # within the retry window: not asked again
        assert sim.counters()["requests"]["GET catalog"] == asked
        client.schema_retry_after = 0
        assert client.schema(MODEL)["required"] == ["prompt"]  # asked again, answered: kept from now on
        client.schema(MODEL)
        assert sim.counters()["requests"]["GET catalog"] == asked + 1
    finally:
        client.close()


def test_awaiting_a_job_many_times_leaves_no_callbacks(client: Any, sim: Any) -> None:
    sim.configure(paused=True)
    job = client.submit(MODEL, INPUTS)

    async def await_briefly(times: int) -> None:
        for _ in range(times):
            with contextlib.suppress(rc.JobTimeoutError):
                await job.wait_async(timeout=0.01)

    asyncio.run(await_briefly(20))
    assert job._waiters == set()
    assert len(job._done._done_callbacks) == 1  # type: ignore[attr-defined]  # the job's own, for its whole life
    sim.configure(paused=False)

    async def await_to_the_end() -> list[Any]:
        return await job

    assert len(asyncio.run(await_to_the_end())) == 1 and job._waiters == set()


def test_closing_a_client_stops_its_polling_and_keeps_the_job_on_record(sim: Any) -> None:
    sim.configure(paused=True)
    client = rc.Client(token=TEST_TOKEN, base_url=sim.base_url)
    job = client.submit(MODEL, INPUTS)
    assert len(_loop.live_tasks(client.transport)) == 1  # one kept task per job: submit, poll, fetch, save
    client.close()
    assert _loop.live_tasks(client.transport) == []
    assert job.done() and job.status == "in_queue"  # it goes on on the server
    with pytest.raises(rc.RunComfyError, match="No longer followed"):
        job.wait(timeout=30)
    (row,) = rc.jobs()
    assert row["request_id"] == job.request_id and row["status"] == "in_queue"  # re-attachable


def test_a_forgotten_client_is_caught_by_the_test_fixture(sim: Any) -> None:
    sim.configure(paused=True)
    forgotten = rc.Client(token=TEST_TOKEN, base_url=sim.base_url)
    job = forgotten.submit(MODEL, INPUTS)
    left = polling_left_behind()  # what the autouse fixture runs after every test
    assert left == [f"runcomfy job {MODEL} {job.local_id}"]
    assert _loop.live_tasks() == [] and job.done()  # and it stopped the task, so no later test sees it
    forgotten.close()


def test_a_kept_task_runs_even_when_nobody_holds_it() -> None:
    owner = object()
    started = threading.Event()

    async def wait_on_an_orphan_future() -> None:
        started.set()
        await asyncio.get_running_loop().create_future()  # referenced by nothing but this task

    _loop.spawn(wait_on_an_orphan_future(), owner=owner)  # the returned future is dropped at once
    assert started.wait(30)
    import gc

    gc.collect()
    assert len(_loop.live_tasks(owner)) == 1  # asyncio alone keeps only a weak reference to it
    assert _loop.cancel_owned(owner) == 1 and _loop.live_tasks(owner) == []


def test_a_schema_is_normalised_once_for_many_checks(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = schemas._normalise
    monkeypatch.setattr(schemas, "_normalise", lambda raw: calls.append(1) or original(raw))
    raw = client.schema(MODEL)
    for seed in range(3):
        client.check(MODEL, {**INPUTS, "prompt": f"fox {seed}"})
    client.field_errors(MODEL, INPUTS)
    schemas.describe_fields(raw)
    assert len(calls) == 1


def test_form_messages_name_runs_by_local_id_and_traits_are_written_on_the_loop(client: Any, sim: Any) -> None:
    # the first submit is answered slowly, so that Cancel arrives while the run is still "submitting"
    sim.configure(paused=True, fail_next={"submit": 1}, fail_next_kind="slow", faults={"rate": 0, "slow_seconds": 1})
    form = rc.form(MODEL, client=client, **INPUTS)
    writers: list[str] = []
    form.observe(lambda _change: writers.append(threading.current_thread().name),
                 names=["history", "errors", "busy", "values"])
    first = form.submit()
    assert first is not None and first.status == "submitting" and first.request_id is None
    form._on_front_end_message(form, {"type": "cancel", "local_id": first.local_id}, [])
    with pytest.raises(rc.JobCancelledError):
        first.wait(timeout=60)
    assert sim.counters()["cancels"] and sim.jobs()[0]["status"] == "cancelled"
    form.values = {**form.values, "prompt": "a second run"}
    second = form.submit()
    assert second is not None and [entry["local_id"] for entry in form.history] == [second.local_id, first.local_id]
    form._on_front_end_message(form, {"type": "load", "local_id": first.local_id}, [])
    assert form.values["prompt"] == INPUTS["prompt"]  # the first run's inputs, wherever it sits in the list
    form._on_front_end_message(form, {"type": "cancel", "local_id": second.local_id}, [])
    with pytest.raises(rc.JobCancelledError):
        second.wait(timeout=60)
    # every write this test did not make itself (it set `values` once, from here) came from the loop thread
    assert writers and set(writers) - {threading.current_thread().name} == {"runcomfy-nb-loop"}
    assert writers.count(threading.current_thread().name) == 1


def test_cancelling_submit_async_leaves_the_accepted_job_followed(client: Any, sim: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Cancelling `await client.submit_async(...)` (an interrupted cell, a cancelled task) while the POST is out
    stops only that wait: the API's acceptance still lands on the job, which stays in the journal with its
    request id and is followed to its end (12febc8: the wait is shielded)."""
    sim.configure(faults={"rate": 1.0, "kinds": ["slow"], "paths": ["submit"], "slow_seconds": 2.0})
    started: list[Any] = []
    start = client.start
    monkeypatch.setattr(client, "start", lambda *a, **k: started.append(start(*a, **k)) or started[-1])

    async def submit_then_give_up() -> None:
        task = asyncio.ensure_future(client.submit_async(MODEL, INPUTS))
        for _ in range(3000):  # hang-catcher: until the POST has reached the simulator (it answers 2 s later)
            if sim.counters()["submits_received"] == 1:
                break
            await asyncio.sleep(0.02)
        assert sim.counters()["submits_received"] == 1 and not task.done(), "cancel while the POST is out"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(submit_then_give_up())
    (job,) = started
    assert not job._accepted.cancelled()  # the acceptance was not thrown away with the wait (fails unshielded)
    assert job._accepted.result(timeout=60) == job.request_id and job.request_id
    assert len(job.wait(timeout=60)) == 1 and job.status == "completed"  # followed to its end
    row = client.journal.get(job.local_id)
    assert row["request_id"] == job.request_id and row["status"] == "completed"
    assert sim.counters()["submits_accepted"] == 1
