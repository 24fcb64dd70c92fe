"""What jobs cost: `job.cost` from the API's `include_cost=true`, a ledger beside the journal, `rc.spend()`,
and the optional budget that refuses a submit or a sweep before anything is sent.

The ledger is its own table (`costs`) in the journal's SQLite file: one row per request_id, so a reused result is
never counted twice. This kernel's spend is kept in memory (jobs that completed in this process).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import RunComfyError

if TYPE_CHECKING:  # structural: costs sits below the client (the runner records costs), so no import of it
    from typing import Protocol

    from ._journal import Journal

    class Client(Protocol):
        """What costs needs of a client: its journal (the ledger lives in its file) and its endpoint."""

        @property
        def journal(self) -> Journal: ...

        endpoint: Any

_TABLE = """CREATE TABLE IF NOT EXISTS costs (
    request_id TEXT PRIMARY KEY, model_id TEXT NOT NULL, base_url TEXT NOT NULL, simulator INTEGER NOT NULL,
    cost REAL NOT NULL, finished_at REAL NOT NULL)"""
RECENT = 10  # the estimate is the mean of a model's last RECENT costs

_kernel: dict[str, float] = {}  # request_id -> cost, jobs completed (and paid for) in this process
_kernel_lock = threading.Lock()
_budget_checked: contextvars.ContextVar[bool] = contextvars.ContextVar("runcomfy_budget_checked", default=False)


class BudgetExceededError(RunComfyError):
    """The estimated cost of a submit or sweep would pass `settings.budget_usd`; nothing was sent."""


def parse_cost(value: Any) -> float | None:
    """The API's `cost` as USD, or None when it gave none (or something that is not a number)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        cost = float(value)
    except (TypeError, ValueError):
        return None
    return cost if cost >= 0 and cost == cost and cost != float("inf") else None


@contextlib.contextmanager
def _db(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute(_TABLE)
        with conn:
            yield conn
    finally:
        conn.close()


def record(job: Any) -> None:
    """Called when a job completed with a cost: into this kernel's total and the ledger."""
    cost = getattr(job, "cost", None)
    if cost is None or not job.request_id:
        return
    with _kernel_lock:
        _kernel[job.request_id] = cost
    with _db(job.journal.path) as db:
        db.execute("INSERT OR REPLACE INTO costs VALUES (?, ?, ?, ?, ?, ?)",
                   (job.request_id, job.model_id, job.base_url, int(job.simulator), cost, job.finished_at or time.time()))


def cost_of(client: Client, request_id: str) -> float | None:
    """The recorded cost of an earlier job (None if unknown)."""
    with _db(client.journal.path) as db:
        row = db.execute("SELECT cost FROM costs WHERE request_id = ?", (request_id,)).fetchone()
    return row[0] if row else None


def estimate(client: Client, model_id: str) -> float | None:
    """Expected cost of one job of this model on this endpoint: the mean of its recent costs (None: no history)."""
    with _db(client.journal.path) as db:
        rows = db.execute("SELECT cost FROM costs WHERE model_id = ? AND base_url = ? ORDER BY finished_at DESC "
                          "LIMIT ?", (model_id, client.endpoint.base_url, RECENT)).fetchall()
    return sum(r[0] for r in rows) / len(rows) if rows else None


def kernel_spend() -> float:
    """USD of the jobs that completed in this kernel (reused results cost nothing and are not counted)."""
    with _kernel_lock:
        return sum(_kernel.values())


def spend(client: Client | None = None) -> dict[str, Any]:
    """Totals in USD: this kernel, and the journal's ledger today (local time) and all time (real API and
    simulator separately, since simulated costs are invented)."""
    if client is None:
        from ._journal import default_journal

        path = default_journal().path
    else:
        path = client.journal.path
    midnight = dt.datetime.combine(dt.date.today(), dt.time()).timestamp()
    with _db(path) as db:
        rows = db.execute("SELECT simulator, SUM(cost), SUM(CASE WHEN finished_at >= ? THEN cost ELSE 0 END), "
                          "COUNT(*) FROM costs GROUP BY simulator", (midnight,)).fetchall()
    totals = {"api": (0.0, 0.0, 0), "simulator": (0.0, 0.0, 0)}
    for simulator, all_time, today, count in rows:
        totals["simulator" if simulator else "api"] = (all_time or 0.0, today or 0.0, count)
    return {"kernel": round(kernel_spend(), 6), "today": round(totals["api"][1], 6),
            "all_time": round(totals["api"][0], 6), "jobs": totals["api"][2],
            "simulator_today": round(totals["simulator"][1], 6), "simulator_all_time": round(totals["simulator"][0], 6)}


@contextlib.contextmanager
def budget_already_checked() -> Iterator[None]:
    """Inside: submits skip the per-job budget check (a sweep checked all of its jobs at once)."""
    token = _budget_checked.set(True)
    try:
        yield
    finally:
        _budget_checked.reset(token)


def check_budget(client: Client, model_id: str, count: int = 1) -> None:
    """Raise BudgetExceededError when this kernel's spend plus `count` jobs at the model's recent cost would pass
    `settings.budget_usd`. No budget, or no cost history for the model yet, lets it through."""
    from .config import settings

    budget = getattr(settings, "budget_usd", None)
    if budget is None or count <= 0 or _budget_checked.get():
        return
    each = estimate(client, model_id)
    if each is None:
        return
    spent = kernel_spend()
    if spent + each * count > budget + 1e-9:
        what = "this job" if count == 1 else f"these {count} jobs"
        raise BudgetExceededError(
            f"budget_usd: {what} would cost about ${each * count:.2f} ({model_id} recently cost ${each:.3f} a job) "
            f"and this kernel has spent ${spent:.2f} of its ${budget:.2f} budget; nothing was sent. Raise it with "
            f"`%config RunComfyMagics.budget_usd = ...` or rc.settings.budget_usd, or None for no budget.",
            rule="budget", value=each * count)
