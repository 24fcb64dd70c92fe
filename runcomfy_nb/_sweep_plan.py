"""A sweep's plan: which inputs are axes, one Cell per combination (in product order), labels for the grid,
and the per-client gate shared by the sweeps.

No jobs are sent here (runcomfy_nb.sweeps schedules them); these pieces are pure, so the views can share them.
"""

from __future__ import annotations

import itertools
import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import schemas
from .errors import (
    AuthError,
    InputValidationError,
    InsufficientBalanceError,
    NotFoundError,
    ServerValidationError,
)
from .seeds import SeedControl

if TYPE_CHECKING:
    from ._job import Job
    from ._outputs import Output

TERMINAL = frozenset({"completed", "failed", "cancelled"})
STATUS_ORDER = ("completed", "in_progress", "in_queue", "submitting", "waiting", "failed", "cancelled")

class Vary(list[Any]):
    """A list marked as an axis even for a field whose schema type is an array (`rc.vary([...])`)."""


def vary(values: Iterable[Any]) -> Vary:
    """Mark `values` as a sweep axis (needed for array-typed fields, where a plain list is one value)."""
    return Vary(values)


def find_axes(inputs: dict[str, Any], schema: dict[str, Any] | None) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """(axes, common): the varying fields in order with their values, and the fields shared by every job."""
    props = (schemas.normalise(schema).get("properties") or {}) if schema else {}
    axes: dict[str, list[Any]] = {}
    common: dict[str, Any] = {}
    for key, value in inputs.items():
        array_field = isinstance(props.get(key), dict) and props[key].get("type") == "array"
        if isinstance(value, Vary) or (isinstance(value, (list, range)) and not array_field):
            values = list(value)
            if not values:
                raise InputValidationError(f"{key}: axis — a sweep axis needs at least one value; got []",
                                           field=key, rule="axis", value=value)
            axes[key] = values
        else:
            common[key] = value
    return axes, common


@dataclass
class Cell:
    """One combination of a sweep. Until its job is sent it stands in for the job: status "waiting"."""

    index: int
    values: dict[str, Any]  # axis name -> this cell's value
    inputs: dict[str, Any]  # as given (seed controls resolved)
    prepared: dict[str, Any]  # validated, as they will be sent
    model_id: str
    job: Job | None = None
    local_status: str = "waiting"  # "waiting" until sent; "cancelled" / "failed" if it never will be
    attempts: int = 0
    error: str = ""  # why it was never sent

    @property
    def status(self) -> str:
        return self.job.status if self.job is not None else self.local_status

    @property
    def outputs(self) -> list[Output]:
        return self.job.outputs if self.job is not None else []

    @property
    def cost(self) -> float | None:
        return getattr(self.job, "cost", None) if self.job is not None else None

    @property
    def request_id(self) -> str | None:
        return self.job.request_id if self.job is not None else None

    def __repr__(self) -> str:
        label = ", ".join(f"{k}={_short(v)}" for k, v in self.values.items())
        return f"<Cell {self.index} {label}: {'waiting (not sent)' if self.status == 'waiting' else self.status}>"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit // 2 - 1] + "…" + text[-(limit // 2 - 1):]


def _slug(value: Any) -> str:
    text = re.sub(r"[^A-Za-z0-9]+", "-", str(value)).strip("-")
    return (text[:24] or "x").lower()


def product_cells(order: Sequence[str], axes: dict[str, list[Any]],
                  common: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(axis values, inputs) per combination, first axis slowest, inputs in the given key order; a seed control
    gives one seed per job, in that order."""
    combos = []
    for values in itertools.product(*axes.values()):  # no axes: one combination
        chosen = dict(zip(axes, values, strict=True))
        inputs = {key: chosen[key] if key in chosen else common[key] for key in order}
        inputs = {k: v.take() if isinstance(v, SeedControl) else v for k, v in inputs.items()}
        combos.append((chosen, inputs))
    return combos


def differing(values: Sequence[str]) -> list[tuple[str, str, str]]:
    """(prefix, differing middle, suffix) of each text: the common start and end are split off (by words and
    punctuation, so "snow, oil painting" differs in "snow", not "snow,"), so a grid can show the part of a long
    prompt that differs between rows."""
    if len(values) < 2:
        return [("", v, "") for v in values]
    tokens = [_WORDS.findall(v) for v in values]
    start = 0
    while all(len(t) > start for t in tokens) and len({t[start] for t in tokens}) == 1:
        start += 1
    end = 0
    while all(len(t) - start > end for t in tokens) and len({t[len(t) - 1 - end] for t in tokens}) == 1:
        end += 1
    return [("".join(t[:start]).strip(), "".join(t[start: len(t) - end]).strip(),
             "".join(t[len(t) - end:]).strip() if end else "") for t in tokens]


_WORDS = re.compile(r"\w+|\s+|[^\w\s]")  # words, runs of spaces, single punctuation marks


# A refused submit with one of these means the next ones would be refused too.
STOP_ERRORS = (AuthError, InsufficientBalanceError, NotFoundError, ServerValidationError)


class _Gate:
    """The per-client cap across sweeps (settings.max_in_flight_total); touched only on the loop thread."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.sweeps: weakref.WeakSet[Any] = weakref.WeakSet()  # the Sweeps sending through this client

    def pump_all(self) -> None:
        for sweep in sorted(self.sweeps, key=lambda s: s.created_at):  # older sweeps first
            sweep._pump()


_gates: weakref.WeakKeyDictionary[Any, _Gate] = weakref.WeakKeyDictionary()
