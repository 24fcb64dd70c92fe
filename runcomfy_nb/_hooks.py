"""Where the presentation layer attaches itself to core objects, so that the core never imports it.

`runcomfy_nb/__init__.py` (the entry layer) sets `presenter` to a function that imports `runcomfy_nb.widgets`
on first use; `Job._ipython_display_` and `Job._repr_html_` ask it. Without a presenter a Job shows its repr.
`sweep_presenter` does the same for `Sweep` (runcomfy_nb.sweepview); `text_view` gives jobs their one-line
status, says whether the front end shows only text (terminal IPython, a script) and makes wait()'s progress line
(runcomfy_nb.textview).
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

    def show(self, job: Any) -> Any:
        """The job's live view object (what marimo's `_display_` protocol wants)."""


class ProgressLike(Protocol):
    """A line rewritten in place while a wait blocks."""

    def update(self, text: str) -> None:
        """Show `text` in place of the previous update."""

    def finish(self, text: str | None = None) -> None:
        """End the line (with `text` as its final content)."""


class TextView(Protocol):
    """Jobs as text: the status line, whether only text is shown here, the wait's progress line."""

    def status_line(self, job: Any, now: float | None = None) -> str:
        """One line: model, short request id, status, time, results."""

    def text_only(self, shell: Any = None) -> bool:
        """True in a script or terminal IPython (no HTML shown, no display updates wanted)."""

    def progress_line(self) -> ProgressLike:
        """A progress line as the settings say (on a terminal only, by default)."""


class SweepPresenter(Protocol):
    """What the presentation layer offers for a sweep: its live grid and a static HTML copy."""

    def display_sweep(self, sweep: Any) -> None:
        """Show the sweep's live grid (and its static copy) in the current output."""

    def sweep_html(self, sweep: Any, labels: dict[str, str] | None = None, *, thumbnails: bool = True) -> str:
        """The sweep as static HTML."""


presenter: Callable[[], Presenter] | None = None
shell: Callable[[], Any] | None = None  # the running IPython shell, or None (set by the package face)
sweep_presenter: Callable[[], SweepPresenter] | None = None
text_view: Callable[[], TextView] | None = None


def get_presenter() -> Presenter | None:
    """The registered presenter, or None (a plain Python process that never imported the package face)."""
    return presenter() if presenter is not None else None


def get_sweep_presenter() -> SweepPresenter | None:
    """The registered sweep presenter, or None."""
    return sweep_presenter() if sweep_presenter is not None else None


def get_text_view() -> TextView | None:
    """The registered text view, or None."""
    return text_view() if text_view is not None else None


def text_only() -> bool:
    """True where only text is shown (no presenter's HTML would be seen), as the text view says."""
    view = get_text_view()
    return view.text_only() if view is not None else True


def status_line(job: Any) -> str:
    """A job's one-line status (the text view's, else a plain one)."""
    view = get_text_view()
    if view is not None:
        return view.status_line(job)
    saving = f" ({job.save_state})" if job.save_state and job.save_state != "saved" else ""
    return f"{job.model_id} {job.request_id or job.local_id[:8]} {job.status}{saving}"


def display_job(job: Any) -> None:
    """Show a job: its live view (notebooks), else its status line once (terminal IPython, scripts)."""
    presenter = get_presenter()
    if presenter is None or text_only():
        print(status_line(job))
    else:
        presenter.display_job(job)


class _Silent:
    def update(self, text: str) -> None:
        """Nothing: not a terminal, or the job already ended."""

    def finish(self, text: str | None = None) -> None:
        """Nothing."""


def progress_line(job: Any) -> ProgressLike:
    """What `wait()` rewrites while it blocks: the text view's progress line (silent off a terminal)."""
    view = get_text_view()
    return view.progress_line() if view is not None and not job.done() else _Silent()


def current_shell() -> Any:
    """The IPython shell running this code (a notebook's kernel), or None in a plain Python process."""
    return shell() if shell is not None else None
