"""The simulator's knobs: what can be changed at start, live with `Simulator.configure()`, or over
`POST /_sim/config`. Plain data and validation only (stdlib)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

#: Fault kinds a request can be given (see docs/simulator.md).
FAULT_KINDS: tuple[str, ...] = ("429", "500", "502", "503", "504", "drop", "slow", "malformed", "error200")
#: Not drawn unless asked for: the submit is accepted (a job exists) and then the answer is dropped.
EXTRA_FAULT_KINDS: tuple[str, ...] = ("drop_accepted",)
#: API paths faults can hit by default; "media" (output downloads) only when listed explicitly.
FAULT_PATHS: tuple[str, ...] = ("status", "result", "cancel", "submit", "catalog")
ALL_FAULT_PATHS: tuple[str, ...] = (*FAULT_PATHS, "media")

#: Seconds per model at time_scale=1 (then by kind for models not listed).
DEFAULT_RUN_TIMES: dict[str, float] = {
    "wan-ai/wan-2-5/text-to-image": 3.0,
    "bytedance/dreamina-4-0/text-to-image": 4.0,
    "blackforestlabs/flux-1-kontext/pro/edit": 3.0,
    "ideogram/ideogram-v3/reframe": 3.0,
    "community/wan-2-1/fusionx/image-to-video": 8.0,
}
DEFAULT_RUN_TIME_BY_KIND: dict[str, float] = {"image": 3.0, "video": 8.0}

RESULT_UNFINISHED_MODES = ("state", "400005")


class KnobError(ValueError):
    """A knob name or value the simulator does not accept."""


@dataclass
class FaultSpec:
    """Random fault injection: each request on one of `paths` fails with probability `rate`."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    paths: tuple[str, ...] = FAULT_PATHS
    seed: int | None = None
    slow_seconds: float = 3.0
    retry_after: tuple[float | int | str | None, ...] = (None, 0, 1)

    @classmethod
    def parse(cls, value: Any) -> FaultSpec | None:
        if value is None or value is False:
            return None
        if isinstance(value, FaultSpec):
            return value
        if not isinstance(value, dict):
            raise KnobError(f"faults must be an object like {{'rate': 0.2, 'kinds': [...]}}, got {value!r}")
        known = {f.name for f in fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise KnobError(f"faults: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
        spec = cls()
        if "rate" in value:
            spec.rate = _number("faults.rate", value["rate"], low=0.0, high=1.0)
        if "kinds" in value:
            spec.kinds = _names("faults.kinds", value["kinds"], (*FAULT_KINDS, *EXTRA_FAULT_KINDS))
            if not spec.kinds:
                raise KnobError("faults.kinds must not be empty")
        if "paths" in value:
            spec.paths = _names("faults.paths", value["paths"], ALL_FAULT_PATHS)
        if "seed" in value:
            seed = value["seed"]
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise KnobError(f"faults.seed must be an integer or null, got {seed!r}")
            spec.seed = seed
        if "slow_seconds" in value:
            spec.slow_seconds = _number("faults.slow_seconds", value["slow_seconds"], low=0.0)
        if "retry_after" in value:
            options = value["retry_after"]
            if not isinstance(options, (list, tuple)) or not options:
                raise KnobError("faults.retry_after must be a non-empty list of seconds, strings or null")
            for option in options:
                if option is not None and (isinstance(option, bool) or not isinstance(option, (int, float, str))):
                    raise KnobError(f"faults.retry_after: {option!r} is not seconds, a string or null")
            spec.retry_after = tuple(options)
        return spec

    def public(self) -> dict[str, Any]:
        return {"rate": self.rate, "kinds": list(self.kinds), "paths": list(self.paths), "seed": self.seed,
                "slow_seconds": self.slow_seconds, "retry_after": list(self.retry_after)}


@dataclass
class Knobs:
    time_scale: float = 1.0
    workers: int = 2
    token: str | None = field(default=None, repr=False)  # never shown
    paused: bool = False
    run_times: dict[str, float] = field(default_factory=dict)
    result_unfinished: str = "state"
    output_ttl: float | None = None
    max_queue: int | None = None
    faults: FaultSpec | None = None
    fail_next: dict[str, int] = field(default_factory=dict)
    fail_next_kind: str = "503"

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def parse(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Validate `changes` and return them in their stored form (nothing is applied here)."""
        unknown = set(changes) - set(self.names())
        if unknown:
            raise KnobError(f"unknown knob(s) {sorted(unknown)}; known: {self.names()}")
        out: dict[str, Any] = {}
        for name, value in changes.items():
            out[name] = getattr(self, f"_parse_{name}")(value)
        return out

    def apply(self, parsed: dict[str, Any]) -> None:
        for name, value in parsed.items():
            setattr(self, name, value)

    def differs(self, changes: dict[str, Any]) -> bool:
        parsed = self.parse(changes)
        return any(getattr(self, name) != value for name, value in parsed.items())

    def run_time(self, model_id: str, kind: str) -> float:
        base = self.run_times.get(model_id)
        if base is None:
            base = DEFAULT_RUN_TIMES.get(model_id, DEFAULT_RUN_TIME_BY_KIND.get(kind, 3.0))
        return max(0.0, base * self.time_scale)

    def public(self) -> dict[str, Any]:
        """JSON-able view; the token itself is never shown."""
        return {
            "time_scale": self.time_scale, "workers": self.workers,
            "token": "(set)" if self.token else None, "paused": self.paused,
            "run_times": dict(self.run_times), "result_unfinished": self.result_unfinished,
            "output_ttl": self.output_ttl, "max_queue": self.max_queue,
            "faults": self.faults.public() if self.faults else None,
            "fail_next": dict(self.fail_next), "fail_next_kind": self.fail_next_kind,
        }

    # --- one parser per knob -------------------------------------------------------------------------------

    @staticmethod
    def _parse_time_scale(value: Any) -> float:
        return _number("time_scale", value, low=0.0)

    @staticmethod
    def _parse_workers(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise KnobError(f"workers must be an integer ≥ 1, got {value!r}")
        return value

    @staticmethod
    def _parse_token(value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or value.strip() != value or " " in value:
            raise KnobError("token must be a non-empty string without spaces, or null")
        return value

    @staticmethod
    def _parse_paused(value: Any) -> bool:
        if not isinstance(value, bool):
            raise KnobError(f"paused must be true or false, got {value!r}")
        return value

    @staticmethod
    def _parse_run_times(value: Any) -> dict[str, float]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise KnobError("run_times must be an object {model_id: seconds}")
        return {str(k): _number(f"run_times[{k!r}]", v, low=0.0) for k, v in value.items()}

    @staticmethod
    def _parse_result_unfinished(value: Any) -> str:
        value = str(value)
        if value not in RESULT_UNFINISHED_MODES:
            raise KnobError(f"result_unfinished must be one of {list(RESULT_UNFINISHED_MODES)}, got {value!r}")
        return value

    @staticmethod
    def _parse_output_ttl(value: Any) -> float | None:
        return None if value is None else _number("output_ttl", value, low=0.0)

    @staticmethod
    def _parse_max_queue(value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise KnobError(f"max_queue must be an integer ≥ 0 or null, got {value!r}")
        return value

    @staticmethod
    def _parse_faults(value: Any) -> FaultSpec | None:
        return FaultSpec.parse(value)

    @staticmethod
    def _parse_fail_next(value: Any) -> dict[str, int]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise KnobError("fail_next must be an object {path: count}, e.g. {'status': 2}")
        out = {}
        for path, count in value.items():
            if path not in ALL_FAULT_PATHS:
                raise KnobError(f"fail_next: unknown path {path!r}; known: {list(ALL_FAULT_PATHS)}")
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise KnobError(f"fail_next[{path!r}] must be an integer ≥ 0, got {count!r}")
            if count:
                out[path] = count
        return out

    @staticmethod
    def _parse_fail_next_kind(value: Any) -> str:
        value = str(value)
        if value not in (*FAULT_KINDS, *EXTRA_FAULT_KINDS):
            raise KnobError(f"fail_next_kind must be one of {[*FAULT_KINDS, *EXTRA_FAULT_KINDS]}, got {value!r}")
        return value


def _number(name: str, value: Any, *, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise KnobError(f"{name} must be a number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"≥ {low}" if high is None else f"between {low} and {high}"
        raise KnobError(f"{name} must be {bounds}, got {value!r}")
    return float(value)


def _names(name: str, value: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise KnobError(f"{name} must be a list, got {value!r}")
    out = tuple(str(v) for v in value)
    bad = [v for v in out if v not in allowed]
    if bad:
        raise KnobError(f"{name}: unknown {bad}; known: {list(allowed)}")
    return out
