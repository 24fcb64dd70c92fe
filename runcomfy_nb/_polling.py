"""When to poll /status next, and what earlier jobs taught us: the one module that owns the polling policy.

The API only offers polling, so every status request buys information. The yardstick is the naive loop that
asks once a second from the submit: whatever the workload, this policy must see each change (queued → running,
running → ended) no later than that loop does, in median and at p90, without sending more requests. It gets
there by predicting where it knows something and falling back to exactly that loop where it does not.

Run times are estimated from interval-censored samples with Turnbull's estimator (`turnbull`): fixed runs
seen through coarse brackets pile up where the brackets overlap, so the predicted window narrows run after run.

**What it learns** (`RunTimeHistory`, plain data, `to_json`/`from_json`, kept in the journal):
- run times per model *and per input class*: the inputs that change run time (resolution, aspect ratio,
  width × height, frame count, duration, steps, number of images — found by key name, see `input_class`),
  kept as a window of recent samples, each an interval [shortest, longest] the run can have taken. Learned from
  the server's side: the start lies between the last poll that saw the job queued and the first that saw it
  running, the end between the last poll that saw it running and the first that saw it ended; the queue-detection
  lag is never counted as run time (it used to be, and every later job was then polled too early and too often).
- the time between queue advances (one job ahead of ours starting), and from submit to start when no one was
  ahead, as the same kind of samples, per endpoint.

**The schedule** (`JobTracker.next_poll_at`), for the next change we wait for (the start while queued, the end
while running), from the learned samples shifted by what this job has shown (its start, its last queue advance):
1. Right after the submit: one early poll, when a free worker has usually started the job (learned submit →
   start times, `FIRST` at first) — when the run's prediction is narrow or it cannot end before the naive
   loop's first tick (then skipped); else the first poll is that tick.
2. Before the earliest plausible change (the 1/(n+1) quantile of n samples less one average gap between them,
   halved while this input class has fewer than `TRUSTED` samples): one sleep straight to it (at most
   `LONGEST_SLEEP`). This is where the requests are saved.
3. Around the predicted change: polls at its mid-quantiles ((k + ½)/n for k < n ≤ `SPREAD`, n within half the
   requests the naive loop would send by then) and at its end, at least `DENSE` apart — a spike (fixed run
   times) gets a few polls close together; a wide distribution gets none and falls to rule 4.
4. Everywhere else once past the earliest plausible change, and whenever nothing is known: the naive loop's own
   request instants (submit + k·TICK + (k-1)·round trip), so those lags are exactly the naive loop's. No sleep
   is longer than `TICK` there, so a wrong prediction costs no more than the naive loop would have; on run
   times that vary without a visible cause (uniform 2-40 s on identical inputs) the policy becomes the naive
   loop, which is the best any schedule can do there for the same number of requests.
Queue positions: next in line (0) predicts the start from the last advance plus the learned advance interval
(rules 2-4); further back the poll rate follows the chance of a change: one poll per about half the predicted
wait for the next advance ahead of us, at most `QUEUE_SLEEP` apart; without a learned interval, the naive ticks.

**Interface** (the runner calls these; the policy never reads a clock, so tests run in virtual time):

    policy = PollingPolicy(RunTimeHistory.from_json(saved))       # one per client (endpoint)
    tracker = policy.track(model_id, inputs, submitted_at=now)    # when the submit was accepted
    delay = policy.next_delay(tracker, now)                       # sleep this long, then GET /status
    policy.observe(tracker, status, queue_position, at=mid, answered_at=end)  # what that poll saw
    saved = policy.history.to_json()                              # after a job ends, for the journal
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._distribution import Distribution, Sample, turnbull

TICK = 1.0            # the naive loop's interval: the longest sleep once a change is plausible
FIRST = 0.1           # first poll after the submit answer
DENSE = 0.1           # closest spacing of predicted polls
SPREAD = 6            # most predicted polls per predicted change (at its quantiles, see _levels)
MARGIN = 1.0          # average gaps between samples allowed below the shortest one
TRUSTED = 3           # samples of an input class before its shortest is trusted as the earliest plausible end
WINDOW = 32           # samples kept per key
# Hedge: even a long predicted run is checked this often, so a run that ends far earlier than predicted (an
# early failure) is seen at most this late. 10 s is the lowest bound that still crosses a 10 s run in one
# sleep (fixed 10 s jobs: half the naive loop's requests); it was 30 s (docs/decisions.md, Polling).
LONGEST_SLEEP = 10.0
QUEUE_SLEEP = 10.0    # longest sleep while queued behind others

ENDED = frozenset({"completed", "failed", "cancelled"})

# Input keys (lower case, any nesting level ignored) that change how long a run takes.
_CLASS_KEYS = frozenset({
    "resolution", "aspect_ratio", "image_size", "size", "width", "height", "megapixels", "quality",
    "num_frames", "frames", "frame_count", "duration", "length", "seconds", "fps",
    "steps", "num_steps", "num_inference_steps", "inference_steps", "sampling_steps",
    "num_images", "num_outputs", "batch_size", "n", "upscale", "scale",
})


def input_class(inputs: Mapping[str, Any] | None) -> str:
    """The part of the inputs that changes run time, as a stable key (`"aspect_ratio=16:9;num_frames=81"`).

    Keys are matched by name (`_CLASS_KEYS`, case-insensitive) at the top level; only plain values count
    (prompts, seeds and media do not change run time much and would make every job its own class)."""
    parts = []
    for key, value in (inputs or {}).items():
        if str(key).lower() in _CLASS_KEYS and isinstance(value, (str, int, float, bool)) and value is not None:
            text = str(value)
            if len(text) <= 40:
                parts.append(f"{str(key).lower()}={text}")
    return ";".join(sorted(parts))


class RunTimeHistory:
    """What earlier jobs taught: run-time samples per model and per (model, input class), queue-advance
    intervals per endpoint. Plain data: `to_json()` / `from_json()` for the journal."""

    def __init__(self) -> None:
        self.runs: dict[str, deque[Sample]] = {}
        self.queue_gaps: deque[Sample] = deque(maxlen=WINDOW)
        self.pickups: deque[Sample] = deque(maxlen=WINDOW)  # submit → start when no one was ahead

    @staticmethod
    def key(model_id: str, klass: str | None = None) -> str:
        return model_id if klass is None else f"{model_id}|{klass}"

    def add_run(self, model_id: str, klass: str, sample: Sample) -> None:
        """Learn one run: under its input class and under its model (the fallback for unseen classes)."""
        for key in (self.key(model_id, klass), self.key(model_id)):
            self.runs.setdefault(key, deque(maxlen=WINDOW)).append(sample)

    def add_queue_gap(self, sample: Sample) -> None:
        self.queue_gaps.append(sample)

    def run_samples(self, model_id: str, klass: str) -> tuple[list[Sample], bool]:
        """(samples, trusted): this input class's samples if it has any, else the model's; trusted when the
        class itself has at least TRUSTED samples."""
        own = self.runs.get(self.key(model_id, klass))
        if own:
            return list(own), len(own) >= TRUSTED
        return list(self.runs.get(self.key(model_id)) or ()), False

    def to_json(self) -> str:
        return json.dumps({"version": 1,
                           "runs": {k: [[s.low, s.high] for s in v] for k, v in self.runs.items()},
                           "queue_gaps": [[s.low, s.high] for s in self.queue_gaps],
                           "pickups": [[s.low, s.high] for s in self.pickups]})

    @classmethod
    def from_json(cls, text: str | None) -> RunTimeHistory:
        """The history saved by `to_json`; an empty one for None or anything unreadable (it is only a hint)."""
        history = cls()
        try:
            data = json.loads(text) if text else {}
            for key, pairs in (data.get("runs") or {}).items():
                history.runs[str(key)] = deque((_sample(p) for p in pairs), maxlen=WINDOW)
            history.queue_gaps.extend(_sample(p) for p in data.get("queue_gaps") or ())
            history.pickups.extend(_sample(p) for p in data.get("pickups") or ())
        except (ValueError, TypeError, AttributeError):
            return cls()
        return history


def _sample(pair: Any) -> Sample:
    low, high = float(pair[0]), float(pair[1])
    if not (math.isfinite(low) and math.isfinite(high) and 0 <= low <= high):
        raise ValueError(f"bad sample {pair!r}")
    return Sample(low, high)


@dataclass
class JobTracker:
    """One job's polling state: what its polls saw and when. Made by `PollingPolicy.track`."""

    policy: PollingPolicy
    model_id: str
    klass: str
    submitted_at: float
    learns: bool = True                  # False for a re-attached job: its start was not seen from the submit
    status: str = "in_queue"
    queue_position: int | None = None
    status_requests: int = 0
    started: Sample | None = None        # when the server started it (absolute times)
    ended: Sample | None = None
    last_advance: Sample | None = None   # when the queue last advanced ahead of us
    _last_seen: float | None = None      # time of the latest poll (the server's view: mid-request)
    _answered: float | None = None       # when its answer arrived
    _rtt: float = 0.0                    # the latest request's round trip
    _last_queued_at: float | None = None
    _last_running_at: float | None = None
    _position_seen: list[tuple[int, float, float]] = field(default_factory=list)  # (position, first, last seen)

    def next_poll_at(self, now: float) -> float:
        """The absolute time of the next status request (>= now)."""
        if self.status in ENDED:
            return math.inf
        if self.status_requests == 0:
            if self._first_poll_pays():
                return max(now, self.submitted_at + self._first_delay())
            return max(now, self._naive_tick(now))
        tick = self._naive_tick(now)
        back = self._queued_behind()
        if back is not None:  # far back in the queue: about two polls per predicted advance
            return max(now, (self._answered or now) + back)
        target = self._predicted_change()
        if target is None:
            return tick  # rule 4: nothing known
        dist, trusted, reference = target
        earliest = self._earliest(dist, trusted, reference)
        # rule 2: nothing plausible happens before `earliest`, so no poll before it (within LONGEST_SLEEP)
        start = max(now, min(earliest, now + LONGEST_SLEEP))
        if start > tick:
            tick = self._naive_tick(start)
        # rule 3: predicted polls at the window's quantiles; rule 4 (the tick) wherever they leave a gap > TICK
        previous = self._last_seen if self._last_seen is not None else now
        spread = self._spread(dist)
        if not self._narrow(dist, spread):
            return tick
        for level in self._levels(spread):
            at = dist.quantile(level)
            if at >= start and at >= previous + DENSE:
                return at if at <= start + TICK else tick
        return tick

    def _spread(self, dist: Distribution, spent: int | None = None) -> int:
        """Predicted polls to spend on this window (plus one at its end): at most SPREAD and at most half of
        what the naive loop would send by the window's middle, less what this job has sent already."""
        naive = (dist.quantile(0.5) - self.submitted_at) / TICK + 0.5
        spent = self.status_requests if spent is None else spent
        return max(1, min(SPREAD, math.floor(naive - spent) - 1, math.floor((naive - spent) / 2)))

    @staticmethod
    def _earliest(dist: Distribution, trusted: bool, reference: float) -> float:
        """The earliest plausible change. n samples leave about 1/(n+1) of the next runs below their lowest, by
        about one gap between samples: so the (0.5/(n+1))-quantile, lowered by one average gap (MARGIN), and
        halved while the class is untrusted. Quantiles, not the minimum: a coarse sample (an end seen after a
        long sleep, [0.1 s, 29.9 s]) must not undo what precise ones say."""
        n = dist.size
        gap = (dist.quantile(0.9) - dist.quantile(0.1)) / (n + 1)
        earliest = dist.quantile(0.5 / (n + 1)) - MARGIN * gap
        if not trusted:
            earliest = reference + (earliest - reference) / 2
        return max(earliest, reference)

    def _first_delay(self) -> float:
        """When to make rule 1's early poll: where a free worker has usually started the job by then (the 3/4
        quantile of the learned submit → start times), between FIRST and half a TICK."""
        pickups = self.policy.history.pickups
        if not pickups:
            return FIRST
        return min(max(Distribution(pickups).quantile(0.75), FIRST), TICK / 2)

    def _naive_tick(self, after: float) -> float:
        """The naive loop's next request after `after` (and at least DENSE after our last one). That loop sends
        its k-th request at submit + k TICK + (k - 1) rtt (it sleeps TICK after each answer); polling on the same
        instants makes every lag of ours in rule 4 exactly the naive loop's, never a phase worse."""
        after = max(after, (self._last_seen or after) + DENSE)
        period = TICK + self._rtt
        k = max(math.floor((after - self.submitted_at + self._rtt) / period + 1e-9) + 1, 1)
        return self.submitted_at + k * TICK + (k - 1) * self._rtt

    def _first_poll_pays(self) -> bool:
        """Rule 1's early poll sees a free worker's start at once and brackets the start closely (without it
        the learned run times would be a whole tick wide). It costs one request, so it is made when nothing is
        known yet (the first runs teach the rest), when the predicted end is narrow enough for rule 3 (whose
        few polls replace the ticks), or when the run cannot end before the naive loop's first tick (skipped)."""
        samples, trusted = self.policy.history.run_samples(self.model_id, self.klass)
        if not samples or not trusted:  # a few runs known: the early poll still teaches (and shows the start)
            return True
        guess = Sample(self.submitted_at, self.submitted_at + FIRST)
        dist = Distribution(samples, guess)
        if self._earliest(dist, trusted, guess.low) >= self.submitted_at + FIRST + TICK:
            return True
        spread = self._spread(dist, spent=1)
        return self._narrow(dist, spread)

    @staticmethod
    def _levels(spread: int) -> list[float]:
        # Mid-quantiles, then the window's end: a change seen at the first poll teaches little (a coarse sample,
        # light), one seen later is bracketed closely, so the window narrows run after run (like a bisection).
        return [(k + 0.5) / spread for k in range(spread)] + [1.0]

    def _narrow(self, dist: Distribution, spread: int) -> bool:
        """Whether rule 3's polls are at most TICK apart (else they would come on top of the ticks)."""
        return (dist.high - dist.quantile(self._levels(spread)[0])) / spread <= TICK

    def _queued_behind(self) -> float | None:
        """While behind others with a learned advance interval: seconds between polls (else None). About two
        polls per predicted advance ahead of us, weighted by how many are ahead: the chance that *our* status
        changes soon is small far back."""
        gaps = self.policy.history.queue_gaps
        if self.status != "in_queue" or not self.queue_position or not gaps:
            return None
        return min(QUEUE_SLEEP, max(TICK, Distribution(gaps).quantile(0.1) / 2 * self.queue_position))

    def _predicted_change(self) -> tuple[Distribution, bool, float] | None:
        """(absolute-time distribution of the next change, trusted?, reference time) or None if unknown."""
        history = self.policy.history
        if self.status == "in_progress" and self.started is not None:
            samples, trusted = history.run_samples(self.model_id, self.klass)
            if samples:
                return Distribution(samples, self.started), trusted, self.started.low
            return None
        if self.status == "in_queue" and not self.queue_position and history.queue_gaps \
                and self.last_advance is not None:  # next in line: the start is one advance after the last one
            gaps = list(history.queue_gaps)
            return Distribution(gaps, self.last_advance), len(gaps) >= TRUSTED, self.last_advance.low
        return None

    def observe(self, status: str, queue_position: int | None, at: float,
                answered_at: float | None = None) -> Sample | None:
        """Record what a poll saw at time `at` (answer received at `answered_at`, default `at`); returns the
        run-time sample learned when the job ends."""
        self.status_requests += 1
        self._answered = answered_at if answered_at is not None else at
        self._rtt = max(2 * (self._answered - at), 0.0)
        previous, seen_before = self.status, self._last_seen
        if status == "in_queue":
            self._observe_queue(queue_position, at)
            self._last_queued_at = at
        elif status == "in_progress":
            if self.started is None:
                self.started = Sample(self._last_queued_at or self.submitted_at, at)
                if self.learns and all(position == 0 for position, _, _ in self._position_seen):  # none ahead
                    self.policy.history.pickups.append(Sample(self.started.low - self.submitted_at,
                                                              self.started.high - self.submitted_at))
            self._last_running_at = at
        self._last_seen = at
        self.status, self.queue_position = status, queue_position if status == "in_queue" else None
        if status in ENDED and previous not in ENDED:
            self.ended = Sample(seen_before or self.submitted_at, at)
            if status == "completed":
                return self._learn()
        return None

    def _observe_queue(self, position: int | None, at: float) -> None:
        if position is None:
            return
        seen = self._position_seen
        if seen and seen[-1][0] == position:
            seen[-1] = (position, seen[-1][1], at)
            return
        if seen and position < seen[-1][0]:
            advance = Sample(seen[-1][2], at)  # the queue moved between the two polls
            if seen[-1][0] - position == 1 and len(seen) >= 2 and seen[-2][0] == seen[-1][0] + 1 \
                    and self.last_advance is not None:
                # two single-step advances in a row: the time between them is one advance interval
                gap = Sample(max(advance.low - self.last_advance.high, 0.0), advance.high - self.last_advance.low)
                self.policy.history.add_queue_gap(gap)
            self.last_advance = advance
        seen.append((position, at, at))

    def _learn(self) -> Sample | None:
        if self.started is None or self.ended is None or not self.learns:
            return None
        low = max(self.ended.low - self.started.high, 0.0)
        high = self.ended.high - self.started.low
        sample = Sample(low, high)
        # Even a coarse sample is kept (it weighs little): dropping the runs that ended before a long sleep
        # would teach only the long ones, and the schedule would sleep through every short run after them.
        self.policy.history.add_run(self.model_id, self.klass, sample)
        return sample


