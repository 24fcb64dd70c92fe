"""`ModelForm` (`rc.form(model)`): a form generated from a model's schema, with the history of its runs.

Trait writes go through the loop thread like every widget's (runcomfy_nb.widgets); front-end messages name a run
by the job's local id. The traits and messages are the contract with js/form.js (docs/widgets.md).
"""

from __future__ import annotations

import copy
import html
from collections.abc import Callable
from typing import Any

import traitlets

from . import schemas
from ._client import Client, default_client
from ._job import TERMINAL, Job
from ._journal import default_journal
from ._loop import get_loop
from ._media import prepare_media
from ._outputs import output_from_dict
from ._render import run_tiles_html, static_copy
from .config import settings
from .errors import InputValidationError, brief
from .records import JobList
from .seeds import MODES, SeedControl
from .widgets import STATIC, ItemUpdates, _on_loop, _Persisted, job_state, run_fresh

# The saved copy (a whole grid, thumbnails embedded) is sent again at most this often while runs are going;
# at once when every run has ended, so the saved notebook has the final state.
COPY_EVERY_S = 2.0


class ModelForm(_Persisted):
    """A form generated from a model's schema; each submit adds a live run to its history (newest first).

    Works offline from the shipped schemas: without a token or a running simulator it still renders and
    validates, and says at submit time how to get either.

    Each seed field has a control after generate, like ComfyUI's: "fixed" (the default: the seed stays, and an
    identical run is reused, not paid again), "increment" or "randomize" after each submit. `seed_modes` holds
    them; `rc.form(model, seed=rc.seed_control("increment", 100))` sets one from Python.
    """

    _bundle_esm = STATIC / "form.js"
    _bundle_css = STATIC / "widgets.css"

    # not `model_id`: ipywidgets.Widget.model_id is the comm id that views point at
    model_key = traitlets.Unicode("").tag(sync=True)
    display_name = traitlets.Unicode("").tag(sync=True)
    simulator = traitlets.Bool(False).tag(sync=True)
    fields: traitlets.List[Any] = traitlets.List().tag(sync=True)
    values = traitlets.Dict().tag(sync=True)
    errors = traitlets.Dict().tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    history: traitlets.List[Any] = traitlets.List().tag(sync=True)
    seed_modes = traitlets.Dict().tag(sync=True)  # seed field -> "fixed" | "increment" | "randomize"
    earlier: traitlets.List[Any] = traitlets.List().tag(sync=True)  # this model's journal rows (gallery items)

    def __init__(self, model_id: str, client: Client | None = None, **initial: Any) -> None:
        from .errors import ConfigError

        self._client = client
        if client is None:
            try:
                self._client = default_client()
            except ConfigError:  # no token, no simulator: the form still works from the shipped schema
                self._client = None
        raw = self._client.schema(model_id) if self._client else schemas.shipped_schema(model_id)
        if raw is None:
            known = [m["model_id"] for m in (self._client.models() if self._client else schemas.shipped_models())]
            raise schemas.unknown_model_error(model_id, known)
        self._raw = raw
        fields = schemas.describe_fields(raw)
        # Only real defaults fill the form; a required field's example is a placeholder (describe_fields).
        self._defaults = {f["key"]: copy.deepcopy(f["default"]) for f in fields if "default" in f}
        entry = schemas.shipped_entry(model_id)
        name = self._client.display_name(model_id) if self._client else (entry or {}).get("display_name", model_id)
        modes = {f["key"]: "fixed" for f in fields if f.get("kind") == "seed"}
        for key, value in list(initial.items()):
            if isinstance(value, SeedControl) and key in modes:  # rc.seed_control(mode, value) for a seed field
                modes[key], initial[key] = value.mode, value.value
        super().__init__(model_key=model_id, display_name=name, simulator=bool(self._client and self._client.simulator),
                         fields=fields, values={**self._defaults, **initial}, seed_modes=modes)
        self.jobs: list[Job] = []  # newest first; changed on the loop thread
        self._rendered: dict[str, dict[str, Any]] = {}  # local_id -> its history entry, kept until the run changes
        self._items = ItemUpdates(self, "history")
        self._tiles: dict[str, Any] = {}  # local_id -> what its tile in the saved copy shows
        self._copy_timer: Any = None
        self._copy_at = float("-inf")  # loop time of the last refresh of the saved copy
        self._labels = {f["key"]: f["label"] for f in fields}
        self.observe(self._validate, names="values")
        self._validate()
        self.on_msg(self._on_front_end_message)
        self._earlier_rows = earlier_runs(model_id)
        self.earlier = self._earlier_rows.gallery_items()

    def __repr__(self) -> str:
        return f"<ModelForm {self.model_key} runs={len(self.jobs)}>"

    @property
    def client(self) -> Client:
        """The client this form submits with (the default one, looked up again if there was none)."""
        if self._client is None:
            self._client = default_client()  # raises ConfigError saying how to get a token or the simulator
            simulator = self._client.simulator
            _on_loop(lambda: setattr(self, "simulator", simulator))
        return self._client

    @property
    def last(self) -> Job | None:
        """The most recent run."""
        return self.jobs[0] if self.jobs else None

    @traitlets.validate("values")
    def _local_media(self, proposal: dict[str, Any]) -> dict[str, Any]:
        """A local file, bytes or PIL image given for a media field becomes a data: URI the form can preview."""
        values = dict(proposal["value"])
        for key, kind in schemas.media_fields(self._raw).items():
            value = values.get(key)
            if value is None or (isinstance(value, str) and (value == "" or "://" in value or value.startswith("data:"))):
                continue
            try:
                values[key] = prepare_media({key: kind}, {key: value}, {})[key]
            except Exception:  # shown as the field's error by _validate; keep what JSON can carry
                values[key] = value if isinstance(value, str) else None
        return values

    @traitlets.validate("seed_modes")
    def _known_modes(self, proposal: dict[str, Any]) -> dict[str, str]:
        seed_keys = {f["key"] for f in self.fields if f.get("kind") == "seed"}
        for key, mode in proposal["value"].items():
            if key not in seed_keys or mode not in MODES:
                raise traitlets.TraitError(f"seed_modes: {key!r} must be one of the model's seed fields "
                                           f"{sorted(seed_keys)} with a mode in {list(MODES)}; got {mode!r}")
        return dict(proposal["value"])

    def _clean_values(self) -> dict[str, Any]:
        return {k: v for k, v in self.values.items() if v is not None and v != ""}

    def problems(self) -> dict[str, str]:
        """field -> message for every problem with the current values ({} when they can be submitted)."""
        values = self._clean_values()
        errors: dict[str, str] = {}
        for field in self.fields:
            if field["required"] and field["key"] not in values:
                example = f" (e.g. {brief(field['example'], 60)})" if "example" in field else ""
                errors[field["key"]] = f"{field['key']}: required — fill this in{example}"
        full = schemas.apply_defaults(self._raw, values)
        media = schemas.media_fields(self._raw)
        for key, kind in media.items():
            if full.get(key) is None or key in errors:
                continue
            try:
                full.update(prepare_media({key: kind}, {key: full[key]}, {key: self._defaults.get(key)}))
            except InputValidationError as error:
                errors[key] = str(error)
        for problem in schemas.check_inputs(self._raw, full):
            errors.setdefault(problem.field or "_form", str(problem))
        return errors

    def _validate(self, _change: Any = None) -> None:
        errors = self.problems()
        _on_loop(lambda: setattr(self, "errors", errors))

    def submit(self) -> Job | None:
        """Submit the current values (what the Submit button does); None if they are invalid or cannot be sent."""
        self._validate()
        if self.errors:
            return None
        values = self._clean_values()
        controls = {key: control for key, mode in self.seed_modes.items()
                    if mode != "fixed" and (control := _control(mode, values.get(key))) is not None}
        for key, control in controls.items():
            values[key] = control.take()  # an empty seed gets a random one here: the seed sent is always known
        return self._start_run(lambda: self.client.start(self.model_key, values), {k: c.value for k, c in controls.items()})

    def run_again(self, which: str | Job) -> Job | None:
        """Send a past run's inputs again, fresh (never reused); the new run goes on top of the history."""
        job = which if isinstance(which, Job) else self.run(which)
        return None if job is None else self._start_run(lambda: run_fresh(job), {})

    def _start_run(self, start: Callable[[], Job], next_seeds: dict[str, int]) -> Job | None:
        _on_loop(lambda: setattr(self, "busy", True))
        try:
            job: Job = start()
        except Exception as error:
            message = str(error)
            _on_loop(lambda: setattr(self, "errors", {**self.errors, "_form": message}))
            _on_loop(lambda: setattr(self, "busy", False))
            return None
        # Busy until the API has the job (or refused it): a second click meanwhile would pay twice.
        job._accepted.add_done_callback(lambda _f: _on_loop(lambda: setattr(self, "busy", False)))

        def add() -> None:
            self.jobs.insert(0, job)
            job.on_change(self._refresh_history)
            if next_seeds:  # control after generate: the next seed shows in the form
                self.values = {**self.values, **next_seeds}
            self._refresh_history(job)

        _on_loop(add)
        return job

    def _refresh_history(self, changed: Job) -> None:  # on the loop thread
        # Only the run that changed is rendered again, and sent alone (ItemUpdates); a new run sends the list.
        state = job_state(changed, self._labels)
        index = next((i for i, job in enumerate(self.jobs) if job is changed), None)
        if index is None or ItemUpdates.same(self._rendered.get(changed.local_id), state):
            return
        entry = self._rendered[changed.local_id] = self._items.stamp(state)
        history = self.history
        if len(history) == len(self.jobs) and history[index].get("local_id") == changed.local_id:
            self._items.replace(index, entry)
        else:
            self.history = [self._rendered[job.local_id] for job in self.jobs]
        self._copy_soon(changed)

    def _copy_soon(self, changed: Job) -> None:  # on the loop thread
        """Refresh the saved copy when a tile in it changed: at most every COPY_EVERY_S, at once when all ended."""
        outputs = changed.outputs
        tile = (changed.status, changed.request_id, changed.cost, changed.reused, changed.error, len(outputs),
                outputs[0].to_dict() if outputs else None)
        if self._tiles.get(changed.local_id) == tile:
            return  # e.g. a queue position: the copy does not show it
        self._tiles[changed.local_id] = tile
        loop = get_loop()
        if all(job.status in TERMINAL for job in self.jobs):
            wait = 0.0
        elif self._copy_timer is not None:
            return  # the refresh already planned will show this change too
        else:
            wait = max(0.0, self._copy_at + COPY_EVERY_S - loop.time())
        if self._copy_timer is not None:
            self._copy_timer.cancel()
        self._copy_timer = loop.call_later(wait, self._copy_now)

    def _copy_now(self) -> None:
        self._copy_timer, self._copy_at = None, get_loop().time()
        self._refresh_fallback()

    def run(self, local_id: str) -> Job | None:
        """The run in this form's history with that local id (what the front end's messages name)."""
        return next((job for job in self.jobs if job.local_id == local_id), None)

    def load(self, which: int | str | Job) -> None:
        """Put a past run's inputs back into the form (the run, its local id, or its index, 0 = newest)."""
        job = which if isinstance(which, Job) else self.run(which) if isinstance(which, str) else self.jobs[which]
        if job is None:
            return
        values = {**self._defaults, **copy.deepcopy(job.inputs)}
        _on_loop(lambda: setattr(self, "values", values))

    def use_as_input(self, which: str | Job, output_index: int = 0) -> None:
        """Put one of a run's results (its URL) into this form's first image field, to edit or animate it."""
        job = which if isinstance(which, Job) else self.run(which)
        images = [key for key, kind in schemas.media_fields(self._raw).items() if kind == "image"]
        if job is None or not job.outputs or not images:
            return
        output = job.outputs[min(max(int(output_index), 0), len(job.outputs) - 1)]
        values = {**self.values, images[0]: output.url}
        _on_loop(lambda: setattr(self, "values", values))

    def reset(self) -> None:
        """Back to the model's defaults (examples stay placeholders)."""
        values = dict(self._defaults)
        _on_loop(lambda: setattr(self, "values", values))

    def _on_front_end_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "submit":
            if not self.busy:  # a double click: the first submit is still on its way
                self.submit()
        elif kind == "reset":
            self.reset()
        elif isinstance(kind, str) and kind.startswith("earlier_"):
            self._earlier_action(kind.removeprefix("earlier_"), content)
        elif kind in ("load", "cancel", "run_again", "use_as_input"):
            job = self._named_run(content)
            if job is not None and kind == "use_as_input":
                index = content.get("output_index")
                self.use_as_input(job, index if isinstance(index, int) else 0)
            elif job is not None and kind == "load":
                self.load(job)
            elif job is not None and kind == "run_again":
                self.run_again(job)
            elif job is not None:
                job.cancel_in_background()

    def _named_run(self, content: dict[str, Any]) -> Job | None:
        """The run a message names: by local_id (stable, known while submitting); older front ends sent a
        request_id (cancel) or a list index (load)."""
        if isinstance(content.get("local_id"), str):
            return self.run(content["local_id"])
        jobs = list(self.jobs)
        if content.get("request_id"):
            return next((job for job in jobs if job.request_id == content["request_id"]), None)
        index = content.get("index")
        return jobs[index] if isinstance(index, int) and 0 <= index < len(jobs) else None

    def _earlier_action(self, kind: str, content: dict[str, Any]) -> None:
        """An earlier run's button: load its inputs here, run them again, or save its results."""
        row = next((r for r in self._earlier_rows if r.get("local_id") == content.get("local_id")), None)
        if row is None:
            return
        values = {**self._defaults, **JobList([row]).gallery_items()[0]["inputs"]}
        if kind in ("load", "run_again"):
            _on_loop(lambda: setattr(self, "values", values))
        if kind == "run_again":
            self.submit()
        elif kind == "save":
            for item in row.get("outputs") or []:
                output = output_from_dict(item, row.get("request_id") or "")
                if not (output.saved_path and output.saved_path.is_file()):
                    output.save(settings.save_dir)

    def _fallback_text(self) -> str:
        runs = len(self.jobs)
        return f"runcomfy form for {self.model_key}: {runs} run{'s' if runs != 1 else ''}"

    def _fallback_html(self) -> str:
        """The saved copy: the runs as the same compact grid as the live form, with embedded thumbnails."""
        jobs = list(self.jobs)
        if not jobs:
            return static_copy([], empty=f"runcomfy form for {self.model_key}: no runs yet", copy_id=self.copy_id)
        counts: dict[str, int] = {}
        for job in jobs:
            counts[job.status.replace("_", " ")] = counts.get(job.status.replace("_", " "), 0) + 1
        tally = ", ".join(f"{n} {status}" for status, n in counts.items())
        title = (f"<div style='font:12px sans-serif;color:#57606a;margin:2px 0'>runcomfy form for "
                 f"{html.escape(self.model_key)}: {len(jobs)} run{'s' if len(jobs) != 1 else ''} "
                 f"({html.escape(tally)})</div>")
        return static_copy([title + run_tiles_html(jobs)], copy_id=self.copy_id)


def earlier_runs(model_id: str, limit: int = 24) -> JobList:
    """This model's latest runs from the journal (any form, cell or kernel), newest first; none if unreadable."""
    try:
        return JobList(default_journal().list(limit=limit, model_id=model_id))
    except Exception:  # a broken journal must not break the form
        return JobList()


def _control(mode: str, value: Any) -> SeedControl | None:
    """The seed control for a submit; None for a value it cannot step (sent as it is, like "fixed")."""
    try:
        return SeedControl(mode, value)
    except ValueError:
        return None


def form(model_id: str, client: Client | None = None, **initial: Any) -> ModelForm:
    """A form generated from the model's schema; each submit adds a live run to its history."""
    return ModelForm(model_id, client=client, **initial)
