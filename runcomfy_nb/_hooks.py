"""Where the presentation layer attaches itself to core objects, so that the core never imports it.

`runcomfy_nb/__init__.py` (the entry layer) sets `presenter` to a function that imports `runcomfy_nb.widgets`
on first use; `Job._ipython_display_` and `Job._repr_html_` ask it. Without a presenter a Job shows its repr.
`sweep_presenter` does the same for `Sweep` (runcomfy_nb.sweepview).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Presenter(Protocol):
    """What the presentation layer offers for a job: a live display and a static HTML copy."""

    def display_job(self, job: Any) -> None:
        """Show the job's live widget (and its static copy) in the current output."""

    def job_html(self, job: Any) -> str:
        """The job as static HTML (a saved notebook shows it without a kernel)."""


class SweepPresenter(Protocol):
    """What the presentation layer offers for a sweep: its live grid and a static HTML copy."""

    def display_sweep(self, sweep: Any) -> None:
        """Show the sweep's live grid (and its static copy) in the current output."""

    def sweep_html(self, sweep: Any, labels: dict[str, str] | None = None, *, thumbnails: bool = True) -> str:
        """The sweep as static HTML."""


presenter: Callable[[], Presenter] | None = None
shell: Callable[[], Any] | None = None  # the running IPython shell, or None (set by the package face)
sweep_presenter: Callable[[], SweepPresenter] | None = None


def get_presenter() -> Presenter | None:
    """The registered presenter, or None (a plain Python process that never imported the package face)."""
    return presenter() if presenter is not None else None


def get_sweep_presenter() -> SweepPresenter | None:
    """The registered sweep presenter, or None."""
    return sweep_presenter() if sweep_presenter is not None else None


def current_shell() -> Any:
    """The IPython shell running this code (a notebook's kernel), or None in a plain Python process."""
    return shell() if shell is not None else None
