"""`rc.jobs()` as something a person can read: a list of journal rows with a table for a repr.

`JobList` is a plain list of the journal's row dicts (code that indexes rows keeps working) whose text repr is
an aligned table and whose HTML repr shows dates, prompt, status, time, cost and result thumbnails. Inline media
inputs never appear (only the prompt is shown, and never a `data:` value); every value is escaped, control
characters are removed, and pictures come only from embedded thumbnails or safe URLs.
`JobList.filter(model=, text=, status=)` narrows it the way the history gallery's filters do, `page(n, size)`
pages it, and `gallery_items()` gives the JSON a history gallery shows (thumbnails, a summary, and inputs fit to
load into a form: inline media described, never copied).
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from .lasting_html import image_src, local_href, web_url
from .naming import prompt_of
from .params import params_record
from .textview import clean

_COLUMNS = ("when", "model", "prompt", "status", "time", "cost", "results", "request")
_WIDTHS = {"when": 16, "model": 28, "prompt": 40, "status": 11, "time": 8, "cost": 8, "results": 12, "request": 10}
_HTML_CELL = "text-align:left;vertical-align:top;padding:2px 8px;border:none"


def _when(row: dict[str, Any]) -> str:
    stamp = row.get("submitted_at") or row.get("created_at")
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M") if isinstance(stamp, int | float) else ""


def _elapsed(row: dict[str, Any]) -> str:
    start, end = row.get("submitted_at") or row.get("created_at"), row.get("finished_at")
    if not isinstance(start, int | float) or not isinstance(end, int | float) or end < start:
        return ""
    seconds = end - start
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds) // 60}m {int(seconds) % 60:02d}s"


def _cost(row: dict[str, Any]) -> str:
    cost = row.get("cost")
    return f"${cost:.3f}".rstrip("0").rstrip(".") if isinstance(cost, int | float) and not isinstance(cost, bool) else ""


def _results(row: dict[str, Any]) -> list[dict[str, Any]]:
    outputs = row.get("outputs") or []
    return [o for o in outputs if isinstance(o, dict)]


def _result_count(row: dict[str, Any]) -> str:
    kinds: dict[str, int] = {}
    for output in _results(row):
        kind = str(output.get("kind") or "file")
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in kinds.items())


def _inputs_of(row: dict[str, Any]) -> dict[str, Any]:
    """A row's inputs, or {} when the row has none or they are not an object."""
    inputs = row.get("inputs")
    return inputs if isinstance(inputs, dict) else {}


def summary(row: dict[str, Any]) -> dict[str, str]:
    """The readable columns of one journal row (all text, all cleaned)."""
    inputs = _inputs_of(row)
    request_id = clean(row.get("request_id") or row.get("local_id") or "")
    return {
        "when": _when(row),
        "model": clean(row.get("model_id") or ""),
        "prompt": clean(prompt_of(inputs)),
        "status": clean(str(row.get("status") or "").replace("_", " ")),
        "time": _elapsed(row),
        "cost": _cost(row),
        "results": _result_count(row),
        "request": request_id if len(request_id) <= 10 else request_id[:8] + "…",
    }


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _thumbs(row: dict[str, Any], limit: int = 4) -> str:
    pictures = []
    for output in _results(row)[:limit]:
        thumb = output.get("thumb") or output.get("poster") or {}
        src = image_src(thumb.get("src")) if isinstance(thumb, dict) else None
        if src is None and output.get("kind") == "image":
            src = web_url(output.get("url"))
        if src is None:
            continue
        href = local_href(output.get("local")) or web_url(output.get("url"))
        img = (f'<img src="{html.escape(src, quote=True)}" alt="" loading="lazy" '
               'style="height:48px;width:auto;border-radius:3px;margin-right:2px">')
        pictures.append(f'<a href="{html.escape(href, quote=True)}" target="_blank" rel="noopener">{img}</a>'
                        if href else img)
    return "".join(pictures)


class JobList(list):
    """Journal rows (dicts), newest first, that read as a table in a terminal and in a notebook."""

    def __repr__(self) -> str:
        if not self:
            return "(no jobs in the journal)"
        rows = [summary(r) for r in self]
        widths = {c: min(_WIDTHS[c], max(len(c), *(len(r[c]) for r in rows))) for c in _COLUMNS}
        lines = ["  ".join(c.ljust(widths[c]) for c in _COLUMNS).rstrip()]
        lines += ["  ".join(_cut(r[c], widths[c]).ljust(widths[c]) for c in _COLUMNS).rstrip() for r in rows]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self:
            return "<i>(no jobs in the journal)</i>"
        head = "".join(f"<th style='{_HTML_CELL}'>{c}</th>" for c in _COLUMNS)
        body = []
        for row in self:
            cells = summary(row)
            tds = []
            for column in _COLUMNS:
                if column == "results":
                    value = _thumbs(row) or html.escape(cells["results"])
                elif column == "prompt":
                    value = f"<span title='{html.escape(cells['prompt'], quote=True)}'>" \
                            f"{html.escape(_cut(cells['prompt'], 80))}</span>"
                else:
                    value = html.escape(cells[column])
                tds.append(f"<td style='{_HTML_CELL}'>{value}</td>")
            body.append(f"<tr style='background:none'>{''.join(tds)}</tr>")
        return (f"<table class='rcnb-jobs' style='border-collapse:collapse;font-size:12px'>"
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")

    def filter(self, model: str | None = None, text: str | None = None, status: str | None = None) -> JobList:
        """Rows whose model id contains `model`, whose prompt/model/request id contains `text` (both case-
        insensitive), and whose status is `status`."""
        def keep(row: dict[str, Any]) -> bool:
            if model and model.lower() not in str(row.get("model_id") or "").lower():
                return False
            if status and row.get("status") != status:
                return False
            if text:
                inputs = _inputs_of(row)
                haystack = " ".join([prompt_of(inputs), str(row.get("model_id") or ""),
                                     str(row.get("request_id") or "")]).lower()
                return text.lower() in haystack
            return True

        return JobList(r for r in self if keep(r))

    def page(self, index: int, size: int = 24) -> JobList:
        """Page `index` (0-based) of `size` rows; an index past the end gives an empty page."""
        if index < 0 or size < 1:
            raise ValueError(f"page index must be ≥ 0 and size ≥ 1; got {index}, {size}")
        return JobList(self[index * size:(index + 1) * size])

    def gallery_items(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per row for a gallery: ids, summary columns, outputs with their thumbnails, and
        the inputs as `load_params` would give them (inline media left out and described in `inline_media`)."""
        items = []
        for row in self:
            inputs = _inputs_of(row)
            record = params_record(str(row.get("model_id") or ""), inputs, request_id=row.get("request_id"))
            outputs = [{k: o[k] for k in ("url", "kind", "name", "local", "thumb", "duration") if k in o}
                       for o in _results(row)]
            items.append({"local_id": row.get("local_id"), "request_id": row.get("request_id"),
                          "model_id": row.get("model_id"), "summary": summary(row), "outputs": outputs,
                          "inputs": record["inputs"], "inline_media": record.get("inline_media", {})})
        return items
