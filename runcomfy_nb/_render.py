"""Static HTML of a job: the text/html fallback a saved notebook or an nbconvert export shows without a kernel.

Every string from a person or the API is escaped; only safe URLs become src/href.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .lasting_html import output_html
from .naming import prompt_of
from .schemas import display_name
from .seeds import seed_of

if TYPE_CHECKING:
    from ._job import Job

_COLOURS = {"completed": "#1a7f37", "failed": "#cf222e", "cancelled": "#6e7781", "in_progress": "#0969da",
            "in_queue": "#9a6700", "submitting": "#8250df"}
# The static copy sits in the output right after the live widget. While the widget renders (.rcnb-root), the
# copy is hidden; when the widget cannot render (reopened without a kernel: "model not found"), the widget's
# output is hidden and the copy shows. Lab drops <style> from untrusted outputs: then both show, nothing is lost.
# `> .jp-OutputArea-output > .rcnb-static`: the copy itself, not an output that holds one deeper down (a form
# shown in an Output widget under a sweep's grid holds its own copy, and was hidden with it).
_STATIC = "> .jp-OutputArea-output > .rcnb-static"
_STYLE = (f"<style>.jp-OutputArea-child:has(.rcnb-root) + .jp-OutputArea-child:has({_STATIC}){{display:none}}"
          f".jp-OutputArea-child:has(+ .jp-OutputArea-child {_STATIC}):not(:has(.rcnb-root)){{display:none}}</style>")


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def summarise_value(value: Any, limit: int = 300) -> str:
    """One input value as a short text: inline media by type and size, anything else clipped."""
    if isinstance(value, str) and value.startswith("data:"):
        mime = value[5:].split(";")[0].split(",")[0]
        return f"<inline {mime}, {len(value) * 3 // 4 // 1024} KiB>"
    if isinstance(value, str):
        text = value
    else:
        try:
            text = repr(value)
        except Exception:  # a broken __repr__, or nesting too deep to print (RecursionError)
            text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def inputs_summary(inputs: dict[str, Any], labels: dict[str, str] | None = None) -> list[dict[str, str]]:
    """[{label, value}] for a job's inputs, labelled as the form labels them."""
    labels = labels or {}
    return [{"label": labels.get(k, k), "value": summarise_value(v)} for k, v in inputs.items()]


def job_html(job: Job, labels: dict[str, str] | None = None) -> str:
    """A job as one static card: model, request_id, status, inputs, error and outputs (all escaped)."""
    status = job.status
    colour = _COLOURS.get(status, "#57606a")
    elapsed = ""
    if job.finished_at and (job.submitted_at or job.created_at):
        elapsed = f" · {job.finished_at - (job.submitted_at or job.created_at):.1f} s"
    when = datetime.fromtimestamp(job.created_at).strftime("%Y-%m-%d %H:%M")
    # the same look as the live widget's badge: dashed orange
    sim = ' <span style="border:1px dashed #ef6c00;color:#ef6c00;border-radius:10px;padding:0 6px">simulator</span>' \
        if job.simulator else ""
    # Lab and nbconvert style every table in an output (right-aligned cells, zebra rows): undo that inline.
    cell = "text-align:left;vertical-align:top;padding:1px 10px 1px 0;border:none"
    rows = "".join(f"<tr style='background:none'><td style='{cell};color:#57606a'>{_esc(i['label'])}</td>"
                   f"<td style='{cell};white-space:pre-wrap'>{_esc(i['value'])}</td></tr>"
                   for i in inputs_summary(job.inputs, labels))
    # A result that was saved carries what outlives its URL (thumbnail or poster, local copy): show that, so
    # the copy still shows it from disk, exported, and after the URL expired; else the URL itself.
    media = [output_html(output.to_dict()) if output.thumb or output.local else output.html(max_height="480px")
             for output in job.outputs]
    error = f"<pre style='color:#cf222e;white-space:pre-wrap'>{_esc(job.error)}</pre>" if job.error else ""
    # what must not pass silently (auto-save failed, outputs not understood, journal not writable): shown too
    error += "".join(f"<pre style='color:#9a6700;white-space:pre-wrap'>{_esc(w)}</pre>" for w in job.warnings)
    # queue_position counts the jobs ahead; worded like the live widget (0 → next in line, 2 → position 3)
    ahead = job.queue_position if status == "in_queue" else None
    position = "" if ahead is None else " · next in line" if ahead == 0 else f" · position {ahead + 1}"
    cost = f" · ${job.cost:.3f}" if job.cost is not None else ""
    if job.reused:  # an earlier identical job's result, nothing sent (runcomfy_nb.reuse)
        finished = datetime.fromtimestamp(job.reused_from).strftime("%Y-%m-%d %H:%M") if job.reused_from else "earlier"
        cost += f" · reused from {finished}"
    return (
        f"<div class='rcnb-job' style='border:1px solid #d0d7de;border-radius:6px;padding:8px;margin:4px 0;"
        f"font-family:sans-serif;font-size:13px'>"
        f"<div><b>{_esc(display_name(job.model_id))}</b> <code>{_esc(job.request_id or '')}</code>{sim} "
        f"<span style='background:{colour};color:#fff;border-radius:10px;padding:1px 8px'>"
        f"{_esc(status.replace('_', ' '))}</span>"
        f"<span style='color:#57606a'>{_esc(position)}{_esc(elapsed)}{_esc(cost)} · {_esc(when)}</span></div>"
        f"<table style='margin:6px 0;border:none;border-collapse:collapse'>{rows}</table>{error}"
        f"<div style='display:flex;flex-wrap:wrap;gap:8px'>{''.join(media)}</div></div>"
    )


