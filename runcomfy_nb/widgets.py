"""anywidget front ends: `JobView` (one live job) and `ModelForm` (a schema-generated form with its history).

No HTTP here: widgets read Jobs and call the public API. Trait writes for job state happen on the loop thread
(job listeners); front-end messages are handed to the loop or a worker thread, never handled by blocking.
The traits and messages are the contract with js/ (docs/widgets.md).
"""

from __future__ import annotations

import contextvars
import copy
import functools
import threading
from pathlib import Path
from typing import Any

import anywidget
import traitlets
from IPython.display import HTML, DisplayHandle, display

from . import schemas
from .api import Client, default_client
from .config import settings
from .job import TERMINAL, Job
from .render import inputs_summary, job_html, static_copy

STATIC = Path(__file__).parent / "static"


def _ms(seconds: float | None) -> float | None:
    return seconds * 1000.0 if seconds else None


def _labels(model_id: str, client: Client) -> dict[str, str]:
    raw = client.schema(model_id) or {}
    return {f["key"]: f["label"] for f in schemas.describe_fields(raw)} if raw else {}


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
    }


def _save_outputs(job: Job) -> str:
    if not job.outputs:
        return "Nothing to save yet."
    paths = [output.save(settings.save_dir) for output in job.outputs]
    return f"Saved {len(paths)} file{'s' if len(paths) != 1 else ''} to {paths[0].parent}"


class _Persisted(anywidget.AnyWidget):
    """Displays itself plus a static text/html copy (display_id) that stays in the saved notebook.

    Every display of one widget (`job` shown in two cells) shares one display_id, so one update refreshes every
    copy: with a handle per display, the copies made before the last one stayed at the state they were shown in
    ("in queue" for ever in the saved notebook).
    """

    _fallback_handle: Any = None

    def _fallback_html(self) -> str:
        raise NotImplementedError

    def _ipython_display_(self) -> None:
        bundle = self._repr_mimebundle_()  # not display(self): that would come back here
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        # Where widgets are not rendered (an untrusted notebook, GitHub, a text front end) the text/plain of the
        # view is shown instead: ipywidgets' "<runcomfy_nb.widgets.JobView object at 0x…>" was noise next to the
        # static copy that follows, which says it all.
        data = {**(data or {}), "text/plain": ""}
        display(data, metadata=metadata, raw=True)
        if self._fallback_handle is None:
            self._fallback_handle = DisplayHandle()
        self._fallback_handle.display(HTML(self._fallback_html()))

    def _refresh_fallback(self) -> None:
        if self._fallback_handle is None:
            return
        # Background tasks carry the context of the cell that started them, so ipykernel would send the update
        # as a message of that (long finished) cell, which nbclient/nbconvert ignore. In an empty context it goes
        # out under the kernel's current parent; JupyterLab routes display updates by display_id either way.
        update = functools.partial(self._fallback_handle.update, HTML(self._fallback_html()))
        contextvars.Context().run(update)


class JobView(_Persisted):
    _esm = STATIC / "jobview.js"
    _css = STATIC / "widgets.css"

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

    def __init__(self, job: Job, **kwargs: Any) -> None:
        labels = _labels(job.model_id, job.client)
        state = job_state(job, labels)
        state.pop("local_id")
        # The comm opens with the job's real state, not the traits' defaults.
        super().__init__(model_key=job.model_id, display_name=job.client.display_name(job.model_id),
                         simulator=job.simulator, **state, **kwargs)
        self.job = job
        self._labels = labels
        job.on_change(self._on_job_change)
        self._sync(job)  # anything that changed while the comm was opening
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
        return static_copy([job_html(self.job, self._labels)])

    def _on_front_end_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "cancel":
            self.job.cancel_in_background()
        elif kind == "save":
            threading.Thread(target=self._save, daemon=True).start()

    def _save(self) -> None:
        try:
            self.notice = _save_outputs(self.job)
        except Exception as error:
            self.notice = f"Save failed: {error}"


class ModelForm(_Persisted):
    _esm = STATIC / "form.js"
    _css = STATIC / "widgets.css"

    # not `model_id`: ipywidgets.Widget.model_id is the comm id that views point at
    model_key = traitlets.Unicode("").tag(sync=True)
    display_name = traitlets.Unicode("").tag(sync=True)
    simulator = traitlets.Bool(False).tag(sync=True)
    fields: traitlets.List[Any] = traitlets.List().tag(sync=True)
    values = traitlets.Dict().tag(sync=True)
    errors = traitlets.Dict().tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    history: traitlets.List[Any] = traitlets.List().tag(sync=True)

    def __init__(self, model_id: str, client: Client | None = None, **initial: Any) -> None:
        self.client = client or default_client()
        raw = self.client.schema(model_id)
        fields = schemas.describe_fields(raw) if raw else []
        self._defaults = schemas.apply_defaults(raw, {}) if raw else {}
        super().__init__(model_key=model_id, display_name=self.client.display_name(model_id),
                         simulator=self.client.simulator, fields=fields)
        self.jobs: list[Job] = []
        self._labels = {f["key"]: f["label"] for f in fields}
        self._lock = threading.Lock()
        self.observe(self._validate, names="values")
        self.values = {**self._defaults, **initial}
        self.on_msg(self._on_front_end_message)

    def __repr__(self) -> str:
        return f"<ModelForm {self.model_key} runs={len(self.jobs)}>"

    @property
    def last(self) -> Job | None:
        """The most recent run."""
        return self.jobs[0] if self.jobs else None

    def _clean_values(self) -> dict[str, Any]:
        return {k: v for k, v in self.values.items() if v is not None and v != ""
                or k in {f["key"] for f in self.fields if f.get("required")}}

    def _validate(self, _change: Any = None) -> None:
        self.errors = self.client.field_errors(self.model_key, self._clean_values())

    def submit(self) -> Job | None:
        """Submit the current values (what the Submit button does); None if they are invalid."""
        self._validate()
        if self.errors:
            return None
        self.busy = True
        try:
            job = self.client.start(self.model_key, self._clean_values())
        except Exception as error:
            self.errors = {**self.errors, "_form": str(error)}
            return None
        finally:
            self.busy = False
        with self._lock:
            self.jobs.insert(0, job)
        job.on_change(lambda _job: self._refresh_history())
        self._refresh_history()
        return job

    def _refresh_history(self) -> None:
        with self._lock:
            history = [job_state(job, self._labels) for job in self.jobs]
        self.history = history
        self._refresh_fallback()

    def load(self, index: int) -> None:
        """Put a past run's inputs back into the form."""
        self.values = {**self._defaults, **copy.deepcopy(self.jobs[index].inputs)}

    def reset(self) -> None:
        self.values = dict(self._defaults)

    def _on_front_end_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "submit":
            self.submit()
        elif kind == "reset":
            self.reset()
        elif kind == "load" and isinstance(content.get("index"), int) and 0 <= content["index"] < len(self.jobs):
            self.load(content["index"])
        elif kind == "cancel":
            for job in self.jobs:
                if job.request_id == content.get("request_id"):
                    job.cancel_in_background()

    def _fallback_html(self) -> str:
        with self._lock:
            cards = [job_html(job, self._labels) for job in self.jobs]
        return static_copy(cards, empty=f"runcomfy form for {self.model_key}: no runs yet")


def form(model_id: str, client: Client | None = None, **initial: Any) -> ModelForm:
    """A form generated from the model's schema; each submit adds a live run to its history."""
    return ModelForm(model_id, client=client, **initial)


def show(job: Job) -> JobView:
    """The job's JobView (made once), for display."""
    if job.view is None:
        job.view = JobView(job)
    return job.view
