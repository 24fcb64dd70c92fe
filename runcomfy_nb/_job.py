"""`Job`: one request's state, and waiting, awaiting and cancelling it.

The runner (`_runner.py`) drives a Job on the background loop; every state change happens there and is
announced to listeners (the widgets, which attach themselves from above: see `_hooks.py`). Interrupting a wait
follows the interrupt policy (`_waiting.py`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _hooks
from ._http import normalise_status
from ._loop import check_timeout, run_coro, settle, spawn
from ._outputs import Output, output_from_dict
from ._waiting import interrupted
from .errors import JobCancelledError, JobFailedError, JobTimeoutError, RunComfyError, SubmitUncertainError
from .timer_wheel import TimerWheel, shared_heartbeat

if TYPE_CHECKING:
    from ._http import Transport
    from ._journal import Journal
    from ._polling import JobTracker, PollingPolicy

log = logging.getLogger("runcomfy_nb")

TERMINAL = frozenset({"completed", "failed", "cancelled"})
CANCELLABLE = frozenset({"submitting", "in_queue"})
_JOURNALED = ("status", "queue_position", "error", "started_at", "finished_at", "submitted_at", "request_id")
# Changes that may wait for the next batched journal flush: a queue position, the start of a run. Everything else
# (the request_id, an end, outputs, errors) is written at once.
_ROUTINE = frozenset({"queue_position", "started_at"})
Listener = Callable[["Job"], None]


class Job:
    """A submitted (or re-attached) request. Made by `Client.submit`, `Client.start` or `rc.attach`.

    Its collaborators are narrow: the transport it is polled through, the journal it is recorded in and the
    client's polling policy (which schedules its polls and learns from them).
    """

    cost: float | None = None  # USD, from the result's include_cost (None where the API gives none)
    reused: bool = False  # True: an earlier identical job returned instead of sending (runcomfy_nb.reuse)
    reused_from: float | None = None  # when that earlier job finished

    def __init__(self, model_id: str, inputs: dict[str, Any], *, transport: Transport, journal: Journal,
                 policy: PollingPolicy, local_id: str | None = None, request_id: str | None = None,
                 status: str = "submitting") -> None:
        self.model_id = model_id
        self.inputs = inputs
        self.local_id = local_id or uuid.uuid4().hex
        self.request_id: str | None = request_id
        self.status = status
        self.queue_position: int | None = None
        self.outputs: list[Output] = []
        self.error: str | None = None
        self.cancel_note = ""
        self.warnings: list[str] = []
        self.save_state = ""  # auto-save: "" (off), "saving", "saved", or "save failed: …"
        self._journal_pending: dict[str, Any] = {}  # fields the journal could not take yet (retried until it does)
        self._journal_retry: concurrent.futures.Future[None] | None = None
        self.created_at = time.time()
        self.submitted_at: float | None = None
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.end_seen_at: float | None = None  # when a status poll first saw the end (time.time())
        self.transport = transport
        self.journal = journal
        self.policy = policy
        self._tracker: JobTracker | None = None  # the policy's view of this job, while it is polled
        self._failed_requests = 0  # status requests that taught the policy nothing (errors, unknown answers)
        self._attached = False  # rebuilt from the journal: polled, but its start was not seen
        self._listeners: list[Listener] = []
        self._accepted: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._done: concurrent.futures.Future[list[Output]] = concurrent.futures.Future()
        # One done-callback for the job's whole life; each `await job` adds and removes its own waker here.
        self._waiters: set[Callable[[], None]] = set()
        self._waiters_lock = threading.Lock()
        self._done.add_done_callback(self._wake_waiters)
        self._sleeper: asyncio.Future[None] | None = None  # the runner's current sleep (on the timer wheel)
        self._saved_before: dict[str, Path] = {}  # url -> local copy, from the journal (re-attached jobs)

    @classmethod
    def from_journal(cls, row: dict[str, Any], *, transport: Transport, journal: Journal, policy: PollingPolicy,
                     model_id: str | None = None) -> Job:
        """A Job rebuilt from its journal row (after a restart, or from another process); nothing is sent.

        A finished job comes back with its outputs, local copies and timestamps (its URLs may have expired). A job
        whose submit never got a request_id (uncertain: it may exist and be billed; or refused) comes back ended,
        with the error it ended with: there is nothing to poll. Otherwise `needs_polling()` is True.
        """
        request_id = row.get("request_id")
        status = row.get("status") or "in_queue"
        job = cls(model_id or row.get("model_id") or "unknown", row.get("inputs") or {}, transport=transport,
                  journal=journal, policy=policy, local_id=row.get("local_id"), request_id=request_id,
                  status=status if status in TERMINAL or status in ("in_queue", "in_progress") else "in_queue")
        job.created_at = row.get("created_at") or job.created_at
        job._attached = True
        job.submitted_at, job.started_at = row.get("submitted_at"), row.get("started_at")
        job.queue_position = row.get("queue_position")
        outputs = [output_from_dict(item, request_id or "", transport) for item in row.get("outputs") or []
                   if isinstance(item, dict) and item.get("url")]
        job._saved_before = {o.url: o.saved_path for o in outputs if o.saved_path is not None}
        if not request_id:  # submitting / uncertain / rejected: never accepted as far as anyone knows
            message = row.get("error") or "The submit never got an answer; the job may exist."
            error: BaseException = SubmitUncertainError(message) if status != "rejected" else RunComfyError(message)
            job.status, job.error, job.finished_at = "failed", message, row.get("finished_at")
            job._accepted.set_exception(error)
            job._done.set_exception(error)
            return job
        job._accepted.set_result(request_id)
        if status == "completed" and outputs:
            job._restore("completed", outputs=outputs, finished_at=row.get("finished_at"))
        elif status in ("failed", "cancelled"):
            job._restore(status, error=row.get("error"), finished_at=row.get("finished_at"))
        elif status == "completed":  # no outputs on record: fetch the result again
            job.status = "in_progress"
        return job

    # --- reading -------------------------------------------------------------------------------------------

    @property
    def simulator(self) -> bool:
        """True when this job runs on the offline simulator (every view of it says so)."""
        return self.transport.endpoint.simulator

    @property
    def base_url(self) -> str:
        """The API endpoint this job was submitted to."""
        return self.transport.endpoint.base_url

    @property
    def status_requests(self) -> int:
        """Status requests sent for this job so far (answered ones counted by its poll tracker, plus failed ones)."""
        return (self._tracker.status_requests if self._tracker is not None else 0) + self._failed_requests

    @property
    def cancellable(self) -> bool:
        """Whether a cancel may still work (queued or being submitted, and not refused already)."""
        return self.status in CANCELLABLE and not self.cancel_note

    def needs_polling(self) -> bool:
        """True while the job has a request_id and has not ended here (a re-attached job starts polling)."""
        return self.request_id is not None and not self._done.done()

    def done(self) -> bool:
        """True once the job ended (completed, failed, cancelled) or stopped being followed."""
        return self._done.done()

    def __repr__(self) -> str:
        return f"<Job {_hooks.status_line(self)}>"  # with the save state ("saving", "save failed: …")

    def _ipython_display_(self) -> None:
        """In a notebook: the live JobView plus a static copy (attached by the presentation layer). Where only
        text is shown (terminal IPython): the status line, once, and no display handle that would print later."""
        _hooks.display_job(self)

    def _repr_html_(self) -> str | None:
        presenter = _hooks.get_presenter()
        return presenter.job_html(self) if presenter is not None else None

    def _display_(self) -> Any:
        """marimo's display protocol: the live view (marimo keeps it in sync), else the status line."""
        presenter = _hooks.get_presenter()
        return presenter.show(self) if presenter is not None else repr(self)

    def on_change(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(job)` on the loop thread after every state change; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # --- waiting -------------------------------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> list[Output]:
        """Block until the job ends; its outputs, or JobFailedError / JobCancelledError / JobTimeoutError.

        Front-end messages (a cancel click) are not handled while a cell blocks here: `await job` keeps them
        flowing. Interrupting follows the interrupt policy (cancel if queued, else detach).
        """
        check_timeout(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        line = _hooks.progress_line(self)  # a status line rewritten in place, on a terminal only
        try:
            while True:
                line.update(_hooks.status_line(self))
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise self._timeout(timeout)
                try:
                    # short slices so that an interrupt is noticed promptly
                    self._done.result(timeout=0.2 if left is None else min(0.2, left))
                    break
                except concurrent.futures.TimeoutError:
                    continue
                except RunComfyError:
                    break
        except KeyboardInterrupt:
            self._interrupted()
            raise
        finally:  # the final status ends the line, also on an interrupt: the traceback starts on its own line
            line.finish(_hooks.status_line(self))
        return self._final()

    def __await__(self) -> Generator[Any, None, list[Output]]:
        return self.wait_async().__await__()

    async def wait_async(self, timeout: float | None = None) -> list[Output]:
        """`await job` with an optional deadline; keeps the kernel's loop free (a cancel click still arrives)."""
        # Not asyncio.wrap_future: its copy of a failed job's exception would be logged as "never retrieved"
        # when a wait ends early, and cancelling it would cancel `_done` itself. A plain wake-up instead.
        check_timeout(timeout)
        loop = asyncio.get_running_loop()
        woken = loop.create_future()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # that loop may be closed by now
                loop.call_soon_threadsafe(settle, woken)

        with self._waiters_lock:
            self._waiters.add(wake)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            # One periodic wake-up per loop, however many jobs are awaited, so that an interrupt is noticed promptly.
            async with shared_heartbeat():
                while not self._done.done():
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise self._timeout(timeout)
                    await asyncio.wait({woken}, timeout=left)
        except (asyncio.CancelledError, KeyboardInterrupt):
            self._interrupted()
            raise
        finally:
            with self._waiters_lock:
                self._waiters.discard(wake)
        return self._final()

    def _wake_waiters(self, _future: object) -> None:
        with self._waiters_lock:
            waiters = list(self._waiters)
        for wake in waiters:
            wake()

    def _timeout(self, timeout: float | None) -> JobTimeoutError:
        return JobTimeoutError(f"Waited {timeout} s; the job is still {self.status} and keeps running — wait again, "
                               "or job.cancel() while it is queued", request_id=self.request_id)

    def _final(self) -> list[Output]:
        error = self._done.exception()
        if error is not None:
            raise error
        return self._done.result()

    def _interrupted(self) -> None:
        """The interrupt policy: cancel if still queued, else detach (see `_waiting.interrupted`)."""
        interrupted(self, cancellable=self.status in CANCELLABLE)

    # --- cancelling ----------------------------------------------------------------------------------------

    def cancel(self, timeout: float | None = 30) -> bool:
        """Cancel while queued: True if cancelled; False if the API says not_cancellable or it already ended."""
        check_timeout(timeout)
        return run_coro(self.cancel_async()).result(timeout)

    async def cancel_async(self) -> bool:
        """`cancel()` for async code (runs on any loop; the request goes out on the background loop's pool)."""
        if self.status in TERMINAL:
            return False
        if self.request_id is None:
            await asyncio.shield(asyncio.wrap_future(self._accepted))
        assert self.request_id is not None
        outcome = await self.transport.cancel(self.request_id)
        if outcome == "not_cancellable" and not self._done.done():
            # A retried cancel whose first attempt did reach the server (its answer was lost) is told
            # "not_cancellable" about the job it just cancelled: ask the API what the job is now.
            with contextlib.suppress(RunComfyError):
                if normalise_status((await self.transport.status(self.request_id)).get("status")) == "cancelled":
                    outcome = "cancelled"
        if outcome == "cancelled":
            self._finish("cancelled")
            return True
        self._set(cancel_note="not cancellable — already running" if outcome == "not_cancellable" else
                  f"not cancelled ({outcome or 'no outcome given'})")
        self._poke()
        return False

    def cancel_in_background(self) -> None:
        """For a widget's cancel button: runs on the loop (kept until it ends); errors become the cancel note."""
        async def go() -> None:
            try:
                await self.cancel_async()
            except Exception as error:
                self._set(cancel_note=f"cancel failed: {error}")

        spawn(go(), owner=self.transport)

    # --- state changes (the loop thread; the runner calls these) -------------------------------------------

    def _set(self, _journaled: bool = False, **changes: Any) -> None:
        changed = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if not changed:
            return
        for key, value in changed.items():
            setattr(self, key, value)
        journal_fields = {k: v for k, v in changed.items() if k in _JOURNALED}
        if "outputs" in changed:
            journal_fields["outputs"] = [o.to_dict() for o in self.outputs]
            journal_fields["saved"] = [str(o.saved_path) for o in self.outputs if o.saved_path]
        routine = journal_fields and (set(journal_fields) - {"status"} <= _ROUTINE
                                      and journal_fields.get("status", "in_progress") in ("in_queue", "in_progress"))
        if routine and not _journaled:  # batched with every job's routine changes: one commit per tick
            self.journal.update_soon(self.local_id, **journal_fields)
        elif journal_fields and not _journaled:  # _journaled: the runner put it on record (Journal.commit_soon)
            self._record(**journal_fields)
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:
                log.exception("runcomfy_nb: a job listener failed")

    def _record(self, **fields: Any) -> None:
        """Write to the journal. When it cannot (a full disk) the job goes on: the fields are kept in memory, said
        loudly once (warnings, log), and retried in the background until they land — a request_id that is not on
        record could not be re-attached."""
        fields = {**self._journal_pending, **fields}
        try:
            self.journal.update(self.local_id, **fields)
        except Exception as error:
            self._not_recorded(fields, error)
        else:
            self._recorded()

    def _not_recorded(self, fields: dict[str, Any], error: Exception) -> None:
        if not self._journal_pending:  # said once, loudly
            message = (f"the journal ({self.journal.path}) cannot record this job ({error}); request_id "
                       f"{fields.get('request_id') or self.request_id or '(not yet known)'} is kept in memory and "
                       "the write is retried until it lands — do not restart the kernel before it does")
            self.warnings.append(message)
            log.error("runcomfy_nb: %s", message)
        self._journal_pending = fields
        if self._journal_retry is None or self._journal_retry.done():
            self._journal_retry = spawn(self._retry_record(), owner=self.transport)

    def _recorded(self) -> None:
        if self._journal_pending:
            self._journal_pending = {}
            log.warning("runcomfy_nb: the journal recorded job %s after all", self.request_id or self.local_id)

    async def _retry_record(self) -> None:
        delay = 0.5
        while self._journal_pending:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
            self._record()

    def _poke(self) -> None:
        """Poll now (a cancel was refused, the job ended): ends the runner's current sleep, from any thread."""
        sleeper = self._sleeper
        if sleeper is not None and not sleeper.done():
            with contextlib.suppress(RuntimeError):  # its loop is closed: nothing sleeps there any more
                sleeper.get_loop().call_soon_threadsafe(TimerWheel.wake, sleeper)

    def _restore(self, status: str, *, outputs: list[Output] | None = None, error: str | None = None,
                 finished_at: float | None = None) -> None:
        """End a job rebuilt from the journal as it ended then, without writing the journal again."""
        self.status, self.queue_position, self.finished_at = status, None, finished_at
        self.outputs, self.error = outputs or [], error
        self._resolve(status, error, None)

    def _finish(self, status: str, *, outputs: list[Output] | None = None, error: str | None = None,
                exception: BaseException | None = None, finished_at: float | None = None) -> None:
        if self._done.done():
            return
        now = time.time()
        finished_at = finished_at or self.finished_at or now  # shown completed before its auto-save: that moment
        changes: dict[str, Any] = {"status": status, "queue_position": None, "finished_at": finished_at}
        if outputs is not None:
            changes["outputs"] = outputs
        if error is not None:
            changes["error"] = error
        if status == "completed" and self.started_at is None:
            changes["started_at"] = self.submitted_at or now
        self._set(**changes)
        self._resolve(status, error, exception)
        self._poke()

    def _resolve(self, status: str, error: str | None, exception: BaseException | None) -> None:
        if exception is None and status == "failed":
            exception = JobFailedError(f"The job failed: {error or 'no error message'}",
                                       request_id=self.request_id or self.local_id, error=error)
        elif exception is None and status == "cancelled":
            exception = JobCancelledError("The job was cancelled", request_id=self.request_id or self.local_id)
        if self._done.done():
            return
        if exception is not None:
            self._done.set_exception(exception)
        else:
            self._done.set_result(self.outputs)

    def _stop_following(self, reason: str) -> None:
        """The client was closed: this process stops polling; the job itself goes on (and can be re-attached)."""
        if not self._done.done():
            self._done.set_exception(RunComfyError(
                f"No longer followed: {reason}. The job keeps running; rc.attach({self.request_id!r}) picks it up "
                "again.", request_id=self.request_id))
        if not self._accepted.done():
            self._accepted.set_exception(RunComfyError(f"The submit was abandoned: {reason}"))

