"""Which request fails, and how: the deterministic `fail_next` queue first, then random `faults` (seeded)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .knobs import FaultSpec, Knobs


@dataclass(frozen=True)
class Fault:
    kind: str
    retry_after: str | None = None  # the Retry-After header for "429" (None: no header)
    slow_seconds: float = 0.0


class FaultInjector:
    def __init__(self, knobs: Knobs) -> None:
        self.knobs = knobs
        self._spec: FaultSpec | None = None
        self._rng = random.Random()

    def reseed(self) -> None:
        spec = self.knobs.faults
        self._spec = spec
        self._rng = random.Random(spec.seed if spec is not None else None)

    def draw(self, path: str) -> Fault | None:
        """The fault for this request on `path` ("submit", "status", …), or None to answer normally."""
        spec = self.knobs.faults
        if spec is not self._spec:  # the knob changed: start its random sequence afresh
            self.reseed()
        pending = self.knobs.fail_next.get(path, 0)
        if pending > 0:
            if pending == 1:
                self.knobs.fail_next.pop(path)
            else:
                self.knobs.fail_next[path] = pending - 1
            return self._make(self.knobs.fail_next_kind, spec)
        if spec is None or spec.rate <= 0 or path not in spec.paths:
            return None
        if self._rng.random() >= spec.rate:
            return None
        return self._make(self._rng.choice(spec.kinds), spec)

    def _make(self, kind: str, spec: FaultSpec | None) -> Fault:
        spec = spec or FaultSpec()
        retry_after = None
        if kind == "429":
            choice = self._rng.choice(spec.retry_after) if spec.retry_after else None
            if choice is not None:
                if isinstance(choice, float) and choice.is_integer():
                    choice = int(choice)
                retry_after = str(choice)
        return Fault(kind, retry_after, spec.slow_seconds)
