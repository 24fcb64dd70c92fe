"""`Job`: one request's state machine, polled on the background loop; waiting, awaiting, cancelling.

All state changes happen on the loop thread and are announced to listeners (the widgets) there.
Interrupt policy (DESIGN.md): interrupting a wait or an await cancels the job if it is still queued, and
otherwise detaches: the job keeps being polled in the background, stays in the journal and can be re-attached.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .client import normalise_status
from .config import settings
from .errors import (
    AuthError,
    JobCancelledError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    RunComfyError,
    SubmitUncertainError,
)
from .loop import get_loop, run_coro
from .outputs import Output, parse_outputs
from .polling import DENSE, SPARSE, PollSchedule

if TYPE_CHECKING:
    from .api import Client

log = logging.getLogger("runcomfy_nb")

TERMINAL = frozenset({"completed", "failed", "cancelled"})
CANCELLABLE = frozenset({"submitting", "in_queue"})
GIVE_UP_AFTER = 600.0  # seconds of nothing but transport/server errors before a poll loop gives up
INTERRUPT_BUDGET = 0.4  # an interrupted wait returns within this (DESIGN.md: interrupts are handled promptly)
Listener = Callable[["Job"], None]


class Job:
    """A submitted (or re-attached) request. Create with `Client.submit`, `Client.start` or `rc.attach`."""

    def __init__(self, client: Client, model_id: str, inputs: dict[str, Any], *, local_id: str | None = None,
                 request_id: str | None = None, status: str = "submitting") -> None:
        self.client = client
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
        self._journal_retry: asyncio.Task[None] | None = None
        self.created_at = time.time()
        self.submitted_at: float | None = None
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.status_requests = 0
        self._last_running_seen: float | None = None  # for learning run times without our own polling lag
        self._end_seen: float | None = None
        self._listeners: list[Listener] = []
        self._accepted: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._done: concurrent.futures.Future[list[Output]] = concurrent.futures.Future()
        self._poll_task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self.view: Any = None  # the JobView, made on first display
        self._saved_before: dict[str, Path] = {}  # url -> local copy, from the journal (re-attached jobs)

    # --- reading -------------------------------------------------------------------------------------------

    @property
    def simulator(self) -> bool:
        return self.client.endpoint.simulator

    @property
    def base_url(self) -> str:
        return self.client.endpoint.base_url

    @property
    def cancellable(self) -> bool:
        return self.status in CANCELLABLE and not self.cancel_note

    def run_time_estimate(self) -> float | None:
        """Seconds the run took on the server, estimated between the last poll that saw it running and the
        first that saw it end (finished_at - started_at would add our polling lag, and the schedule would learn
        an ever later end)."""
        if self.started_at is None or self._end_seen is None:
            return None
        gap = self._end_seen - (self._last_running_seen or self.started_at)
        if gap <= SPARSE * 1.5:  # close polls bracket the end: take the middle
            end = self._end_seen - gap / 2
        else:  # one long sleep overshot the end by an unknown amount: aim a little earlier next time
            end = self._end_seen - min(0.05 * (self._end_seen - self.started_at), 1.0)
        return max(end - self.started_at, 0.0)

    def done(self) -> bool:
        return self._done.done()

    def __repr__(self) -> str:
        where = " simulator" if self.simulator else ""
        extra = f" position={self.queue_position}" if self.queue_position is not None else ""
        outputs = f" outputs={len(self.outputs)}" if self.outputs else ""
        saving = f" ({self.save_state})" if self.save_state and self.save_state != "saved" else ""
        return (f"<Job {self.model_id} {self.request_id or self.local_id[:8]} {self.status}{extra}{outputs}{saving}"
                f"{where}>")

    def _ipython_display_(self) -> None:
        """In a notebook: the live JobView, plus a static copy that stays in the saved file."""
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None and getattr(self, "_suppress_display_at", None) == shell.execution_count:
            return  # the magic already displayed it (or `;` hid it) in this very cell
        from .widgets import show

        show(self)._ipython_display_()

    def _repr_html_(self) -> str:
        from .render import job_html

        return job_html(self)

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
        try:
            while True:
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
        return self._final()

    def __await__(self):  # type: ignore[no-untyped-def]
        return self.wait_async().__await__()

    async def wait_async(self, timeout: float | None = None) -> list[Output]:
        """`await job` with an optional deadline; keeps the kernel's loop free (a cancel click still arrives)."""
        # Not asyncio.wrap_future: its copy of a failed job's exception would be logged as "never retrieved"
        # when a wait ends early, and cancelling it would cancel `_done` itself. A plain wake-up instead.
        loop = asyncio.get_running_loop()
        woken = loop.create_future()

        def wake(_: object) -> None:
            with contextlib.suppress(RuntimeError):  # that loop may be closed by now
                loop.call_soon_threadsafe(lambda: woken.done() or woken.set_result(None))

        check_timeout(timeout)
        self._done.add_done_callback(wake)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not self._done.done():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise self._timeout(timeout)
                # a short periodic timer keeps the loop waking so an interrupt is noticed promptly
                await asyncio.wait({woken}, timeout=0.1 if left is None else min(0.1, left))
        except (asyncio.CancelledError, KeyboardInterrupt):
            self._interrupted()
            raise
        return self._final()

    def _timeout(self, timeout: float | None) -> JobTimeoutError:
        return JobTimeoutError(f"Waited {timeout} s; the job is still {self.status} and keeps running — wait again, "
                               "or job.cancel() while it is queued", request_id=self.request_id)

    def _final(self) -> list[Output]:
        error = self._done.exception()
        if error is not None:
            raise error
        return self._done.result()

    def _interrupted(self) -> None:
        """The interrupt policy: cancel if still queued, else detach. Returns within INTERRUPT_BUDGET seconds
        even when the API is slow: a cancel that has not been answered by then goes on in the background."""
        deadline = time.monotonic() + INTERRUPT_BUDGET
        if self.status in CANCELLABLE and not self._done.done():
            pending = run_coro(self.cancel_async())
            try:
                cancelled = pending.result(timeout=max(deadline - time.monotonic(), 0.05))
            except concurrent.futures.TimeoutError:
                print(f"runcomfy: interrupted — cancelling the queued job {self.request_id or '(being submitted)'} "
                      "in the background; job.status will say whether it was cancelled.", file=sys.stderr)
                return
            except Exception as error:  # the interrupt must still go through
                cancelled = False
                print(f"runcomfy: could not cancel on interrupt: {error}", file=sys.stderr)
            if cancelled:
                print(f"runcomfy: interrupted — the queued job {self.request_id} was cancelled.", file=sys.stderr)
                return
        print(f"runcomfy: interrupted — stopped waiting. Job {self.request_id} is {self.status} and keeps running; "
              f"it is in rc.jobs() and `job.wait()` or rc.attach({self.request_id!r}) picks it up again.",
              file=sys.stderr)

    # --- cancelling ----------------------------------------------------------------------------------------

    def cancel(self, timeout: float | None = 30) -> bool:
        """Cancel while queued: True if cancelled; False if the API says not_cancellable or it already ended."""
        check_timeout(timeout)
        return run_coro(self.cancel_async()).result(timeout)

    async def cancel_async(self) -> bool:
        if self.status in TERMINAL:
            return False
        if self.request_id is None:
            await asyncio.wrap_future(self._accepted)
        assert self.request_id is not None
        outcome = await self.client.api.cancel(self.request_id)
        if outcome == "not_cancellable" and not self._done.done():
            # A retried cancel whose first attempt did reach the server (its answer was lost) is told
            # "not_cancellable" about the job it just cancelled: ask the API what the job is now.
            with contextlib.suppress(RunComfyError):
                if normalise_status((await self.client.api.status(self.request_id)).get("status")) == "cancelled":
                    outcome = "cancelled"
        if outcome == "cancelled":
            self._finish("cancelled")
            return True
        self._set(cancel_note="not cancellable — already running" if outcome == "not_cancellable" else
                  f"not cancelled ({outcome or 'no outcome given'})")
        self._poke()
        return False

    def cancel_in_background(self) -> None:
        """For a widget's cancel button: runs on the loop, errors end up in the job's warnings."""
        async def go() -> None:
            try:
                await self.cancel_async()
            except Exception as error:
                self._set(cancel_note=f"cancel failed: {error}")

        get_loop().call_soon_threadsafe(lambda: asyncio.ensure_future(go()))

    # --- the loop-thread side ------------------------------------------------------------------------------

    def _set(self, **changes: Any) -> None:
        changed = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if not changed:
            return
        for key, value in changed.items():
            setattr(self, key, value)
        journal_fields = {k: v for k, v in changed.items()
                          if k in ("status", "queue_position", "error", "started_at", "finished_at", "submitted_at",
                                   "request_id")}
        if "outputs" in changed:
            journal_fields["outputs"] = [o.to_dict() for o in self.outputs]
            journal_fields["saved"] = [str(o.saved_path) for o in self.outputs if o.saved_path]
        if journal_fields:
            self._journal_write(journal_fields)
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:
                log.exception("runcomfy_nb: a job listener failed")

    def _journal_write(self, fields: dict[str, Any]) -> None:
        """Record `fields`; when the journal cannot (a full disk), keep them in memory, say so loudly, and retry
        in the background until they land — a request_id that is not on record could not be re-attached."""
        fields = {**self._journal_pending, **fields}
        try:
            self.client.journal.update(self.local_id, **fields)
        except Exception as error:
            first = not self._journal_pending
            self._journal_pending = fields
            if first:
                message = (f"the journal ({self.client.journal.path}) cannot record this job ({error}); request_id "
                           f"{self.request_id or '(not yet known)'} is kept in memory and the write is retried "
                           "until it lands — do not restart the kernel before it does")
                self.warnings.append(message)
                log.error("runcomfy_nb: %s", message)
            self._schedule_journal_retry()
            return
        if self._journal_pending:
            self._journal_pending = {}
            log.warning("runcomfy_nb: the journal recorded job %s after all", self.request_id)

    def _schedule_journal_retry(self) -> None:
        if self._journal_retry is not None and not self._journal_retry.done():
            return

        async def retry() -> None:
            delay = 0.5
            while self._journal_pending:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                self._journal_write({})

        loop = get_loop()

        def start() -> None:
            self._journal_retry = asyncio.ensure_future(retry())

        with contextlib.suppress(RuntimeError):
            if asyncio.get_running_loop() is loop:
                start()
                return
        loop.call_soon_threadsafe(start)

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _finish(self, status: str, *, outputs: list[Output] | None = None, error: str | None = None,
                exception: BaseException | None = None, finished_at: float | None = None) -> None:
        if self._done.done():
            return
        now = time.time()
        # A completed job shown before its auto-save keeps the moment it was shown completed.
        changes: dict[str, Any] = {"status": status, "queue_position": None,
                                   "finished_at": finished_at or self.finished_at or now}
        if outputs is not None:
            changes["outputs"] = outputs
        if error is not None:
            changes["error"] = error
        if status == "completed" and self.started_at is None:
            changes["started_at"] = self.submitted_at or now
        self._set(**changes)
        if exception is None and status == "failed":
            exception = JobFailedError(f"The job failed: {error or 'no error message'}",
                                       request_id=self.request_id or self.local_id, error=error)
        elif exception is None and status == "cancelled":
            exception = JobCancelledError("The job was cancelled", request_id=self.request_id or self.local_id)
        if exception is not None:
            self._done.set_exception(exception)
        else:
            self._done.set_result(self.outputs)
        self._poke()

    async def _autosave(self, outputs: list[Output]) -> None:
        """Keep a local copy of every output (settings.autosave_dir) once the job completed, so that `read()`
        still works when the URLs expire. The job is already "completed" when this runs (a slow output host
        holds no job hostage); it is bounded by settings.autosave_deadline and ends in `save_state` "saved" or
        "save failed: …" (also in `warnings` and the log). Downloads stream to disk on this loop."""
        folder = settings.autosave_dir
        if not folder:
            return
        target = Path(folder).expanduser().resolve()
        failures: list[str] = []

        async def save(output: Output) -> None:
            if output.saved_path is not None and output.saved_path.exists():
                return  # kept already (a re-attached job)
            try:
                path = (target / output.name).resolve()
                if path.parent != target:  # output names are sanitised already; belt and braces
                    raise ValueError(f"refusing to write outside {target}: {output.name!r}")
                await asyncio.get_running_loop().run_in_executor(None, lambda: target.mkdir(parents=True,
                                                                                           exist_ok=True))
                await output.download_to(path)
                output.saved_path = path
            except Exception as error:
                failures.append(f"{output.name}: {error}")

        self._set(save_state="saving")
        try:
            async with asyncio.timeout(settings.autosave_deadline):
                await asyncio.gather(*(save(output) for output in outputs))
        except TimeoutError:
            failures.append(f"not finished within autosave_deadline ({settings.autosave_deadline:g} s)")
        # The journal learns the saved copies (the outputs are the same objects, so _set would see no change).
        self._journal_write({"outputs": [o.to_dict() for o in outputs],
                             "saved": [str(o.saved_path) for o in outputs if o.saved_path]})
        self._set(save_state="save failed: " + "; ".join(failures) if failures else "saved")
        if failures:
            message = f"auto-save failed — {'; '.join(failures)}"
            self.warnings.append(message)
            log.warning("runcomfy_nb: %s (request_id=%s)", message, self.request_id)

    async def _submit(self, inputs: dict[str, Any]) -> None:
        """POST, then start polling. Runs on the loop thread."""
        try:
            answer = await self.client.api.submit(self.model_id, inputs)
        except BaseException as error:
            # On record either way: "uncertain" may have created (and billed) a job, "rejected" did not.
            self._set(status="failed", error=str(error), finished_at=time.time())
            self._journal_write({"error": str(error),
                                 "status": "uncertain" if isinstance(error, SubmitUncertainError) else "rejected"})
            if not self._accepted.done():
                self._accepted.set_exception(error)
            if not self._done.done():
                self._done.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        request_id = answer["request_id"]
        self._set(request_id=request_id, status="in_queue", submitted_at=time.time())
        self._accepted.set_result(request_id)
        await self._poll()

    def start_polling(self) -> None:
        """For a re-attached job: poll on the loop thread."""
        async def go() -> None:
            await self._poll()

        get_loop().call_soon_threadsafe(lambda: asyncio.ensure_future(go()))

    async def _poll(self) -> None:
        assert self.request_id is not None
        self._wake = asyncio.Event()
        schedule = PollSchedule.from_history(self.client.run_times(self.model_id))
        failing_since: float | None = None
        not_found = 0
        warned_unknown = False
        while not self._done.done():
            now = time.time()
            since_started = now - self.started_at if self.started_at else None
            delay = schedule.next_delay(self.status, now - (self.submitted_at or self.created_at), since_started)
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            if self._done.done():
                return
            try:
                self.status_requests += 1
                info = await self.client.api.status(self.request_id)
                failing_since, not_found = None, 0
            except AuthError as error:
                self._finish("failed", error=f"Polling stopped: {error}", exception=error)
                return
            except NotFoundError as error:
                not_found += 1
                if not_found >= 3:
                    self._finish("failed", error=f"The API no longer knows this request: {error}", exception=error)
                    return
                continue
            except Exception as error:  # transient or unexpected: polling must never stop silently
                failing_since = failing_since or time.time()
                if time.time() - failing_since > GIVE_UP_AFTER:
                    self._finish("failed", error=f"Lost contact with the API for {GIVE_UP_AFTER:.0f} s: {error}",
                                 exception=error)
                    return
                log.warning("runcomfy_nb: status poll failed, will retry: %s", error)
                continue
            if self._done.done():  # ended (e.g. cancelled) while this status request was in flight
                return
            status = normalise_status(info.get("status"))
            if status == "in_queue":
                position = info.get("queue_position")
                self._set(status="in_queue", queue_position=position if isinstance(position, int) else None)
            elif status == "in_progress":
                self._last_running_seen = time.time()
                self._set(status="in_progress", queue_position=None,
                          started_at=self.started_at or time.time())
            elif status in TERMINAL:
                self._end_seen = time.time()
                if status == "cancelled":
                    self._finish("cancelled")
                    return
                await self._fetch_result()
                return
            elif not warned_unknown:
                warned_unknown = True
                message = f"unknown status {info.get('status')!r} from the API; still polling"
                self.warnings.append(message)
                log.warning("runcomfy_nb: %s (request_id=%s)", message, self.request_id)

    async def _fetch_result(self) -> None:
        """After /status said it ended: /result until it has a final answer."""
        assert self.request_id is not None
        delay = DENSE
        failing_since: float | None = None
        while not self._done.done():
            try:
                body = await self.client.api.result(self.request_id)
                failing_since = None
            except (AuthError, NotFoundError) as error:
                self._finish("failed", error=str(error), exception=error)
                return
            except Exception as error:  # transient or unexpected: polling must never stop silently
                failing_since = failing_since or time.time()
                if time.time() - failing_since > GIVE_UP_AFTER:
                    self._finish("failed", error=f"Could not fetch the result: {error}", exception=error)
                    return
                await asyncio.sleep(delay)
                delay = min(SPARSE, delay * 1.5)
                continue
            status = normalise_status(body.get("status"))
            if status == "completed":
                skipped: list[str] = []
                outputs = parse_outputs(body.get("output"), self.request_id, self.client, skipped)
                for output in outputs:  # copies kept before a restart (the journal) still count
                    output.saved_path = self._saved_before.get(output.url)
                if skipped:  # nothing dropped silently: say what was not understood, keep the raw result
                    message = (f"{len(skipped)} output item(s) not understood and not shown ({'; '.join(skipped[:5])}"
                               f"); the raw result is kept in the journal (rc.jobs(), 'raw_result')")
                    self.warnings.append(message)
                    log.warning("runcomfy_nb: %s (request_id=%s)", message, self.request_id)
                    self._journal_write({"raw_result": _raw(body.get("output"))})
                # Completed and visible at once; auto-save runs after, with its own deadline. wait() returns
                # once the copies are on disk or the save gave up (save_state says which).
                finished_at = time.time()
                self._set(status="completed", outputs=outputs, queue_position=None, finished_at=finished_at,
                          started_at=self.started_at or self.submitted_at or finished_at)
                await self._autosave(outputs)
                self._finish("completed", outputs=outputs)
                self.client.learn_run_time(self.model_id, self)
                return
            if status == "failed":
                self._finish("failed", error=format_error(body.get("error")))
                return
            if status == "cancelled":
                self._finish("cancelled")
                return
            await asyncio.sleep(delay)  # the result lags the status: ask again
            delay = min(SPARSE, delay * 1.5)


def check_timeout(timeout: float | None) -> None:
    """A timeout is None (no limit) or a finite number of seconds: NaN would never expire, inf never either."""
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout):
        raise ValueError(f"timeout: must be a finite number of seconds or None; got {timeout!r}")


def _raw(value: Any, limit: int = 65536) -> str:
    """A result as JSON text for the journal, cut to `limit` characters."""
    import json

    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (ValueError, RecursionError):
        text = repr(type(value))
    return text[:limit]


def format_error(error: Any) -> str:
    """The API's `error` field (a string, an object or a list of {errorCode, error, debugInfo}), readable."""
    if error is None or error == "":
        return "The job failed (the API gave no reason)."
    if isinstance(error, str):
        return error
    items = error if isinstance(error, list) else [error]
    lines = []
    for item in items:
        if isinstance(item, dict):
            code = item.get("errorCode") or item.get("error_code") or item.get("code")
            text = item.get("error") or item.get("message") or item.get("error_message") or ""
            debug = item.get("debugInfo") or item.get("detail")
            line = f"[{code}] {text}" if code else str(text or item)
            if debug:
                line += f"\n    {debug}"
            lines.append(line)
        else:
            lines.append(str(item))
    return "\n".join(lines)

