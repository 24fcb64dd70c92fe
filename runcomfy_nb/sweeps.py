"""Sweeps: one job per combination of the list values in the inputs, sent with bounded concurrency.

    sw = rc.sweep("blackforestlabs/flux-1-kontext/pro/edit",
                  {"prompt": ["make it winter", "make it night"], "seed": [1, 2, 3, 4], "image_url": url})
    sw.jobs      # 8 jobs in product order (first axis slowest); ones not sent yet are `Cell`s, "waiting"
    await sw     # or sw.wait(timeout); sw.cancel(); sw.outputs; sw.save("out"); sw.cost

Every list (or range) value is an axis, except for fields whose schema type is itself an array: wrap those in
`rc.vary([...])` to sweep over them. At most `max_in_flight` jobs of a sweep are submitted and unfinished at once
(`settings.max_in_flight`), and at most `settings.max_in_flight_total` across the sweeps of one client; the rest
wait locally ("waiting (not sent)"). A 429 halves the sweep's pace and sends that job again later instead of
failing it. Identical earlier results are reused (`fresh=True` sends everything; see runcomfy_nb.reuse).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import sys
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _hooks, costs, reuse
from ._loop import get_loop, run_coro
from ._sweep_plan import (
    STATUS_ORDER,
    STOP_ERRORS,
    TERMINAL,
    Cell,
    _Gate,
    _gates,
    _short,
    _slug,
    find_axes,
    product_cells,
)
from ._sweep_plan import Vary as Vary
from ._sweep_plan import differing as differing
from ._sweep_plan import vary as vary
from .config import settings
from .errors import InputValidationError, JobTimeoutError, RateLimitedError
from .timer_wheel import until_done

if TYPE_CHECKING:
    from ._client import Client
    from ._job import Job
    from ._outputs import Output

log = logging.getLogger("runcomfy_nb")

SLOW_START = 2.0  # seconds a sweep pauses after a 429, doubling per 429 in a row, capped at SLOW_MAX
SLOW_MAX = 60.0


class Sweep:
    """The jobs of one sweep, live. Create with `rc.sweep(...)` / `Client.sweep(...)`."""

    def __init__(self, client: Client, model_id: str, axes: dict[str, list[Any]], common: dict[str, Any],
                 cells: list[Cell], max_in_flight: int) -> None:
        self.client = client
        self.model_id = model_id
        self.axes = axes
        self.common = common
        self.cells = cells
        self.max_in_flight = max_in_flight
        self.created_at = time.time()
        self.view: Any = None
        self.max_seen_in_flight = 0  # the most jobs this sweep had submitted and unfinished at once
        self.rate_limited = 0  # 429s absorbed by slowing down
        self._pace = max_in_flight  # lowered by 429s, back up by one per job that ends
        self._hold_until = 0.0
        self._slow = SLOW_START
        self._in_flight: set[int] = set()
        self._stopped = False
        self._listeners: list[Any] = []
        self._done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._gate = _gates.setdefault(client, _Gate())

    # --- reading -------------------------------------------------------------------------------------------

    @property
    def jobs(self) -> list[Any]:
        """In product order: each cell's Job, or the Cell itself while it waits locally (or was cancelled unsent)."""
        return [cell.job if cell.job is not None else cell for cell in self.cells]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())

    def counts(self) -> dict[str, int]:
        """How many cells are in each state (waiting = not sent yet)."""
        found = dict.fromkeys(STATUS_ORDER, 0)
        for cell in self.cells:
            found[cell.status] = found.get(cell.status, 0) + 1
        return found

    @property
    def reused(self) -> int:
        """How many cells reuse an earlier job instead of sending."""
        return sum(1 for cell in self.cells if getattr(cell.job, "reused", False))

    @property
    def outputs(self) -> list[Output]:
        """Every output of every cell, in product order."""
        return [output for cell in self.cells for output in cell.outputs]

    @property
    def cost(self) -> float | None:
        """USD: the sum of the jobs' costs (reused ones included at their original cost); None if none known."""
        costs = [cell.cost for cell in self.cells if cell.cost is not None]
        return round(sum(costs), 6) if costs else None

    def done(self) -> bool:
        return all(cell.status in TERMINAL for cell in self.cells)

    def __len__(self) -> int:
        return len(self.cells)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.jobs)

    def __getitem__(self, index: int) -> Any:
        return self.jobs[index]

    def __repr__(self) -> str:
        shape = "×".join(str(n) for n in self.shape) or "1"
        names = " × ".join(self.axes) or "no axes"
        counts = self.counts()
        parts = [f"{counts[s]} {'waiting (not sent)' if s == 'waiting' else s.replace('_', ' ')}"
                 for s in STATUS_ORDER if counts.get(s)]
        if self.reused:
            parts.append(f"{self.reused} reused")
        cost = f" · ${self.cost:.2f}" if self.cost is not None else ""
        where = " simulator" if self.client.simulator else ""
        return f"<Sweep {self.model_id} {shape} ({names}): {', '.join(parts)}{cost}{where}>"

    def _ipython_display_(self) -> None:
        """In a notebook: the live grid (SweepView), plus a static copy (attached by the presentation layer)."""
        presenter = _hooks.get_sweep_presenter()
        if presenter is None or _hooks.text_only():  # terminal IPython: the one-line status, nothing later
            print(repr(self))
        else:
            presenter.display_sweep(self)

    def _repr_html_(self) -> str | None:
        """Where widgets do not render: the grid as static HTML (statuses, costs, result links)."""
        presenter = _hooks.get_sweep_presenter()
        return presenter.sweep_html(self, thumbnails=False) if presenter is not None else None

    def on_change(self, listener: Any) -> Any:
        """Call `listener(sweep)` on the loop thread after any cell changes; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # --- waiting -------------------------------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> list[Output]:
        """Block until every cell ended (failed or cancelled cells included); all outputs in product order.

        Interrupting cancels what has not started running (waiting and queued jobs); running ones go on.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise JobTimeoutError(f"Waited {timeout} s; the sweep is still going: {self!r}")
                try:  # short slices, so that an interrupt is noticed promptly
                    self._done.result(timeout=0.2 if left is None else min(0.2, left))
                    break
                except concurrent.futures.TimeoutError:
                    continue
        except KeyboardInterrupt:
            self._interrupted()
            raise
        return self.outputs

    def __await__(self) -> Generator[Any, None, list[Output]]:
        return self.wait_async().__await__()

    async def wait_async(self, timeout: float | None = None) -> list[Output]:
        """`await sweep`: keeps the kernel's loop free, so Cancel all in the grid still arrives."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not self._done.done():
                if deadline is not None and time.monotonic() >= deadline:
                    raise JobTimeoutError(f"Waited {timeout} s; the sweep is still going: {self!r}")
                # one shared heartbeat for every await on this loop keeps an interrupt prompt
                await until_done([self._done], None if deadline is None else deadline - time.monotonic())
        except (asyncio.CancelledError, KeyboardInterrupt):
            self._interrupted()
            raise
        return self.outputs

    def _interrupted(self) -> None:
        cancelled = self.cancel(timeout=2)
        print(f"runcomfy: interrupted — {cancelled} job(s) of the sweep that had not started were cancelled; "
              "running ones go on.", file=sys.stderr)

    # --- cancelling ----------------------------------------------------------------------------------------

    def cancel(self, timeout: float | None = 30) -> int:
        """Cancel everything not finished: waiting cells are never sent, queued jobs are cancelled on the
        server (running ones cannot be). Returns how many were cancelled."""
        return run_coro(self.cancel_async()).result(timeout)

    async def cancel_async(self) -> int:
        self._stopped = True
        count = 0
        for cell in self.cells:
            if cell.job is None and cell.local_status == "waiting":
                cell.local_status = "cancelled"
                count += 1
        self._changed()
        pending = [cell.job for cell in self.cells if cell.job is not None and cell.job.status in ("submitting", "in_queue")]
        results = await asyncio.gather(*(job.cancel_async() for job in pending), return_exceptions=True)
        count += sum(1 for r in results if r is True)
        self._check_done()
        return count

    def cancel_in_background(self) -> None:
        """For the grid's Cancel all button."""
        get_loop().call_soon_threadsafe(lambda: asyncio.ensure_future(self.cancel_async()))

    def cancel_cell_in_background(self, index: int) -> None:
        """For a cell's own cancel button: a waiting cell is never sent, a queued job is cancelled."""
        cell = self.cells[index]

        async def go() -> None:
            if cell.job is None and cell.local_status == "waiting":
                cell.local_status = "cancelled"
                self._changed()
                self._check_done()
            elif cell.job is not None:
                try:
                    await cell.job.cancel_async()
                except Exception as error:
                    log.warning("runcomfy_nb: cancel of sweep cell %s failed: %s", index, error)

        get_loop().call_soon_threadsafe(lambda: asyncio.ensure_future(go()))

    def run_again(self, index: int) -> None:
        """Send a finished cell again, fresh (paid again; a fixed seed gives the same picture): it waits for a
        slot like any other job of the sweep."""
        def go() -> None:
            cell = self.cells[index]
            if cell.status not in TERMINAL:
                return
            cell.job, cell.local_status = None, "waiting"
            if self._done.done():
                self._done = concurrent.futures.Future()
            self._stopped = False
            self._gate.sweeps.add(self)
            self._pump()

        get_loop().call_soon_threadsafe(go)

    # --- saving --------------------------------------------------------------------------------------------

    def save(self, folder: str | Path | None = None) -> list[Path]:
        """Save every output; file names start with the cell number and its varying values."""
        target = Path(folder or settings.save_dir)
        paths = []
        for cell in self.cells:
            label = "_".join(_slug(v) for v in cell.values.values())
            for output in cell.outputs:
                name = f"{cell.index:03d}_{label}_{output.name}" if label else f"{cell.index:03d}_{output.name}"
                paths.append(output.save(target, name=name))
        return paths

    # --- the scheduler (loop thread) -----------------------------------------------------------------------

    def _start(self) -> None:
        def go() -> None:
            self._gate.sweeps.add(self)
            for cell in self.cells:
                if cell.job is not None:
                    cell.job.on_change(functools.partial(self._job_changed, cell))
            self._pump()
            self._check_done()

        get_loop().call_soon_threadsafe(go)

    def _pump(self) -> None:
        """Send waiting cells, in product order, while this sweep's and the client's caps allow."""
        loop = asyncio.get_running_loop()
        if self._stopped:
            return
        if loop.time() < self._hold_until:
            loop.call_at(self._hold_until, self._pump)
            return
        for cell in self.cells:
            if len(self._in_flight) >= self._pace or self._gate.in_flight >= max(settings.max_in_flight_total, 1):
                break
            if cell.job is None and cell.local_status == "waiting":
                self._send(cell)
        self._changed()

    def _send(self, cell: Cell) -> None:
        cell.attempts += 1
        self._in_flight.add(cell.index)
        self._gate.in_flight += 1
        self.max_seen_in_flight = max(self.max_seen_in_flight, len(self._in_flight))
        try:
            with costs.budget_already_checked():  # the whole sweep was checked before anything was sent
                job = self.client.start(self.model_id, cell.prepared, validate=False, fresh=True)
        except Exception as error:  # should not happen (validated up front); the cell fails readably
            self._release(cell)
            cell.local_status = "failed"
            log.warning("runcomfy_nb: sweep cell %s could not be sent: %s", cell.index, error)
            return
        cell.job = job
        job.on_change(functools.partial(self._job_changed, cell))

    def _release(self, cell: Cell) -> None:
        if cell.index in self._in_flight:
            self._in_flight.discard(cell.index)
            self._gate.in_flight -= 1

    def _job_changed(self, cell: Cell, job: Job, looked_again: bool = False) -> None:
        if job is not cell.job:
            return
        if job.status in TERMINAL and not job.done() and not looked_again:
            # its outcome (the exception) is set right after this change, in the same step: look then
            asyncio.get_running_loop().call_soon(self._job_changed, cell, job, True)
            return
        if job.status in TERMINAL and cell.index in self._in_flight:
            self._release(cell)
            refused = _submit_error(job) if job.status == "failed" and job.request_id is None else None
            if isinstance(refused, RateLimitedError) and not self._stopped:
                self._slow_down(cell)
            elif isinstance(refused, STOP_ERRORS):
                self._give_up(refused)
            else:
                self._pace = min(self.max_in_flight, self._pace + 1)
                self._slow = SLOW_START
            self._gate.pump_all()
        self._changed()
        self._check_done()

    def _slow_down(self, cell: Cell) -> None:
        """A 429 even after the client's retries: nothing was created; send it again later, at a slower pace."""
        self.rate_limited += 1
        cell.job = None
        cell.local_status = "waiting"
        self._pace = max(1, self._pace // 2)
        loop = asyncio.get_running_loop()
        self._hold_until = loop.time() + self._slow
        self._slow = min(self._slow * 2, SLOW_MAX)
        log.info("runcomfy_nb: rate limited; sweep slows to %s job(s) in flight", self._pace)

    def _give_up(self, error: BaseException) -> None:
        """The same refusal would meet every other job (a bad token, no balance, an unknown model, inputs the
        server refuses): send no more; the waiting cells fail unsent, saying why."""
        self._stopped = True
        for cell in self.cells:
            if cell.job is None and cell.local_status == "waiting":
                cell.local_status = "failed"
                cell.error = f"not sent: an earlier job of this sweep was refused — {error}"
        log.warning("runcomfy_nb: sweep stopped: %s", error)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:
                log.exception("runcomfy_nb: a sweep listener failed")

    def _check_done(self) -> None:
        if not self._done.done() and self.done():
            self._gate.sweeps.discard(self)
            self._done.set_result(None)
            self._changed()


def _submit_error(job: Job) -> BaseException | None:
    """The exception a refused submit ended the job with (set right after its final state change)."""
    return job._done.exception() if job.done() else None


def sweep(model_id: str, inputs: dict[str, Any], *, max_in_flight: int | None = None, fresh: bool = False,
          client: Client | None = None, validate: bool | None = None) -> Sweep:
    """Run one job per combination of the list values in `inputs` (the axes); returns the live `Sweep`.

    Every combination is validated before anything is sent (an error names the field, the rule, the value and
    the combination). Earlier identical results are reused unless `fresh=True`; the budget, if set, is checked
    for the jobs that will be sent.
    """
    if client is None:
        from ._client import default_client

        client = default_client()
    if not isinstance(inputs, dict):
        raise InputValidationError(f"inputs: type — must be a mapping of field names to values; got "
                                   f"{type(inputs).__name__}", field=None, rule="type", value=inputs)
    limit = settings.max_in_flight if max_in_flight is None else max_in_flight
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise InputValidationError(f"max_in_flight: minimum — must be an integer ≥ 1; got {limit!r}",
                                   field="max_in_flight", rule="minimum", value=limit)
    axes, common = find_axes(inputs, client.schema(model_id))
    cells = []
    for index, (values, given) in enumerate(product_cells(list(inputs), axes, common)):
        try:
            prepared = client.check(model_id, given, validate=validate)
        except InputValidationError as error:
            where = ", ".join(f"{k}={_short(v)}" for k, v in values.items())
            raise InputValidationError(f"{error} (in the sweep's job {index}: {where})", field=error.field,
                                       rule=error.rule, value=error.value, errors=error.errors) from None
        cells.append(Cell(index, values, given, prepared, model_id))
    if not fresh:
        for cell, earlier in zip(cells, reuse.find_many(client, model_id, [c.prepared for c in cells]), strict=True):
            cell.job = earlier
    costs.check_budget(client, model_id, sum(1 for cell in cells if cell.job is None))
    result = Sweep(client, model_id, axes, common, cells, limit)
    result._start()
    return result
