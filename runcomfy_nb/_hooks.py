"""Where the presentation layer attaches itself to core objects, so that the core never imports it.

`runcomfy_nb/__init__.py` (the entry layer) sets `presenter` to a function that imports `runcomfy_nb.widgets`
on first use; `Job._ipython_display_` and `Job._repr_html_` ask it. Without a presenter a Job shows its repr.
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


presenter: Callable[[], Presenter] | None = None


def get_presenter() -> Presenter | None:
    """The registered presenter, or None (a plain Python process that never imported the package face)."""
    return presenter() if presenter is not None else None