def state_name(base_url: str) -> str:
    """The journal's `state` entry holding an endpoint's learned history."""
    return f"polling:{base_url}"


class PollingPolicy:
    """The polling policy of one client (one endpoint): hands out JobTrackers and owns the learned history."""

    def __init__(self, history: RunTimeHistory | None = None) -> None:
        self.history = history or RunTimeHistory()

    def track(self, model_id: str, inputs: Mapping[str, Any] | None, submitted_at: float,
              learns: bool = True) -> JobTracker:
        """Start tracking a job whose submit was accepted at `submitted_at` (status in_queue). A re-attached job
        (`learns=False`) is polled the same way but teaches no run time: when it started is unknown."""
        return JobTracker(self, model_id, input_class(inputs), submitted_at, learns)

    def next_delay(self, tracker: JobTracker, now: float) -> float:
        """Seconds to sleep before the tracker's next status request."""
        return max(tracker.next_poll_at(now) - now, 0.0)

    def observe(self, tracker: JobTracker, status: str, queue_position: int | None, at: float,
                answered_at: float | None = None) -> Sample | None:
        """Record a poll's answer (normalised status, queue position) observed at `at` (best: the middle of the
        request) and received at `answered_at`; returns the run-time sample learned when this answer ends the
        job, else None."""
        return tracker.observe(status, queue_position, at, answered_at)

    def typical_run(self, model_id: str, inputs: Mapping[str, Any] | None = None) -> float | None:
        """The median learned run time (seconds) for these inputs, or None: for displays and estimates."""
        samples, _ = self.history.run_samples(model_id, input_class(inputs))
        if not samples:
            return None
        middles = sorted(s.middle for s in samples)
        return middles[len(middles) // 2]


__all__ = ["PollingPolicy", "JobTracker", "RunTimeHistory", "Sample", "Distribution", "input_class", "turnbull",
           "TICK", "FIRST", "DENSE"]
