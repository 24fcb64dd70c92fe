"""The runner: what happens to a Job on the background loop — submit, poll, fetch the result, save outputs.

Each job is one task on the loop (`_loop.spawn`, owned by its transport, so closing the client stops it). The
job's state changes through `Job._set` / `Job._finish`, which record it in the journal and tell the widgets.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from . import costs, saving
from ._http import error_text, normalise_status
from ._job import TERMINAL
from ._loop import spawn
from ._outputs import Output, parse_outputs
from ._polling import state_name
from .config import settings
from .errors import AuthError, NotFoundError, SubmitUncertainError
from .timer_wheel import wheel_for

if TYPE_CHECKING:
    from ._job import Job

log = logging.getLogger("runcomfy_nb")

GIVE_UP_AFTER = 600.0  # seconds of nothing but transport/server errors before a poll loop gives up
RESULT_FIRST, RESULT_LONGEST = 0.1, 2.0  # /result re-asked from this delay, ×1.5 up to the longest
ERROR_FIRST, ERROR_LONGEST = 0.25, 2.0  # a failed /status waits at least this (doubling): no tight retry loop
_STATUSES = frozenset({"in_queue", "in_progress"}) | TERMINAL


def start(job: Job, inputs: dict[str, Any]) -> None:
    """Submit `inputs` for `job`, then follow it to its end, in the background."""
    spawn(_guarded(job, _submit_and_follow(job, inputs)), owner=job.transport, name=_name(job))


def follow(job: Job) -> None:
    """Poll an accepted job (a re-attached one) until it ends, in the background."""
    spawn(_guarded(job, _follow(job)), owner=job.transport, name=_name(job))


def _name(job: Job) -> str:
    return f"runcomfy job {job.model_id} {job.local_id}"


async def _guarded(job: Job, work: Any) -> None:
    try:
        await work
    except asyncio.CancelledError:
        job._stop_following("its client was closed")
        raise


async def _submit_and_follow(job: Job, inputs: dict[str, Any]) -> None:
    if await _submit(job, inputs):
        await _follow(job)


async def _submit(job: Job, inputs: dict[str, Any]) -> bool:
    """POST the inputs; True once accepted. On failure the job ends, `submit()` raises, the journal says why."""
    try:
        answer = await job.transport.submit(job.model_id, inputs)
    except BaseException as raised:
        error: BaseException = raised
        if isinstance(raised, asyncio.CancelledError):  # the client was closed while the POST was out
            error = SubmitUncertainError("The client was closed while the submit was in flight; the job may exist. "
                                         "Check your RunComfy dashboard before submitting again.")
        try:
            job._set(status="failed", error=str(error), finished_at=time.time())
            # On record either way: "uncertain" may have created (and billed) a job, "rejected" did not.
            job._record(error=str(error), status="uncertain" if isinstance(error, SubmitUncertainError) else "rejected")
        finally:  # whatever the journal did, `submit()` must not wait for ever
            if not job._accepted.done():
                job._accepted.set_exception(error)
            if not job._done.done():
                job._done.set_exception(error)
        if not isinstance(raised, Exception):
            raise
        return False
    request_id = answer["request_id"]
    try:  # on record before `submit()` returns, in one commit with the other jobs accepted meanwhile
        await _set_on_record(job, request_id=request_id, status="in_queue", submitted_at=time.time())
    finally:
        if not job._accepted.done():  # a cancelled waiter must never stop a paid job from being followed
            job._accepted.set_result(request_id)
    return True


async def _set_on_record(job: Job, **changes: Any) -> None:
    """`job._set(**changes)` once they are on record, in one commit with the changes of every job made in the
    same turn of the loop (`Journal.commit_soon`): 1000 accepted submits cost a few commits, not 1000."""
    fields = {**job._journal_pending, **changes}
    try:
        await job.journal.commit_soon(job.local_id, **fields)
    except Exception as error:  # a full disk: kept in memory, said loudly, retried until it lands
        job._not_recorded(fields, error)
    else:
        job._recorded()
    finally:  # also when closed meanwhile: the commit is queued already and lands at the loop's next turn
        job._set(_journaled=True, **changes)


async def _follow(job: Job) -> None:
    if await _poll(job):
        await _fetch_result(job)


async def _poll(job: Job) -> bool:
    """/status until the job ends, when the client's polling policy says; True when its result should be fetched.

    Sleeps are on the loop's shared timer wheel (one timer for all jobs); `job._poke()` ends one early. Each answer
    is given to the job's tracker at the middle of its request (the server's view), so what is learned is the
    server's run time, not our polling lag."""
    assert job.request_id is not None
    policy, clock = job.policy, time.monotonic
    tracker = job._tracker = policy.track(job.model_id, job.inputs, submitted_at=clock(), learns=not job._attached)
    wheel = wheel_for()
    failing_since: float | None = None
    failures = not_found = 0
    warned_unknown = False
    while not job._done.done():
        delay = policy.next_delay(tracker, clock())
        if failures:
            delay = max(delay, min(ERROR_LONGEST, ERROR_FIRST * 2 ** (failures - 1)))
        job._sleeper = wheel.sleep(delay)
        await job._sleeper
        if job._done.done():
            return False
        sent = clock()
        try:
            info = await job.transport.status(job.request_id)
            failing_since, not_found = None, 0
        except AuthError as error:
            job._finish("failed", error=f"Polling stopped: {error}", exception=error)
            return False
        except NotFoundError as error:
            job._failed_requests, failures, not_found = job._failed_requests + 1, failures + 1, not_found + 1
            if not_found >= 3:
                job._finish("failed", error=f"The API no longer knows this request: {error}", exception=error)
                return False
            continue
        except Exception as error:  # transient or unexpected: polling must never stop silently
            job._failed_requests, failures = job._failed_requests + 1, failures + 1
            failing_since = failing_since or time.time()
            if time.time() - failing_since > GIVE_UP_AFTER:
                job._finish("failed", error=f"Lost contact with the API for {GIVE_UP_AFTER:.0f} s: {error}",
                            exception=error)
                return False
            log.warning("runcomfy_nb: status poll failed, will retry: %s", error)
            continue
        if job._done.done():  # ended (e.g. cancelled) while this status request was in flight
            return False
        failures = 0
        answered = clock()
        status = normalise_status(info.get("status"))
        position = info.get("queue_position")
        position = position if isinstance(position, int) and not isinstance(position, bool) else None
        if status in _STATUSES:
            if policy.observe(tracker, status, position, at=(sent + answered) / 2, answered_at=answered):
                # the history changed: on record with the next batched journal commit (serialised then)
                job.journal.put_state_soon(state_name(job.base_url), policy.history.to_json)
        else:
            job._failed_requests += 1  # sent, but taught the policy nothing
        if status == "in_queue":
            job._set(status="in_queue", queue_position=position)
        elif status == "in_progress":
            job._set(status="in_progress", queue_position=None, started_at=job.started_at or time.time())
        elif status in TERMINAL:
            job.end_seen_at = time.time()
            if status == "cancelled":
                job._finish("cancelled")
                return False
            return True
        elif not warned_unknown:
            warned_unknown = True
            message = f"unknown status {info.get('status')!r} from the API; still polling"
            job.warnings.append(message)
            log.warning("runcomfy_nb: %s (request_id=%s)", message, job.request_id)
    return False


