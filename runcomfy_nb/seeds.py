"""Seed control like ComfyUI's "control after generate": fixed, increment or randomize after each run.

    seed = rc.seed_control("increment", 100)
    client.submit(model, prompt="a fox", seed=seed)   # sends 100
    client.submit(model, prompt="a fox", seed=seed)   # sends 101

A `SeedControl` can stand wherever a seed value goes (submit, start, sweep); the seed actually sent is in
`job.inputs` (`seed_of(job)`).
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Mapping
from typing import Any

MODES = ("fixed", "increment", "randomize")
SEED_MAX = 2**31 - 1  # the seed pages' own maximum (ideogram: 2147483647)
_SEED_NAME = re.compile(r"(^|_)seed$")


def seed_field(schema: Mapping[str, Any] | None) -> str | None:
    """The model's integer seed field (`seed`, `598_seed`, …), or None when it has none."""
    props = (schema or {}).get("properties") or {}
    for key, prop in props.items():
        if isinstance(prop, Mapping) and prop.get("type") in ("integer", "int", "number") and _SEED_NAME.search(key):
            return key
    return None


def seed_of(job: Any) -> int | None:
    """The seed a job was sent with (None when the model has no seed field or the server picked one)."""
    inputs = getattr(job, "inputs", None) or {}
    for key, value in inputs.items():
        if _SEED_NAME.search(key) and isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


class SeedControl:
    """A seed that changes after each run: `mode` is "fixed", "increment" or "randomize"."""

    def __init__(self, mode: str = "randomize", value: int | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"seed_control: mode must be one of {list(MODES)}; got {mode!r}")
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= SEED_MAX):
            raise ValueError(f"seed_control: value must be an integer from 0 to {SEED_MAX}; got {value!r}")
        self.mode = mode
        self.value = random.randint(0, SEED_MAX) if value is None else value
        self.history: list[int] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<SeedControl {self.mode} next={self.value}>"

    def take(self) -> int:
        """The seed for this run; then move on as the mode says."""
        with self._lock:
            current = self.value
            self.history.append(current)
            if self.mode == "increment":
                self.value = current + 1 if current < SEED_MAX else 0
            elif self.mode == "randomize":
                self.value = random.randint(0, SEED_MAX)
            return current


def seed_control(mode: str = "randomize", value: int | None = None) -> SeedControl:
    """A seed value that is fixed, incremented or randomized after each run (ComfyUI's control after generate)."""
    return SeedControl(mode, value)


def resolve(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs with every SeedControl replaced by the seed it gives for this run."""
    return {key: value.take() if isinstance(value, SeedControl) else value for key, value in inputs.items()}
