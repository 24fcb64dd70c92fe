"""`SweepView` (the live labelled grid of a sweep), `CompareView` / `rc.compare()`, and their static HTML copies.

Traits are the contract with js/sweepview.js and js/compare.js. Cell state is written on the loop thread (sweep
listeners), coalesced so a 12-cell sweep sends a handful of messages per job. Front-end commands arrive on the
kernel's thread; anything slow goes to the loop or a worker thread. Forms opened from the grid ("Load into
form", "Use as input") and jobs from "Run again" appear in an Output area under the grid.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import io
import threading
from pathlib import Path
from typing import Any

import traitlets
from IPython.display import display

from . import schemas
from ._cell_display import ShownInCell, ViewWithCopy
from ._outputs import is_safe_url
from .config import settings
from .seeds import seed_of
from .sweeps import TERMINAL, Cell, Sweep, differing
from .widgets import ItemUpdates

STATIC = Path(__file__).parent / "static"
THUMB_PX = 160  # the static copy embeds thumbnails this big (result URLs expire within hours)
# Same trick as the JobView's static copy (runcomfy_nb._render): hidden while the live widget renders, shown when
# it cannot. A grid's copy comes two outputs after the grid, past the Output area for the forms its buttons open.
_STATIC = "> .jp-OutputArea-output > .rcnb-static"
_SWEEP_STATIC = "+ .jp-OutputArea-child + .jp-OutputArea-child > .jp-OutputArea-output > .rcnb-sweep-static"
_STYLE = (f"<style>.jp-OutputArea-child:has(.rcnb-root) + .jp-OutputArea-child:has({_STATIC}){{display:none}}"
          f".jp-OutputArea-child:has(+ .jp-OutputArea-child {_STATIC}):not(:has(.rcnb-root)){{display:none}}"
          f".jp-OutputArea-child:has(.rcnb-sweep) + .jp-OutputArea-child + .jp-OutputArea-child:has({_STATIC})"
          f"{{display:none}}.jp-OutputArea-child:has({_SWEEP_STATIC}):not(:has(.rcnb-root)){{display:none}}</style>")


def _ms(seconds: float | None) -> float | None:
    return seconds * 1000.0 if seconds else None


def _text(value: Any, limit: int = 400) -> str:
    if isinstance(value, str) and value.startswith("data:"):
        return f"<inline {value[5:].split(';')[0].split(',')[0]}, {len(value) * 3 // 4 // 1024} KiB>"
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _labels(client: Any, model_id: str) -> dict[str, str]:
    raw = client.schema(model_id) or {}
    return {f["key"]: f["label"] for f in schemas.describe_fields(raw)} if raw else {}


def _when(timestamp: float | None) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else "earlier"


def cell_state(cell: Cell, labels: dict[str, str]) -> dict[str, Any]:
    """The JSON the grid renders for one cell."""
    job = cell.job
    return {
        "index": cell.index,
        "status": cell.status,
        "request_id": cell.request_id or "",
        "submitted_at": _ms(job.submitted_at or job.created_at) if job is not None else None,
        "started_at": _ms(job.started_at) if job is not None else None,
        "finished_at": _ms(job.finished_at) if job is not None else None,
        "outputs": [o.to_dict() for o in cell.outputs],
        "error": (job.error or "") if job is not None else cell.error,
        "cancellable": bool(job is not None and job.cancellable),
        "cost": cell.cost,
        "seed": seed_of(job) if job is not None else seed_of(cell),
        "reused": bool(getattr(job, "reused", False)),
        "reused_from": _when(getattr(job, "reused_from", None)) if getattr(job, "reused", False) else "",
    }


def cell_inputs(cell: Cell, common: set[str], labels: dict[str, str]) -> list[dict[str, str]]:
    """The inputs of one cell that are not common to all (sent once: they do not change while it runs)."""
    inputs = cell.job.inputs if cell.job is not None else cell.prepared
    return [{"label": labels.get(k, k), "value": _text(v)} for k, v in inputs.items() if k not in common]


def axes_state(sweep: Sweep, labels: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for name, values in sweep.axes.items():
        texts = [_text(v, 2000) for v in values]
        out.append({"name": name, "label": labels.get(name, name), "values": texts,
                    "parts": [list(p) for p in differing(texts)] if all(isinstance(v, str) for v in values) else []})
    return out


def input_targets(client: Any) -> list[dict[str, str]]:
    """Models with an image input, for "Use as input" (model_id, display name, the field it fills)."""
    targets = []
    for entry in client.models():
        model_id = entry.get("model_id")
        raw = client.schema(model_id) if isinstance(model_id, str) else None
        fields = [k for k, kind in schemas.media_fields(raw).items() if kind == "image"] if raw else []
        if fields:
            targets.append({"model_id": model_id, "display_name": entry.get("display_name") or model_id,
                            "field": fields[0]})
    return targets


class SweepView(ViewWithCopy):
    """The live grid of a `Sweep`: axis headers, common inputs once, one compact card per job."""

    _bundle_esm = STATIC / "sweepview.js"
    _bundle_css = STATIC / "widgets.css"

    model_key = traitlets.Unicode("").tag(sync=True)
    display_name = traitlets.Unicode("").tag(sync=True)
    simulator = traitlets.Bool(False).tag(sync=True)
    axes: traitlets.List[Any] = traitlets.List().tag(sync=True)
    common: traitlets.List[Any] = traitlets.List().tag(sync=True)
    cells: traitlets.List[Any] = traitlets.List().tag(sync=True)
    counts = traitlets.Dict().tag(sync=True)
    cost = traitlets.Float(None, allow_none=True).tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    targets: traitlets.List[Any] = traitlets.List().tag(sync=True)
    cell_inputs: traitlets.List[Any] = traitlets.List().tag(sync=True)  # per cell, the inputs not in `common`

    def __init__(self, sweep: Sweep, **kwargs: Any) -> None:
        labels = _labels(sweep.client, sweep.model_id)
        common = {k: v for k, v in (sweep.cells[0].prepared if sweep.cells else sweep.common).items()
                  if k not in sweep.axes}
        super().__init__(model_key=sweep.model_id, display_name=sweep.client.display_name(sweep.model_id),
                         simulator=sweep.client.simulator, axes=axes_state(sweep, labels),
                         common=[{"label": labels.get(k, k), "value": _text(v)} for k, v in common.items()],
                         targets=input_targets(sweep.client),
                         cell_inputs=[cell_inputs(c, set(common), labels) for c in sweep.cells],
                         **self._state(sweep, labels), **kwargs)
        self.sweep = sweep
        self._labels = labels
        self._items = ItemUpdates(self, "cells")
        self._dirty: set[int] = set()  # cells whose job changed since the last sync
        self._seen: dict[int, tuple[Any, str, str]] = {}  # index -> (its job, local status, error) at the last sync
        self._scheduled = False
        self._lock = threading.Lock()
        try:
            import ipywidgets

            self.panel = ipywidgets.Output()
        except Exception:  # no ipywidgets front end: the buttons still work, their results go to the log
            self.panel = None
        sweep.on_change(self._on_sweep_change)
        self.on_msg(self._on_front_end_message)
        self._sync()

    @staticmethod
    def _state(sweep: Sweep, labels: dict[str, str]) -> dict[str, Any]:
        return {"cells": [cell_state(c, labels) for c in sweep.cells], "counts": sweep.counts(), "cost": sweep.cost}

    def _sync(self) -> None:
        with self._lock:
            self._scheduled = False
            dirty, self._dirty = self._dirty, set()
        cells, sent = self.sweep.cells, self.cells
        for cell in cells:  # a cell's own changes (sent, refused, cancelled unsent); its job's mark it (_mark)
            seen = self._seen.get(cell.index)
            if seen is None or seen[0] is not cell.job or seen[1:] != (cell.local_status, cell.error):
                if cell.job is not None and (seen is None or seen[0] is not cell.job):
                    cell.job.on_change(functools.partial(self._mark, cell.index))
                self._seen[cell.index] = (cell.job, cell.local_status, cell.error)
                dirty.add(cell.index)
        whole = len(sent) != len(cells)
        # only the cells marked are rendered again (a change costs one cell, not the grid)
        states = {i: cell_state(cells[i], self._labels) for i in (range(len(cells)) if whole else sorted(dirty))}
        changed = [i for i, state in states.items() if whole or not ItemUpdates.same(sent[i], state)]
        with self.hold_sync():
            for key, value in {"counts": self.sweep.counts(), "cost": self.sweep.cost}.items():
                if getattr(self, key) != value:
                    setattr(self, key, value)
            if whole or len(changed) > len(cells) // 2:  # most of the grid at once (Cancel all, a 429)
                stamped = {i: self._items.stamp(states[i]) for i in changed}
                self.cells = [stamped[i] if i in stamped else sent[i] for i in range(len(cells))]
                return
        for i in changed:  # the usual case: one cell, sent alone
            self._items.replace(i, self._items.stamp(states[i]))

    def _mark(self, index: int, _job: Any) -> None:  # a cell's job changed (loop thread): render that cell again
        with self._lock:
            self._dirty.add(index)

    def _on_sweep_change(self, sweep: Sweep) -> None:
        # Several cells change in one loop iteration (a 429, Cancel all): send one update for all of them.
        with self._lock:
            if self._scheduled:
                return
            self._scheduled = True
        from ._loop import get_loop

        get_loop().call_soon(self._after_change)

    def _after_change(self) -> None:
        self._sync()
        if self.sweep.done():
            threading.Thread(target=self._refresh_with_thumbnails, daemon=True).start()  # downloads: off the loop

    def _fallback_text(self) -> str:
        return repr(self.sweep)

    def _fallback_html(self) -> str:
        # Thumbnails only once the sweep ended, and then off the kernel's thread (see _after_change).
        return sweep_html(self.sweep, self._labels, thumbnails=self._thumbnails)

    _thumbnails = False

    def _ipython_display_(self) -> None:
        super()._ipython_display_()
        if self.sweep.done():  # e.g. every cell reused: embed the thumbnails now, in the background
            threading.Thread(target=self._refresh_with_thumbnails, daemon=True).start()

    def _refresh_with_thumbnails(self) -> None:
        self._thumbnails = True
        self._refresh_fallback()

    # --- commands from the grid ----------------------------------------------------------------------------

    def _on_front_end_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        index = content.get("index") if isinstance(content, dict) else None
        cell = self.sweep.cells[index] if isinstance(index, int) and 0 <= index < len(self.sweep.cells) else None
        if kind == "cancel_all":
            self.sweep.cancel_in_background()
        elif kind == "save_all":
            threading.Thread(target=self._save_all, daemon=True).start()
        elif kind == "cancel" and cell is not None:
            self.sweep.cancel_cell_in_background(cell.index)
        elif kind == "run_again" and cell is not None:
            self.sweep.run_again(cell.index)
        elif kind == "load_into_form" and cell is not None:
            self._open_form(self.sweep.model_id, dict(cell.job.inputs if cell.job else cell.prepared))
        elif kind == "use_as_input" and cell is not None and cell.outputs:
            target = next((t for t in self.targets if t["model_id"] == content.get("model")), None)
            if target is not None:
                self._open_form(target["model_id"], {target["field"]: cell.outputs[0].url})

    def _open_form(self, model_id: str, values: dict[str, Any]) -> None:
        from .modelform import form

        made = form(model_id, self.sweep.client, **values)
        if self.panel is not None:
            self.panel.clear_output()
            with self.panel:  # this handler runs on the kernel's thread, not in background work
                display(made)
        self.last_form = made

    def _save_all(self) -> None:
        try:
            paths = self.sweep.save(settings.save_dir)
            self.notice = f"Saved {len(paths)} file{'s' if len(paths) != 1 else ''} to {settings.save_dir}"
        except Exception as error:
            self.notice = f"Save failed: {error}"


def show(sweep: Sweep) -> SweepView:
    """Display the sweep's grid (one view per sweep; showing it again shows the same view)."""
    if sweep.view is None:
        sweep.view = SweepView(sweep)
    sweep.view._ipython_display_()
    return sweep.view


