"""The interrupt policy (DESIGN.md): interrupting a wait cancels the job if it is still queued, and otherwise
detaches (the job keeps being polled in the background, stays in the journal and can be re-attached)."""

from __future__ import annotations

import concurrent.futures
import sys
import time
from collections.abc import Coroutine
from typing import Any, Protocol

from ._loop import run_coro

INTERRUPT_BUDGET = 0.4  # an interrupted wait returns within this (DESIGN.md: interrupts are handled promptly)


class Waited(Protocol):
    """What the interrupt policy uses of a Job."""

    request_id: str | None
    status: str

    def done(self) -> bool: ...

    def cancel_async(self) -> Coroutine[Any, Any, bool]: ...


def interrupted(job: Waited, *, cancellable: bool) -> None:
    """The interrupt policy: cancel if still queued (`cancellable`), else detach. Returns within INTERRUPT_BUDGET
    seconds even when the API is slow: a cancel that has not been answered by then goes on in the background."""
    deadline = time.monotonic() + INTERRUPT_BUDGET
    if cancellable and not job.done():
        pending = run_coro(job.cancel_async())
        try:
            cancelled = pending.result(timeout=max(deadline - time.monotonic(), 0.05))
        except concurrent.futures.TimeoutError:
            print(f"runcomfy: interrupted — cancelling the queued job {job.request_id or '(being submitted)'} "
                  "in the background; job.status will say whether it was cancelled.", file=sys.stderr)
            return
        except Exception as error:  # the interrupt must still go through
            cancelled = False
            print(f"runcomfy: could not cancel on interrupt: {error}", file=sys.stderr)
        if cancelled:
            print(f"runcomfy: interrupted — the queued job {job.request_id} was cancelled.", file=sys.stderr)
            return
    print(f"runcomfy: interrupted — stopped waiting. Job {job.request_id} is {job.status} and keeps running; "
          f"it is in rc.jobs() and `job.wait()` or rc.attach({job.request_id!r}) picks it up again.",
          file=sys.stderr)
