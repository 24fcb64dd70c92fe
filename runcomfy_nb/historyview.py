"""`rc.history()`: earlier runs from the journal as a paged gallery (thumbnails that outlive the URLs and the
kernel), with Load into form, Use as input, Save and Run again.

The rows come from the journal (`records.JobList`), so a restarted kernel shows what earlier sessions ran. The
gallery's buttons arrive as messages on the kernel's thread; what they open (a form, a new run) goes into the
view's own Output area, since a message handler has no cell of its own to print into.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import traitlets
from IPython.display import display

from . import saving
from ._client import client_for
from ._journal import default_journal
from ._outputs import output_from_dict
from .config import settings
from .records import JobList
from .widgets import STATIC, _Persisted

PAGE_SIZE = 24


def journal_rows(model: str | None = None, text: str | None = None, notebook_only: bool = False) -> JobList:
    """Every journal row, newest first, narrowed like the gallery's filters.

    `notebook_only` keeps runs whose results were saved beside this notebook (in its `runcomfy_outputs/`).
    """
    rows = JobList(default_journal().list(limit=None)).filter(model=model, text=text)
    if notebook_only:
        folder = saving.default_output_dir() or Path.cwd() / saving.OUTPUT_DIR_NAME
        inside = str(folder.resolve())
        rows = JobList(r for r in rows if any(str(p).startswith(inside) for p in r.get("saved") or []))
    return rows


def _static(items: list[dict[str, Any]], total: int, copy_id: str) -> str:
    from ._render import static_copy
    from .lasting_html import output_html

    cards = [output_html(o, max_height=96) for item in items for o in item["outputs"][:1]]
    return static_copy([f"<div class='rcnb-history'>{''.join(cards)}</div>"] if cards else [],
                       empty="No runs in the journal yet.", copy_id=copy_id) + \
        f"<div style='font:12px sans-serif;color:#57606a'>{len(items)} of {total} runs</div>"


class HistoryView(_Persisted):
    """A paged gallery of earlier runs (journal rows), filterable by model and text."""

    _bundle_esm = STATIC / "history.js"
    _bundle_css = STATIC / "widgets.css"

    items: traitlets.List[Any] = traitlets.List().tag(sync=True)
    page = traitlets.Int(0).tag(sync=True)
    pages = traitlets.Int(1).tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    model_filter = traitlets.Unicode("").tag(sync=True)
    text_filter = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    compact = traitlets.Bool(False).tag(sync=True)  # no filters or pager: a form's run list

    def __init__(self, model: str | None = None, text: str | None = None, notebook_only: bool = False,
                 page_size: int = PAGE_SIZE, **kwargs: Any) -> None:
        super().__init__(model_filter=model or "", text_filter=text or "", **kwargs)
        self.notebook_only, self.page_size = notebook_only, page_size
        self.rows = JobList()
        self.refresh()
        self.observe(lambda _change: self.refresh(keep_page=False), names=["model_filter", "text_filter"])
        self.observe(lambda _change: self.refresh(), names=["page"])
        self.on_msg(self._on_front_end_message)
        try:
            import ipywidgets

            self.panel: Any = ipywidgets.Output()
        except Exception:  # no widget front end: the actions still run
            self.panel = None

    def refresh(self, keep_page: bool = True) -> None:
        """Read the journal again and show the current page (the first one when the filters changed)."""
        self.rows = journal_rows(self.model_filter or None, self.text_filter or None, self.notebook_only)
        pages = max(1, -(-len(self.rows) // self.page_size))
        page = min(self.page, pages - 1) if keep_page else 0
        with self.hold_trait_notifications():
            self.total, self.pages = len(self.rows), pages
            self.items = self.rows.page(page, self.page_size).gallery_items()
            self.page = page

    def _fallback_text(self) -> str:
        return f"runcomfy history: {self.total} job{'s' if self.total != 1 else ''}"

    def _fallback_html(self) -> str:
        return _static(self.items, self.total, self.copy_id)

    def _row(self, content: dict[str, Any]) -> dict[str, Any] | None:
        wanted = content.get("local_id")
        return next((r for r in self.rows if r.get("local_id") == wanted and wanted), None)

    def _on_front_end_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        row = self._row(content) if isinstance(content, dict) else None
        if row is None:
            return
        try:
            self.notice = self.act(str(content.get("type")), row, int(content.get("output_index") or 0))
        except Exception as error:  # a message must never raise into the comm: say what went wrong
            self.notice = f"{content.get('type')} failed: {error}"

    def act(self, kind: str, row: dict[str, Any], output_index: int = 0) -> str:
        """Do what a gallery button asks for one run; returns the notice to show."""
        item = JobList([row]).gallery_items()[0]
        outputs = [output_from_dict(o, row.get("request_id") or "") for o in row.get("outputs") or []]
        if kind == "load":
            self._show(_form(row["model_id"], item["inputs"]))
            return f"Loaded into a form for {row['model_id']} below."
        if kind == "use_as_input":
            from .sweepview import input_targets

            output = outputs[min(output_index, len(outputs) - 1)]
            target = next((t for t in input_targets(client_for(row)) if t["model_id"] != row["model_id"]), None)
            if target is None:
                return "No model with an image input to use it in."
            self._show(_form(target["model_id"], {target["field"]: output.url}))
            return f"A form for {target['model_id']} with this result as {target['field']} is below."
        if kind == "save":
            paths = [o.saved_path if o.saved_path and o.saved_path.is_file() else o.save(settings.save_dir)
                     for o in outputs]
            return f"Saved {len(paths)} file{'s' if len(paths) != 1 else ''} to {paths[0].parent}" if paths \
                else "Nothing to save."
        if kind == "run_again":
            job = client_for(row).submit(row["model_id"], item["inputs"], fresh=True)
            self._show(job)
            self.refresh()
            return f"Submitted again: {job.request_id}"
        return f"unknown action {kind!r}"

    def _show(self, thing: Any) -> None:
        self.last_shown = thing
        if self.panel is not None:
            self.panel.clear_output()
            with self.panel:  # this handler runs on the kernel's thread
                display(thing)


def _form(model_id: str, inputs: dict[str, Any]) -> Any:
    from .modelform import form

    return form(model_id, **inputs)


def history(model: str | None = None, text: str | None = None, notebook_only: bool = False) -> HistoryView:
    """Earlier runs from the journal as a paged gallery (newest first), with Load into form, Use as input, Save
    and Run again. `model`/`text` filter by model id and prompt; `notebook_only`: runs saved beside this notebook."""
    return HistoryView(model, text, notebook_only)
