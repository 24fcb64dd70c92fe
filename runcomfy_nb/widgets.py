"""anywidget front ends: `JobView` (one live job) and what every widget shares (ModelForm: runcomfy_nb.modelform).

No HTTP here: widgets read Jobs and call the client. One writer thread for traits: the background loop's.
Job listeners already run there; writes that start on the kernel thread (a form's submit, load, reset, its
validation) are handed to the loop and waited for (`_on_loop`). Jobs and widgets do not hold each other's
state: the views live in a weak map keyed by job, form messages name a run by the job's local id.
The traits and messages are the contract with js/ (docs/widgets.md).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import itertools
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import traitlets

from . import schemas
from ._cell_display import ShownInCell, ViewWithCopy
from ._client import Client, client_of, default_client
from ._job import TERMINAL, Job
from ._loop import get_loop, in_loop_thread, spawn
from ._render import inputs_summary, job_html, static_copy
from .config import settings
from .seeds import seed_of
from .textview import status_line

STATIC = Path(__file__).parent / "static"
# job local id -> its live view, made once; the job does not know its views, and a closed view is forgotten
_views: weakref.WeakValueDictionary[str, JobView] = weakref.WeakValueDictionary()
_shown_in = ShownInCell()


def _on_loop(write: Callable[[], Any]) -> None:
    """Run a trait write on the loop thread (the widgets' one writer) and wait for it: callers see it done."""
    if in_loop_thread():
        write()
        return
    done: concurrent.futures.Future[None] = concurrent.futures.Future()

    def run() -> None:
        try:
            write()
            done.set_result(None)
        except BaseException as error:
            done.set_exception(error)

    get_loop().call_soon_threadsafe(run)
    done.result(timeout=60)


def _ms(seconds: float | None) -> float | None:
    return seconds * 1000.0 if seconds else None


def _labels(model_id: str, client: Client | None) -> dict[str, str]:
    raw = (client.schema(model_id) if client is not None else schemas.shipped_schema(model_id)) or {}
    return {f["key"]: f["label"] for f in schemas.describe_fields(raw)} if raw else {}


def reused_when(job: Job) -> str:
    """When the earlier job a reused one stands for finished ("" for a job that was sent)."""
    if not job.reused:
        return ""
    return dt.datetime.fromtimestamp(job.reused_from).strftime("%Y-%m-%d %H:%M") if job.reused_from else "earlier"


def job_state(job: Job, labels: dict[str, str]) -> dict[str, Any]:
    """The JSON the front end renders for one job (JobView traits and ModelForm history entries)."""
    return {
        "request_id": job.request_id or "",
        "local_id": job.local_id,
        "status": job.status,
        "queue_position": job.queue_position,
        "submitted_at": _ms(job.submitted_at or job.created_at),
        "started_at": _ms(job.started_at),
        "finished_at": _ms(job.finished_at),
        "outputs": [o.to_dict() for o in job.outputs],
        "error": job.error or "",
        "inputs_summary": inputs_summary(job.inputs, labels),
        "cancellable": job.cancellable,
        "cancel_note": job.cancel_note,
        "cost": job.cost,
        "seed": seed_of(job),
        "reused": job.reused,
        "reused_from": reused_when(job),
    }


def _save_outputs(job: Job) -> str:
    if not job.outputs:
        return "Nothing to save yet."
    paths = [output.save(settings.save_dir) for output in job.outputs]
    return f"Saved {len(paths)} file{'s' if len(paths) != 1 else ''} to {paths[0].parent}"


class _Persisted(ViewWithCopy):
    """A view with a static copy (_cell_display) whose `copy_id` the live view hides while it renders.

    The bundle is stored once per notebook (shared_module), and the copy carries `copy_id` (js/copy_guard.js),
    so front ends with a widget manager show one card.
    """

    copy_id = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not self.copy_id:
            self.copy_id = uuid.uuid4().hex[:16]


class ItemUpdates:
    """One changed entry of a synced list trait (a form's runs, a sweep's cells) goes to the page alone, as the
    message {"type": "item", "trait", "index", "item"} that js/list_items.js writes into its list in place.

    The trait is changed in place too (no trait event, so no whole-list sync): a view that renders later (a second
    display, a page reload) reads every entry's latest state from it. Each entry carries a growing `rev`, so a
    whole list that the page applies late cannot undo a newer item. Loop thread only, like every trait write.
    """

    def __init__(self, widget: traitlets.HasTraits, trait: str) -> None:
        self._widget, self._trait = widget, trait
        self._revs = itertools.count(1)

    def stamp(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The entry with the next revision number (every entry that goes out, alone or in a whole list)."""
        return {**entry, "rev": next(self._revs)}

    @staticmethod
    def same(sent: dict[str, Any] | None, entry: dict[str, Any]) -> bool:
        """Whether `entry` is what was sent already (`sent` carries a rev, `entry` not yet)."""
        return sent is not None and {k: v for k, v in sent.items() if k != "rev"} == entry

    def replace(self, index: int, entry: dict[str, Any]) -> None:
        """Put a stamped entry at `index` of the trait's list and send it alone."""
        getattr(self._widget, self._trait)[index] = entry
        send = getattr(self._widget, "send", None)
        if send is not None:
            send({"type": "item", "trait": self._trait, "index": index, "item": entry})


def run_fresh(job: Job) -> Job:
    """The same inputs sent again, never reused (what "Run again" does): paid again; a fixed seed repeats the result."""
    client = client_of(job) or default_client()
    return client.start(job.model_id, dict(job.inputs), fresh=True)


class JobView(_Persisted):
    """The live view of one job: status, queue position, elapsed time, cost, outputs, Cancel and Save.

    A reused job says "reused from <time>" and offers Run again: the view then follows the fresh job.
    """

    _bundle_esm = STATIC / "jobview.js"
    _bundle_css = STATIC / "widgets.css"

    # not `model_id`: ipywidgets.Widget.model_id is the comm id that views point at
    model_key = traitlets.Unicode("").tag(sync=True)
    display_name = traitlets.Unicode("").tag(sync=True)
    request_id = traitlets.Unicode("").tag(sync=True)
    inputs_summary: traitlets.List[Any] = traitlets.List().tag(sync=True)
    status = traitlets.Unicode("submitting").tag(sync=True)
    queue_position = traitlets.Int(None, allow_none=True).tag(sync=True)
    submitted_at = traitlets.Float(None, allow_none=True).tag(sync=True)
    started_at = traitlets.Float(None, allow_none=True).tag(sync=True)
    finished_at = traitlets.Float(None, allow_none=True).tag(sync=True)
    outputs: traitlets.List[Any] = traitlets.List().tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    cancellable = traitlets.Bool(False).tag(sync=True)
    cancel_note = traitlets.Unicode("").tag(sync=True)
    simulator = traitlets.Bool(False).tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    cost = traitlets.Float(None, allow_none=True).tag(sync=True)
    seed = traitlets.Int(None, allow_none=True).tag(sync=True)
    reused = traitlets.Bool(False).tag(sync=True)
    reused_from = traitlets.Unicode("").tag(sync=True)

    def __init__(self, job: Job, **kwargs: Any) -> None:
        labels = _labels(job.model_id, client_of(job))
        state = job_state(job, labels)
        state.pop("local_id")
        # The comm opens with the job's real state, not the traits' defaults.
        super().__init__(model_key=job.model_id, display_name=schemas.display_name(job.model_id),
                         simulator=job.simulator, **state, **kwargs)
        self.job = job  # the job this view shows (and cancels, saves); the job does not know its views
        self._labels = labels
        self.earlier: list[Job] = []  # the jobs this view showed before Run again, oldest first
        self._unlisten = job.on_change(self._on_job_change)
        _on_loop(lambda: self._sync(job))  # anything that changed while the comm was opening
        self.on_msg(self._on_front_end_message)

    def _sync(self, job: Job) -> None:
        state = job_state(job, self._labels)
        state.pop("local_id")
        with self.hold_sync():
            for key, value in state.items():
                if getattr(self, key) != value:
                    setattr(self, key, value)

    def _on_job_change(self, job: Job) -> None:
        self._sync(job)
        if job.status in TERMINAL:
            self._refresh_fallback()

    def _fallback_html(self) -> str:
        return static_copy([job_html(self.job, self._labels)], copy_id=self.copy_id)

    def _fallback_text(self) -> str:
        return status_line(self.job)

    def _on_front_end_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "cancel":
            self.job.cancel_in_background()
        elif kind == "save":
            spawn(self._save(), owner=self.job.transport)
        elif kind == "run_again":
            self.run_again()

    def run_again(self) -> Job | None:
        """Send this job's inputs again (fresh=True) and follow the new job here; None if it could not be sent."""
        try:
            job = run_fresh(self.job)
        except Exception as error:  # a budget refusal, no client any more: said on the card
            message = f"Run again failed: {error}"
            _on_loop(lambda: setattr(self, "notice", message))
            return None

        def follow() -> None:
            self._unlisten()
            self.earlier.append(self.job)
            self.job = job
            _views[job.local_id] = self
            self._unlisten = job.on_change(self._on_job_change)
            self.notice = ""
            self._sync(job)

        _on_loop(follow)
        self._refresh_fallback()
        return job

    async def _save(self) -> None:
        # The downloads block (Output.save), so they run in the loop's executor; the notice is written here.
        try:
            notice = await asyncio.get_running_loop().run_in_executor(None, _save_outputs, self.job)
        except Exception as error:
            notice = f"Save failed: {error}"
        self.notice = notice


def show(job: Job) -> JobView:
    """The job's JobView (made once), for display."""
    view = view_of(job)
    if view is None:
        view = _views[job.local_id] = JobView(job)
    return view


def view_of(job: Job) -> JobView | None:
    """The job's JobView if it was displayed (and is still open)."""
    view = _views.get(job.local_id)
    return view if view is not None and view.job is job else None


def shown_in_this_cell(job: Job) -> None:
    """Say that the current cell displayed `job` already: the cell's result then does not show it again."""
    _shown_in.mark(job)


def display_job(job: Job) -> None:
    """The live JobView plus its static copy (what `job` shows in a notebook); once per cell."""
    if not _shown_in.marked(job):  # else the magic already displayed it (or `;` hid it) in this very cell
        show(job)._ipython_display_()
