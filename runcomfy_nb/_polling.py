"""When to poll /status next, and what it learns from earlier runs: one small, replaceable policy.

The API only offers polling (DESIGN.md, Performance targets). Dense right after submit (a free worker picks a
job up at once) and around the moment a run is expected to end (learned from the model's earlier jobs); sparse
in between. Aims at a median lag of <= 100 ms from a server-side change to the widget with <= 10 status
requests for a 10 s job.
"""

from __future__ import annotations

import statistics
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

DENSE = 0.1      # seconds between polls when a change is likely now
SPARSE = 2.0     # the longest we ever sleep between polls
EARLY = 0.15     # start polling this long before the expected end of a run
REMEMBERED = 7   # run times kept per model


@dataclass
class PollSchedule:
    """Stateful per job: call `next_delay` after every poll with what that poll saw."""

    expected_run: float | None = None  # seconds in_progress → completed, from earlier jobs; None if unknown
    _last_status: str = ""
    _streak: int = 0

    @staticmethod
    def from_history(run_times: list[float]) -> PollSchedule:
        """A schedule that expects the median of the given run times (none known: no expectation)."""
        return PollSchedule(expected_run=statistics.median(run_times) if run_times else None)

    def next_delay(self, status: str, since_submit: float, since_started: float | None) -> float:
        """Seconds to sleep before the next status request."""
        if status != self._last_status:
            self._last_status, self._streak = status, 0
        self._streak += 1
        if status == "in_progress" and since_started is not None:
            if self.expected_run is not None:
                remaining = self.expected_run - since_started - EARLY
                if remaining > DENSE:
                    return min(remaining, 60.0)  # one sleep straight to just before the expected end
                # Past the expected end: dense for a while, then back off (the run is slower than usual).
                overdue = -remaining
                return DENSE if overdue < 1.0 else min(SPARSE, DENSE * 1.5 ** (self._streak - 3))
            return min(SPARSE, 0.25 * 1.5 ** (self._streak - 1))
        # Queued or just submitted: a free worker picks a job up at once, so start dense and back off.
        return min(SPARSE, DENSE * 1.6 ** (self._streak - 2))  # 63 ms, 100 ms, 160 ms, …


def run_time_estimate(started_at: float | None, last_running_seen: float | None, end_seen: float | None) -> float | None:
    """Seconds a run took on the server, from what the polls saw.

    Estimated between the last poll that saw it running and the first that saw it end: finished_at - started_at
    would add our polling lag, and the schedule would learn an ever later end.
    """
    if started_at is None or end_seen is None:
        return None
    gap = end_seen - (last_running_seen or started_at)
    # Close polls bracket the end: take the middle. One long sleep overshot the end by an unknown amount: aim a
    # little earlier next time.
    end = end_seen - gap / 2 if gap <= SPARSE * 1.5 else end_seen - min(0.05 * (end_seen - started_at), 1.0)
    return max(end - started_at, 0.0)


class RunTimes:
    """Recent run times per model for one endpoint: seeded from the journal, then learned as jobs complete."""

    def __init__(self, history: Callable[[str], list[float]]) -> None:
        self._history = history  # model_id -> recent run times, newest first (the journal)
        self._known: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=REMEMBERED))
        self._lock = threading.Lock()

    def of(self, model_id: str) -> list[float]:
        """The model's recent run times (oldest first); read from the journal the first time."""
        with self._lock:
            known = self._known.get(model_id)
            if known:
                return list(known)
        try:
            history = self._history(model_id)
        except Exception:  # an unreadable journal only costs the schedule its head start
            history = []
        with self._lock:
            self._known[model_id].extend(reversed(history))
            return list(self._known[model_id])

    def learn(self, model_id: str, seconds: float | None) -> None:
        """Remember one completed run (None: nothing reliable was seen)."""
        if seconds is not None:
            with self._lock:
                self._known[model_id].append(seconds)

    def schedule(self, model_id: str) -> PollSchedule:
        """A fresh poll schedule for one job of this model."""
        return PollSchedule.from_history(self.of(model_id))
