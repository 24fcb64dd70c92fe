"""Interrupting a real kernel (the ■ button: `interrupt_kernel()`, SIGINT) while a cell waits on a job follows
the interrupt policy of DESIGN.md, for `job.wait()` and for `await job` alike:

- the job is still queued → it is cancelled (the simulator counts exactly one cancel, the job ends cancelled);
- it is running → the wait detaches: no cancel is sent, the job keeps running and completes in the background
  (`job.status` later says completed, with its outputs);
- either way the cell ends (its execute_reply arrives) without waiting for the API, even when the API is slow to
  answer the cancel, and the kernel stays healthy: the next cell runs.

How promptly the cell ends is a figure, not a test (a busy machine would flake it): `python
scripts/bench_interrupts.py` prints it. Here a hang is caught by a generous deadline, and "does not wait for a slow
cancel" is checked by order: the reply arrives while the simulator is still holding the cancel.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernel_helpers import Kernel, runcomfy_kernel

pytestmark = pytest.mark.kernel

SUBMIT = ('job = rc.Client().submit("wan-ai/wan-2-5/text-to-image", prompt={prompt!r}, '
          'aspect_ratio="1024:1024 (1:1)")')
WAITS = {"wait": "job.wait(timeout=120)", "await": "await job"}
HANG = 20.0  # seconds: far beyond any interrupt, still catches a wait that ignores it (its own timeout is 120 s)


@pytest.fixture
def kernel(sim: Any, isolated_home: Path) -> Iterator[Kernel]:
    k = runcomfy_kernel(sim.base_url, isolated_home)
    yield k
    k.stop()


def interrupt_during(kernel: Kernel, code: str) -> tuple[dict[str, Any], str]:
    """Run `code`, interrupt it once it is blocked, and wait for the reply: (reply, what it printed)."""
    msg_id = kernel.start(code)
    kernel.busy(msg_id)
    time.sleep(0.5)  # well inside the wait
    with pytest.raises(TimeoutError):
        kernel.reply(msg_id, timeout=0.01)  # still blocked: the wait really was waiting
    kernel.manager.interrupt_kernel()
    reply = kernel.reply(msg_id, timeout=HANG)
    kernel.idle(msg_id)
    return reply, kernel.stream(msg_id)


def assert_healthy(kernel: Kernel) -> None:
    assert kernel.json("sum(range(10))", timeout=10) == 45


@pytest.mark.parametrize("how", list(WAITS))
def test_interrupting_a_wait_on_a_queued_job_cancels_it(kernel: Kernel, sim: Any, how: str) -> None:
    sim.configure(paused=True)
    kernel.run(SUBMIT.format(prompt=f"queued, then interrupted ({how})"))
    request_id = kernel.json("job.request_id")
    reply, printed = interrupt_during(kernel, WAITS[how])
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == ("KeyboardInterrupt" if how == "wait" else "CancelledError")
    assert f"the queued job {request_id} was cancelled" in printed
    assert sim.counters()["cancels"] == {"cancelled": 1, "not_cancellable": 0}
    (row,) = sim.jobs()
    assert row["status"] == "cancelled"
    assert kernel.json("job.status") == "cancelled"
    assert_healthy(kernel)


@pytest.mark.parametrize("how", list(WAITS))
def test_interrupting_a_wait_on_a_running_job_detaches(kernel: Kernel, sim: Any, how: str) -> None:
    sim.configure(time_scale=1.5)  # a 4.5 s run
    kernel.run(SUBMIT.format(prompt=f"running, then interrupted ({how})"))
    kernel.run('import time\nwhile job.status != "in_progress": time.sleep(0.02)', timeout=10)
    request_id = kernel.json("job.request_id")
    reply, printed = interrupt_during(kernel, WAITS[how])
    assert reply["content"]["status"] == "error"
    assert f"Job {request_id} is in_progress and keeps running" in printed
    assert sim.counters()["cancels"] == {"cancelled": 0, "not_cancellable": 0}  # detached: no cancel sent
    assert kernel.json("job.status") == "in_progress"
    assert_healthy(kernel)
    # Nobody waits on it any more; the background loop still follows it to the end.
    kernel.run("import time\nt = time.monotonic()\n"
               "while job.status != 'completed' and time.monotonic() - t < 30: time.sleep(0.05)", timeout=40)
    assert kernel.json("[job.status, len(job.outputs), job.outputs[0].read()[:4].hex()]") == \
        ["completed", 1, "89504e47"]
    (row,) = sim.jobs()
    assert row["status"] == "succeeded"


def test_an_interrupt_returns_promptly_even_when_the_cancel_is_slow(kernel: Kernel, sim: Any) -> None:
    """The simulator holds the cancel for 6 s: the cell ends before it is answered; the cancel lands in the background."""
    sim.configure(paused=True, fail_next={"cancel": 1}, fail_next_kind="slow", faults={"slow_seconds": 6.0})
    kernel.run(SUBMIT.format(prompt="queued behind a slow cancel"))
    reply, printed = interrupt_during(kernel, WAITS["await"])
    assert reply["content"]["status"] == "error"
    assert sim.counters()["cancels"] == {"cancelled": 0, "not_cancellable": 0}  # still held: the cell did not wait
    assert "cancelling the queued job" in printed and "in the background" in printed
    assert_healthy(kernel)
    kernel.run("import time\nt = time.monotonic()\n"
               "while job.status != 'cancelled' and time.monotonic() - t < 30: time.sleep(0.05)", timeout=40)
    assert kernel.json("job.status") == "cancelled"
    assert sim.counters()["cancels"] == {"cancelled": 1, "not_cancellable": 0}