def static_copy(cards: list[str], empty: str = "", copy_id: str = "") -> str:
    """The text/html fallback output: job cards (or a line saying there are none) plus the style above.

    `copy_id` marks the copy (data-rcnb-copy) so that its live view hides it wherever the view renders
    (js/copy_guard.js): one card, not two, in front ends the style above does not reach (VS Code, Colab).
    """
    mark = f" data-rcnb-copy='{_esc(copy_id)}'" if copy_id else ""
    return f"{_STYLE}<div class='rcnb-static'{mark}>{''.join(cards) or _esc(empty)}</div>"


def run_tiles_html(jobs: list[Job]) -> str:
    """A form's runs as the compact static grid (newest first): per run its first result's embedded thumbnail
    (or its status), then status while not completed, seed, cost, reuse, and a failed run's error."""
    tiles = []
    for job in jobs:
        media = output_html(job.outputs[0].to_dict(), max_height=112) if job.outputs else (
            f"<div style='height:96px;display:flex;align-items:center;justify-content:center;color:#57606a;"
            f"border:1px dashed #d0d7de;border-radius:4px'>{_esc(job.status.replace('_', ' '))}</div>")
        seed = seed_of(job)
        parts = [] if job.status == "completed" else [
            f"<span style='background:{_COLOURS.get(job.status, '#57606a')};color:#fff;border-radius:8px;"
            f"padding:0 5px'>{_esc(job.status.replace('_', ' '))}</span>"]
        parts += [_esc(p) for p in (f"seed {seed}" if seed is not None else "",
                                    f"${job.cost:.3f}" if job.cost is not None else "",
                                    "reused" if job.reused else "") if p]
        error = f"<div style='color:#cf222e;white-space:pre-wrap'>{_esc(summarise_value(job.error, 160))}</div>" \
            if job.error else ""
        more = f" · +{len(job.outputs) - 1}" if len(job.outputs) > 1 else ""
        prompt = prompt_of(job.inputs)  # what the run was, one line (the whole prompt as its tooltip)
        caption = (f"<div style='white-space:nowrap;overflow:hidden;text-overflow:ellipsis;color:#1f2328' "
                   f"title='{_esc(prompt)}'>{_esc(prompt)}</div>") if prompt else ""
        tiles.append(f"<div class='rcnb-run-tile' data-status='{_esc(job.status)}' title='{_esc(job.request_id or '')}' "
                     f"style='width:120px;vertical-align:top;font:11px sans-serif;color:#57606a'>{media}{caption}"
                     f"<div>{' · '.join(parts)}{_esc(more)}</div>{error}</div>")
    return f"<div class='rcnb-run-tiles' style='display:flex;flex-wrap:wrap;gap:8px'>{''.join(tiles)}</div>"