async def _fetch_result(job: Job) -> None:
    """After /status said it ended: /result until it has a final answer."""
    assert job.request_id is not None
    delay = RESULT_FIRST
    failing_since: float | None = None
    while not job._done.done():
        try:
            body = await job.transport.result(job.request_id, include_cost=True)
            failing_since = None
        except (AuthError, NotFoundError) as error:
            job._finish("failed", error=str(error), exception=error)
            return
        except Exception as error:  # transient or unexpected: polling must never stop silently
            failing_since = failing_since or time.time()
            if time.time() - failing_since > GIVE_UP_AFTER:
                job._finish("failed", error=f"Could not fetch the result: {error}", exception=error)
                return
            await asyncio.sleep(delay)
            delay = min(RESULT_LONGEST, delay * 1.5)
            continue
        status = normalise_status(body.get("status"))
        if status == "completed":
            skipped: list[str] = []
            outputs = parse_outputs(body.get("output"), job.request_id, job.transport, skipped)
            for output in outputs:  # copies kept before a restart (the journal) still count
                output.saved_path = job._saved_before.get(output.url)
            if skipped:  # nothing dropped silently: say what was not understood, keep the raw result
                message = (f"{len(skipped)} output item(s) not understood and not shown ({'; '.join(skipped[:5])}"
                           f"); the raw result is kept in the journal (rc.jobs(), 'raw_result')")
                job.warnings.append(message)
                log.warning("runcomfy_nb: %s (request_id=%s)", message, job.request_id)
                job._record(raw_result=_raw(body.get("output")))
            # Completed (and its cost known) at once; auto-save runs after, with its own deadline. wait()
            # returns once the copies are on disk or the save gave up (save_state says which).
            job.cost = costs.parse_cost(body.get("cost"))
            finished_at = time.time()
            job._set(status="completed", outputs=outputs, queue_position=None, finished_at=finished_at,
                     started_at=job.started_at or job.submitted_at or finished_at)
            _record_cost(job)
            await _autosave(job, outputs)
            job._finish("completed", outputs=outputs)
            return
        if status == "failed":
            job._finish("failed", error=error_text(body.get("error")) or "The job failed (the API gave no reason).")
            return
        if status == "cancelled":
            job._finish("cancelled")
            return
        await asyncio.sleep(delay)  # the result lags the status: ask again
        delay = min(RESULT_LONGEST, delay * 1.5)


