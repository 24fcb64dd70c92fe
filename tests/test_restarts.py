"""Kernel restarts and expiring results (issue 5).

A real kernel is SIGKILLed while one of its jobs runs and another waits in the queue; a new kernel (same
RUNCOMFY_NB_HOME) lists both with `rc.jobs()`, re-attaches with `rc.attach(id)` and gets their results. The
simulator lives in the test process, so it outlives the kernels.

Results expire: an expired output fails with a clear `OutputExpiredError` from `read()` and `save()`. The opt-in
auto-save (`rc.settings.autosave_dir`, `%config RunComfyMagics.autosave_dir`, env RUNCOMFY_NB_AUTOSAVE) keeps a
local copy of every output before the job is reported completed, records it in the journal, and re-attaching
(even from another kernel, after the first was killed) reports the copies; `read()` works after expiry.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from kernel_helpers import runcomfy_kernel

import runcomfy_nb as rc
from runcomfy_nb.config import settings

pytestmark = pytest.mark.kernel

WAN = "wan-ai/wan-2-5/text-to-image"
SUBMIT = 'rc.Client().submit("wan-ai/wan-2-5/text-to-image", prompt={prompt!r}, aspect_ratio="1024:1024 (1:1)")'
PNG = b"\x89PNG\r\n\x1a\n"


def sim_status(sim: Any, request_id: str) -> str:
    return next(row["status"] for row in sim.jobs() if row["request_id"] == request_id)


def wait_sim(sim: Any, request_id: str, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while sim_status(sim, request_id) != status:
        assert time.monotonic() < deadline, f"{request_id} never reached {status} (is {sim_status(sim, request_id)})"
        time.sleep(0.02)


def test_a_kernel_killed_mid_job_loses_nothing_a_new_kernel_reattaches(sim: Any, isolated_home: Path) -> None:
    sim.configure(time_scale=1.0, workers=1)  # a 3 s run on a single worker
    first = runcomfy_kernel(sim.base_url, isolated_home)
    try:
        first.run(f"running = {SUBMIT.format(prompt='running when the kernel dies')}")
        running_id = first.json("running.request_id")
        wait_sim(sim, running_id, "in_progress")
        sim.configure(paused=True)  # the next job stays queued for as long as the test wants
        first.run(f"queued = {SUBMIT.format(prompt='queued when the kernel dies')}")
        queued_id = first.json("queued.request_id")
        first.run('import time\nwhile (running.status, queued.status) != ("in_progress", "in_queue"): time.sleep(0.02)',
                  timeout=10)
        first.kill()
    finally:
        first.stop()
    # Mid-job for real: one running, one queued when the process vanished.
    assert sim_status(sim, running_id) == "in_progress" and sim_status(sim, queued_id) == "in_queue"
    sim.configure(paused=False)

    second = runcomfy_kernel(sim.base_url, isolated_home)
    try:
        listed = second.json('[[r["request_id"], r["status"], r["model_id"]] for r in rc.jobs()]')
        assert sorted(listed) == sorted([[running_id, "in_progress", WAN], [queued_id, "in_queue", WAN]])
        second.run("jobs = {r['request_id']: rc.attach(r['request_id']) for r in rc.jobs()}\n"
                   "outputs = {i: j.wait(timeout=60) for i, j in jobs.items()}", timeout=90)
        report = second.json("{i: [j.status, [list(o.to_pil().size) for o in outputs[i]]] for i, j in jobs.items()}")
    finally:
        second.stop()
    assert report == {running_id: ["completed", [[1024, 1024]]], queued_id: ["completed", [[1024, 1024]]]}
    counters = sim.counters()
    assert counters["submits_received"] == counters["submits_accepted"] == 2  # attaching never resubmits
    assert counters["jobs"] == {"succeeded": 2}
    rows = {row["request_id"]: row for row in rc.jobs()}  # the test process reads the same journal
    assert rows[running_id]["status"] == rows[queued_id]["status"] == "completed"


def test_expired_outputs_fail_with_a_clear_error(client: Any, sim: Any, tmp_path: Path) -> None:
    job = client.submit(WAN, prompt="short-lived", aspect_ratio="1024:1024 (1:1)")
    (output,) = job.wait(timeout=60)
    assert output.read()[:8] == PNG
    assert sim.expire_outputs() == 1
    for attempt in (output.read, lambda: output.save(tmp_path / "out")):
        with pytest.raises(rc.OutputExpiredError) as caught:
            attempt()
        message = str(caught.value)
        assert "no longer available" in message and "HTTP 404" in message and output.name in message
        assert "autosave_dir" in message and job.request_id in message  # says what to do, names the job
    assert not any((tmp_path / "out").iterdir())  # nothing half-written
    # The same through a re-attached job (outputs restored from the journal, no local copy)
    again = client.attach(job.request_id)
    assert again.status == "completed" and [o.url for o in again.outputs] == [output.url]
    with pytest.raises(rc.OutputExpiredError):
        again.outputs[0].read()

    # The output_ttl knob: downloadable for a while, then gone
    sim.configure(output_ttl=2.0)
    (fresh,) = client.submit(WAN, prompt="ttl", aspect_ratio="1024:1024 (1:1)").wait(timeout=60)
    assert fresh.read()[:8] == PNG
    time.sleep(2.1)
    with pytest.raises(rc.OutputExpiredError):
        fresh.read()


def test_autosave_in_process_keeps_copies_before_the_job_completes(client: Any, sim: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    keep = tmp_path / "kept"
    monkeypatch.setattr(settings, "autosave_dir", str(keep))
    jobs = [client.submit(WAN, prompt=f"kept {i} sim:images=2", aspect_ratio="1024:1024 (1:1)") for i in range(3)]
    for job in jobs:
        outputs = job.wait(timeout=60)
        # The copies exist the moment the wait returns (no race with a background saver) ...
        assert len(outputs) == 2 and all(o.saved_path and o.saved_path.parent == keep.resolve() for o in outputs)
        assert all(o.saved_path.read_bytes()[:8] == PNG for o in outputs)
        # ... and are in the journal.
        row = rc.jobs(limit=None, model_id=WAN)
        (mine,) = [r for r in row if r["request_id"] == job.request_id]
        assert mine["saved"] == [str(o.saved_path) for o in outputs]
        assert [o["saved_path"] for o in mine["outputs"]] == mine["saved"]
    assert len(list(keep.iterdir())) == 6
    sim.expire_outputs()
    assert jobs[0].outputs[1].read() == jobs[0].outputs[1].saved_path.read_bytes()
    assert client.attach(jobs[1].request_id).outputs[0].read()[:8] == PNG  # restored copy, URL expired


def test_autosave_copies_outlive_expiry_and_a_killed_kernel(sim: Any, isolated_home: Path, tmp_path: Path) -> None:
    kept_by_first, kept_by_second = tmp_path / "kept-1", tmp_path / "kept-2"
    sim.configure(time_scale=0.2)
    first = runcomfy_kernel(sim.base_url, isolated_home)
    try:
        first.run(f"%config RunComfyMagics.autosave_dir = {str(kept_by_first)!r}")
        first.run(f"done = {SUBMIT.format(prompt='kept by the first kernel')}\nouts = await done", timeout=60)
        done = first.json("{'id': done.request_id, 'url': done.outputs[0].url, "
                          "'saved': [str(o.saved_path) for o in outs]}")
        saved = Path(done["saved"][0])
        assert saved.parent == kept_by_first.resolve() and saved.read_bytes()[:8] == PNG
        sim.expire_outputs()
        assert httpx.get(done["url"]).status_code == 404
        first.run("assert outs[0].read() == outs[0].saved_path.read_bytes()")  # expired URL, local copy
        # A second job ends while no kernel is alive at all.
        sim.configure(paused=True)
        first.run(f"later = {SUBMIT.format(prompt='finishes while no kernel runs')}")
        later_id = first.json("later.request_id")
        first.kill()
    finally:
        first.stop()
    sim.configure(paused=False)
    wait_sim(sim, later_id, "succeeded")

    second = runcomfy_kernel(sim.base_url, isolated_home, env={"RUNCOMFY_NB_AUTOSAVE": str(kept_by_second)})
    try:
        second.run(f"old = rc.attach({done['id']!r})\nlater = rc.attach({later_id!r})\nlater.wait(timeout=60)")
        report = second.json("{'autosave': rc.settings.autosave_dir, 'old': [old.status, "
                             "[str(o.saved_path) for o in old.outputs]], 'later': [later.status, "
                             "[str(o.saved_path) for o in later.outputs]]}")
        assert report["autosave"] == str(kept_by_second)
        assert report["old"] == ["completed", done["saved"]]  # re-attach reports the first kernel's copy
        later_copy = Path(report["later"][1][0])
        assert report["later"][0] == "completed" and later_copy.parent == kept_by_second.resolve()
        sim.expire_outputs()
        second.run("assert old.outputs[0].read()[:8] == later.outputs[0].read()[:8] == b'\\x89PNG\\r\\n\\x1a\\n'")
    finally:
        second.stop()
    rows = {row["request_id"]: row for row in rc.jobs()}
    assert rows[done["id"]]["saved"] == done["saved"] and rows[later_id]["saved"] == [str(later_copy)]
    assert sim.counters()["submits_accepted"] == 2