_shown_in = ShownInCell()


def shown_in_this_cell(sweep: Sweep) -> None:
    """Say that the current cell displayed `sweep` already (the sweep magic): the cell's result is not shown again."""
    _shown_in.mark(sweep)


def display_sweep(sweep: Sweep) -> None:
    """The live grid plus its static copy (what `sweep` shows in a notebook); once per cell."""
    if not _shown_in.marked(sweep):  # else the magic already displayed it in this very cell
        show(sweep)


# --- compare -----------------------------------------------------------------------------------------------


def _compare_item(thing: Any, position: int) -> dict[str, Any]:
    from ._outputs import Output

    if isinstance(thing, Output):
        return {"title": thing.name, "url": thing.url, "kind": thing.kind, "inputs": []}
    outputs = getattr(thing, "outputs", None)
    inputs = getattr(thing, "inputs", None)
    if outputs is None or inputs is None:
        raise TypeError(f"compare: item {position + 1} must be a Job, a sweep cell or an Output; got "
                        f"{type(thing).__name__}")
    first = outputs[0] if outputs else None
    title = getattr(thing, "request_id", None) or f"#{position + 1}"
    return {"title": str(title), "url": first.url if first else "", "kind": first.kind if first else "",
            "inputs": [{"label": k, "value": _text(v)} for k, v in inputs.items()]}


