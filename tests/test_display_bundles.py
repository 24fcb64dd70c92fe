"""What a displayed job or form sends to the front end: two outputs, and why (docs/decisions.md, "No duplicated card").

1. The live view alone: `{widget-view+json, text/plain: ""}`, no `text/html`. A front end with a widget manager has
   one thing to draw from it; JupyterLab never falls back to another type of a widget's bundle ("model not found"),
   so the copy cannot live in this bundle; a front end without widgets shows an empty text, not a repr.
2. The static copy, no widget view in it: `text/html` (and a readable `text/plain`), with a display id (updated in place when the job ends) and marked
   `data-rcnb-copy=<the view's copy_id>`, the synced trait by which the live view hides exactly this copy
   (js/copy_guard.js) wherever it renders: VS Code and Colab included, which Lab's `<style>` does not reach.
VS Code and Colab cannot run here; these tests pin the structure they are given, in a real IPython shell.
"""

from __future__ import annotations

import re
import time
from typing import Any

from IPython.utils.capture import capture_output
from shell_helpers import run_cell

import runcomfy_nb as rc

WAN = "wan-ai/wan-2-5/text-to-image"
VIEW = "application/vnd.jupyter.widget-view+json"


def run(ip: Any, code: str) -> tuple[Any, list[Any]]:
    result, captured = run_cell(ip, code)
    return result, captured.outputs


def check_view_then_copy(outputs: list[Any], widget: Any) -> str:
    """The first two outputs are the view bundle and its marked copy; returns the copy's display id."""
    view, copy = outputs[0], outputs[1]
    assert set(view.data) == {VIEW, "text/plain"} and view.data["text/plain"] == ""
    assert view.data[VIEW]["model_id"] == widget.model_id
    assert VIEW not in copy.data and "text/html" in copy.data
    # what text-only clients (jupyter console, nbconvert --to markdown) show: words, not an object repr
    assert copy.data["text/plain"] and "object at" not in copy.data["text/plain"]
    marks = re.findall(r"data-rcnb-copy='([^']*)'", copy.data["text/html"])
    assert marks == [widget.copy_id] and widget.get_state()["copy_id"] == widget.copy_id  # synced to the page
    assert copy.transient.get("display_id") and not copy.update
    return copy.transient["display_id"]


def test_a_job_is_its_view_then_its_copy_and_the_copy_is_updated_in_place(ip: Any) -> None:
    from runcomfy_nb.widgets import view_of

    job, outputs = run(ip, f'job = %runcomfy {WAN} prompt="two outputs" aspect_ratio="1024:1024 (1:1)"\njob')
    view = view_of(job)
    assert view is not None and len(outputs) == 2  # the magic showed it; the bare `job` line did not again
    display_id = check_view_then_copy(outputs, view)
    with capture_output() as later:
        job.wait(timeout=60)
        # the final copy goes out from the loop thread once the job ended: wait for it (a generous hang-catcher)
        deadline = time.monotonic() + 30
        while not any(o.update for o in later.outputs) and time.monotonic() < deadline:
            time.sleep(0.05)
    updates = [o for o in later.outputs if o.update]
    assert updates and all(o.transient["display_id"] == display_id for o in updates)
    assert all(VIEW not in o.data for o in later.outputs)  # nothing adds a second live view
    assert "completed" in updates[-1].data["text/html"] and f"data-rcnb-copy='{view.copy_id}'" in updates[-1].data[
        "text/html"]
    assert "completed" in updates[-1].data["text/plain"] and job.request_id[:8] in updates[-1].data["text/plain"]
    view.close()


def test_a_form_is_its_view_then_its_copy(ip: Any) -> None:
    form, outputs = run(ip, f"import runcomfy_nb as rc\nform = rc.form({WAN!r})\nform")
    assert isinstance(form, rc.ModelForm) and len(outputs) == 2
    check_view_then_copy(outputs, form)
    assert outputs[1].data["text/plain"] == f"runcomfy form for {WAN}: 0 runs"
    form.close()


def test_two_displays_of_one_job_share_one_copy_id_and_one_display_id(ip: Any) -> None:
    """Shown in two cells: two views of one model and two copies with the same mark (the guard hides both while
    any view lives) and one display id (one update refreshes both)."""
    from runcomfy_nb.widgets import view_of

    _, first = run(ip, f'j2 = %runcomfy {WAN} prompt="twice" aspect_ratio="1024:1024 (1:1)"')
    job, second = run(ip, "j2")
    view = view_of(job)
    assert len(first) == len(second) == 2
    assert check_view_then_copy(first, view) == check_view_then_copy(second, view)
    job.wait(timeout=60)
    view.close()
