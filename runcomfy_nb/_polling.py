"""When to poll /status next: one small, replaceable policy (DESIGN.md, Performance targets).

The API only offers polling. Dense right after submit (a free worker picks a job up at once) and around the
moment a run is expected to end (learned from the model's earlier jobs); sparse in between. Aims at a median
lag of <= 100 ms from a server-side change to the widget with <= 10 status requests for a 10 s job.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

DENSE = 0.1      # seconds between polls when a change is likely now
SPARSE = 2.0     # the longest we ever sleep between polls
EARLY = 0.15     # start polling this long before the expected end of a run


@dataclass
class PollSchedule:
    """Stateful per job: call `next_delay` after every poll with what that poll saw."""

    expected_run: float | None = None  # seconds in_progress → completed, from earlier jobs; None if unknown
    _last_status: str = ""
    _streak: int = 0
    _history: list[float] = field(default_factory=list)

    @staticmethod
    def from_history(run_times: list[float]) -> PollSchedule:
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