class CompareView(ViewWithCopy):
    """2-4 results side by side with only the differing inputs; a before/after slider for two images."""

    _bundle_esm = STATIC / "compare.js"
    _bundle_css = STATIC / "widgets.css"
    items: traitlets.List[Any] = traitlets.List().tag(sync=True)

    def _fallback_text(self) -> str:
        return "compare: " + " | ".join(str(i["title"]) for i in self.items)

    def _fallback_html(self) -> str:
        cards = "".join(
            f"<figure style='margin:0;flex:1 1 0'>{_media_html(i['url'], i['kind'], i['title'])}"
            f"<figcaption>{html.escape(i['title'])}</figcaption></figure>" for i in self.items)
        return f"{_STYLE}<div class='rcnb-static' style='display:flex;gap:8px'>{cards}</div>"


def compare(*things: Any) -> CompareView:
    """Show 2-4 jobs (or sweep cells, or outputs) side by side; only the inputs that differ are listed."""
    if not 2 <= len(things) <= 4:
        raise ValueError(f"compare: give 2 to 4 jobs or outputs; got {len(things)}")
    return CompareView(items=[_compare_item(t, i) for i, t in enumerate(things)])


# --- the static copy ---------------------------------------------------------------------------------------


def _media_html(url: str, kind: str, alt: str, thumb: str | None = None) -> str:
    if thumb is None and kind == "video" and is_safe_url(url):
        return f"<video src='{html.escape(url, quote=True)}' controls preload='metadata' style='width:100%'></video>"
    src = thumb or (url if is_safe_url(url) and kind == "image" else None)
    if src is None:
        return "<div style='color:#57606a'>no preview</div>"
    img = f"<img src='{html.escape(src, quote=True)}' alt='{html.escape(alt, quote=True)}' style='width:100%'>"
    if is_safe_url(url):
        return f"<a href='{html.escape(url, quote=True)}' target='_blank' rel='noopener'>{img}</a>"
    return img


