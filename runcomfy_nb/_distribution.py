"""A duration's distribution from interval-censored samples (Turnbull's estimator), for the polling policy.

A sample is an interval [low, high] a duration is known to lie in (a run seen between two polls). Pure and cached:
the policy asks on every poll of every job, the samples change once per finished job.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

PAD = 0.05  # seconds (or 1 %) of jitter allowed around every sample


@dataclass(frozen=True)
class Sample:
    """A duration known to lie in [low, high] seconds."""

    low: float
    high: float

    @property
    def middle(self) -> float:
        return (self.low + self.high) / 2


@functools.lru_cache(maxsize=512)
def turnbull(samples: tuple[Sample, ...], rounds: int = 60) -> list[tuple[Sample, float]]:
    """The distribution behind interval-censored samples (Turnbull's self-consistent estimator): mass on the
    innermost intervals the samples share. Runs of a fixed length, each seen as a wide bracket, pile up where
    the brackets overlap; truly varying runs spread out. Returns (interval, probability) pairs. Cached: the
    samples change once per finished job, the schedule asks on every poll."""
    points = sorted([(s.low, 0) for s in samples] + [(s.high, 1) for s in samples])
    cells = [Sample(a, b) for (a, ka), (b, kb) in zip(points, points[1:], strict=False) if ka == 0 and kb == 1]
    if not cells:
        return [(s, 1 / len(samples)) for s in samples]
    holds = [[c.low >= s.low and c.high <= s.high for c in cells] for s in samples]
    mass = [1 / len(cells)] * len(cells)
    for _ in range(rounds):
        new = [0.0] * len(cells)
        for row in holds:
            total = sum(m for m, h in zip(mass, row, strict=True) if h)
            if total <= 0:
                continue
            for j, h in enumerate(row):
                if h:
                    new[j] += mass[j] / total
        mass = [m / len(samples) for m in new]
    return [(c, m) for c, m in zip(cells, mass, strict=True) if m > 1e-6]


class _Shape:
    """A Distribution relative to its shift's low end; cached, since the same samples and start-bracket width
    come back on every poll of every job (the schedule must stay cheap with 1000 jobs in flight)."""

    def __init__(self, samples: tuple[Sample, ...], width: float) -> None:
        self.size = len(samples)
        self.parts = []
        self.weights = []
        for cell, mass in turnbull(samples):
            pad = max(PAD, 0.01 * cell.middle)
            self.parts.append((cell.low - pad, width + cell.high + pad))
            self.weights.append(mass)
        self.total = sum(self.weights)
        self.low = min(a for a, _ in self.parts)
        self.high = max(b for _, b in self.parts)
        self._quantiles: dict[float, float] = {}

    def cdf(self, x: float) -> float:
        return sum(w * min(max((x - a) / (b - a), 0.0), 1.0)
                   for (a, b), w in zip(self.parts, self.weights, strict=True)) / self.total

    def quantile(self, q: float) -> float:
        known = self._quantiles.get(q)
        if known is not None:
            return known
        low, high = self.low, self.high
        for _ in range(30):
            mid = (low + high) / 2
            if self.cdf(mid) < q:
                low = mid
            else:
                high = mid
        self._quantiles[q] = high
        return high


@functools.lru_cache(maxsize=1024)
def _shape(samples: tuple[Sample, ...], width: float) -> _Shape:
    return _Shape(samples, width)


class Distribution:
    """The predicted time of a change: Turnbull's estimate from the samples, each cell padded for jitter,
    shifted by an offset interval (when this job started, or when its queue last advanced)."""

    def __init__(self, samples: Iterable[Sample], shift: Sample = Sample(0.0, 0.0)) -> None:
        samples = tuple(samples)
        if not samples:
            raise ValueError("a distribution needs at least one sample")
        self._shape = _shape(samples, round(shift.high - shift.low, 2))
        self.offset = shift.low
        self.size = self._shape.size
        self.low = self.offset + self._shape.low
        self.high = self.offset + self._shape.high

    def cdf(self, x: float) -> float:
        """The weighted fraction of the mixture below x."""
        return self._shape.cdf(x - self.offset)

    def quantile(self, q: float) -> float:
        """The smallest x with cdf(x) >= q (bisection, remembered per level)."""
        return self.offset + self._shape.quantile(q)