def _record_cost(job: Job) -> None:
    try:
        costs.record(job)
    except Exception as error:  # the ledger must never lose the result
        log.warning("runcomfy_nb: cost ledger update failed for %s: %s", job.request_id, error)


async def _autosave(job: Job, outputs: list[Output]) -> None:
    """Keep a local copy of every output (settings.autosave_dir) once the job completed, so that `read()` still
    works when the URLs expire. The job is already "completed" when this runs (a slow output host holds no job
    hostage); it is bounded by settings.autosave_deadline and ends in `job.save_state` "saved" or
    "save failed: …" (also in `job.warnings` and the log). Downloads stream to disk on this loop."""
    folder = saving.autosave_folder(settings.autosave_dir)
    if folder is None:
        return
    target = folder.expanduser().resolve()
    failures: list[str] = []

    async def save(output: Output) -> None:
        if output.saved_path is not None and output.saved_path.exists():
            return  # kept already (a re-attached job)
        try:
            # streamed to a hidden file, then named (naming.py), given its inputs (params.py) and a thumbnail or
            # poster (thumbnails.py) for the static copy, the widget state and the journal: in a worker thread
            download = target / f".{output.name}.download"
            await asyncio.get_running_loop().run_in_executor(None, lambda: target.mkdir(parents=True, exist_ok=True))
            await output.download_to(download)
            saved = await asyncio.get_running_loop().run_in_executor(None, partial(
                saving.save_output, download, target, model_id=job.model_id, inputs=job.inputs,
                request_id=job.request_id or "", index=outputs.index(output),
                ext=PurePosixPath(output.name).suffix.lstrip(".") or "bin", mime=output.mime))
            lasting = saved.to_dict(relative_to=Path.cwd())  # the kernel's folder is the notebook's
            output.saved_path, output.local = saved.path, lasting["local"]
            output.thumb, output.duration = lasting.get("thumb"), lasting.get("duration")
        except Exception as error:
            failures.append(f"{output.name}: {error}")

    job._set(save_state="saving")
    try:
        await asyncio.wait_for(asyncio.gather(*(save(output) for output in outputs)), settings.autosave_deadline)
    except asyncio.TimeoutError:
        failures.append(f"not finished within autosave_deadline ({settings.autosave_deadline:g} s)")
    # The journal learns the saved copies (the outputs are the same objects, so _set would see no change).
    job._record(outputs=[o.to_dict() for o in outputs], saved=[str(o.saved_path) for o in outputs if o.saved_path])
    job._set(save_state="save failed: " + "; ".join(failures) if failures else "saved")
    if failures:
        message = f"auto-save failed — {'; '.join(failures)}"
        job.warnings.append(message)
        log.warning("runcomfy_nb: %s (request_id=%s)", message, job.request_id)


def _raw(value: Any, limit: int = 65536) -> str:
    """A result as JSON text for the journal, cut to `limit` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (ValueError, RecursionError):
        text = repr(type(value))
    return text[:limit]