def _first_frame(data: bytes) -> Any:
    import av  # only for video posters

    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(video=0):
            return frame.to_image()
    raise ValueError("no video frame")


def thumbnail(output: Any) -> str | None:
    """A small JPEG data: URI of an image output, or of a video's first frame (the poster), from the local copy
    or the URL; None when it cannot be read (expired): the link still goes in."""
    kind = getattr(output, "kind", "")
    if kind not in ("image", "video"):
        return None
    try:
        from PIL import Image

        data = output.read()
        image = _first_frame(data) if kind == "video" else Image.open(io.BytesIO(data))
        with image:
            image.thumbnail((THUMB_PX, THUMB_PX))
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=70)
        return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    except Exception:
        return None


def _differing_label(value: str, parts: tuple[str, str, str], limit: int = 80) -> str:
    prefix, middle, suffix = parts
    if len(value) <= limit:
        return value
    if len(middle) > limit:
        keep = (limit - 1) // 2
        middle = f"{middle[:keep]}…{middle[-keep:]}"
    return f"{'…' if prefix else ''}{middle}{'…' if suffix else ''}"


def sweep_html(sweep: Sweep, labels: dict[str, str] | None = None, *, thumbnails: bool = True) -> str:
    """The grid as static HTML: headers, statuses, costs and small embedded thumbnails."""
    labels = labels or {}
    esc = functools.partial(html.escape, quote=True)
    axes = list(sweep.axes.items())
    cols = len(axes[-1][1]) if axes else 1
    counts = sweep.counts()
    done = sum(1 for c in sweep.cells if c.status in TERMINAL)
    cost = f" · ${sweep.cost:.2f}" if sweep.cost is not None else ""
    head = (f"<div><b>{esc(sweep.client.display_name(sweep.model_id))}</b> sweep "
            f"{esc(' × '.join(labels.get(n, n) for n, _ in axes))} · {counts['completed']}/{len(sweep.cells)} done"
            f"{'' if done == len(sweep.cells) else ' (still running when saved)'}{esc(cost)}"
            f"{' · simulator' if sweep.client.simulator else ''}</div>")
    # a long prompt is labelled by the part that differs between its rows ("…deep winter snow…"), not cut at the end
    shown = {name: {v: _differing_label(v, parts) for v, parts in zip(values, differing(values), strict=True)}
             for name, values in axes if all(isinstance(v, str) for v in values)}
    cells = []
    for cell in sweep.cells:
        label = ", ".join(f"{labels.get(k, k)}={shown[k][v] if k in shown else _text(v, 80)}"
                          for k, v in cell.values.items())
        first = cell.outputs[0] if cell.outputs else None
        media = _media_html(first.url, first.kind, label, thumbnail(first) if thumbnails and first else None) \
            if first else f"<div style='color:#57606a'>{esc('waiting (not sent)' if cell.status == 'waiting' else cell.status)}</div>"
        extra = f" · ${cell.cost:.3f}" if cell.cost is not None else ""
        reused = " · reused" if getattr(cell.job, "reused", False) else ""
        cells.append(f"<div style='border:1px solid #d0d7de;border-radius:6px;padding:4px;min-width:0'>{media}"
                     f"<div style='font-size:12px'>{esc(label)}<br>{esc(cell.status.replace('_', ' '))}"
                     f"{esc(extra)}{esc(reused)}</div></div>")
    grid = (f"<div style='display:grid;grid-template-columns:repeat({cols},minmax(0,1fr));gap:6px'>"
            f"{''.join(cells)}</div>")
    return (f"{_STYLE}<div class='rcnb-static rcnb-sweep-static' style='font-family:sans-serif;font-size:13px'>"
            f"{head}{grid}</div>")
