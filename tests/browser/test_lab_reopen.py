"""Reopen: run jobs, save, shut the kernel down, reload the page: the final results are still there.

Each job's display is two outputs: the live anywidget view, then a text/html static copy (`rcnb-static`, updated
through one display_id when the job ends) whose <style> hides the copy while the live widget renders and hides the
dead widget ("Error displaying widget: model not found") when it cannot. This checks it in the real Lab 4: the
notebook is trusted after our own save, the <style> is kept, `:has()` applies. An untrusted copy (edited elsewhere)
loses the <style>: then the copy simply shows under an empty line, nothing is lost and nothing runs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .harness import NotebookPage
from .helpers import HOSTILE, I2V, WAN, wait_image_loaded

pytestmark = pytest.mark.browser

OUTPUT_STATES = """els => els.map(e => ({
    display: getComputedStyle(e).display,
    static: !!e.querySelector('.rcnb-static'),
    live: !!e.querySelector('.rcnb-root'),
    text: e.innerText.slice(0, 200),
    style: !!e.querySelector('.rcnb-static') && !!e.querySelector('style'),
}))"""


def saved_outputs(path: Path) -> list[list[dict[str, Any]]]:
    return [cell.get("outputs", []) for cell in nbformat.read(path, as_version=4).cells]


def wait_saved(path: Path, predicate: Any, timeout: float = 15) -> list[list[dict[str, Any]]]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            outputs = saved_outputs(path)
            if predicate(outputs):
                return outputs
        except (OSError, ValueError, json.JSONDecodeError):
            pass  # mid-write
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} was not saved as expected")
        time.sleep(0.1)


def static_html(outputs: list[dict[str, Any]]) -> list[str]:
    return [o["data"]["text/html"] for o in outputs if "rcnb-static" in o.get("data", {}).get("text/html", "")]


def test_results_survive_save_kernel_shutdown_and_reload(lab_server: Any, open_notebook: Any, bsim: Any) -> None:
    bsim.configure(paused=True, time_scale=0.3)  # displayed while queued: the saved copy must be the updated one
    nb = open_notebook(lab_server, "reopen.ipynb", [
        f'fox = %runcomfy {WAN} prompt="a red fox at dawn" aspect_ratio="1440:810 (16:9)"',
        "fox  # the same job shown again: both copies must end up final",
        f"form = rc.form({WAN!r}, prompt={HOSTILE!r}, aspect_ratio='1024:1024 (1:1)')\nform",
        'from PIL import Image\nsea = Image.new("RGB", (480, 480), "#2a9d8f")\n'
        f'clip = %runcomfy {I2V} 608_image=@sea 600_prompt="waves" '
        '602_widthx602_height="480x480 (1:1)" 602_num_frames=81 609_frame_rate=16',
    ])
    for index in range(5):
        nb.run(index)
    nb.outputs(3).locator(".rcnb-submit").click()
    nb.outputs(3).locator(".rcnb-history .rcnb-gallery-tile").wait_for()  # the form's run list: a gallery tile
    bsim.configure(paused=False)
    nb.page.locator(".rcnb-card[data-status='completed']").nth(2).wait_for(timeout=60_000)  # fox ×2, clip
    nb.outputs(3).locator(".rcnb-history .rcnb-gallery-tile[data-status='completed']").wait_for(timeout=60_000)
    assert nb.page.locator(".rcnb-card").evaluate_all("els => els.map(e => e.dataset.status)") == ["completed"] * 3
    # While the widgets live, the static copies are hidden (the <style> works in the live session too).
    states = nb.outputs(1).evaluate_all(OUTPUT_STATES)
    assert [s["display"] == "none" for s in states] == [False, True] and states[0]["live"], states

    # The copies change once more after completion, when the kept files and thumbnails are ready (the video's poster
    # comes last, from PyAV, slow on a busy machine): save only then, or the file keeps the copy without them.
    for index in (1, 2, 3, 4):  # the form's copy (3) too: it shows its run's thumbnail
        nb.outputs(index).locator(".rcnb-static img[src^='data:']").first.wait_for(state="attached", timeout=60_000)
    # Save (Ctrl+S, in command mode) and wait for the file on disk.
    nb.page.keyboard.press("Escape")
    nb.page.keyboard.press("Control+s")
    path = lab_server.root / "reopen.ipynb"
    outputs = wait_saved(path, lambda outs: len([h for o in outs for h in static_html(o)]) == 4
                         and all("completed" in h and "data:image/" in h for o in outs for h in static_html(o)))
    for index in (1, 2, 3, 4):
        kinds = [list(o.get("data", {})) for o in outputs[index] if o["output_type"] == "display_data"]
        assert kinds[:2] == [["application/vnd.jupyter.widget-view+json", "text/plain"], ["text/html", "text/plain"]]
        assert outputs[index][0]["data"]["text/plain"] == ""
        assert "in queue" not in static_html(outputs[index])[0]
    # the saved copies carry the kept files (relative links) and thumbnails, not the expiring URLs
    assert 'href="runcomfy_outputs/' in static_html(outputs[1])[0] and "data:image/" in static_html(outputs[1])[0]
    assert ".mp4" in static_html(outputs[4])[0] and bsim.base_url not in static_html(outputs[1])[0]

    # Shut the kernel down (Kernel ▸ Shut Down Kernel) and reload the page: Lab opens the notebook with a new kernel
    # that knows none of the widgets.
    nb.command("kernelmenu:shutdown")
    nb.page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text="No Kernel").wait_for()
    assert lab_server.kernel_count() == 0
    nb.page.reload()
    nb.wait_idle()
    dead = nb.page.locator(".jp-OutputArea-child", has_text="Error displaying widget: model not found")
    dead.nth(3).wait_for(state="attached")
    assert nb.page.locator(".rcnb-root").count() == 0, "no live widget after the reload"
    assert nb.page.evaluate("() => CSS.supports('selector(:has(a))')")
    trusted = nb.page.evaluate("""() => { const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
        return Array.from({length: cells.length}, (_, i) => cells.get(i).trusted); }""")
    assert all(trusted), f"our own save left the notebook trusted: {trusted}"
    for index in (1, 2, 3, 4):
        states = nb.outputs(index).evaluate_all(OUTPUT_STATES)
        widget, copy = states[0], states[1]
        assert "Error displaying widget" in widget["text"] and widget["display"] == "none", (index, states)
        assert copy["static"] and copy["style"] and copy["display"] != "none", (index, states)
        assert "completed" in copy["text"], (index, copy)
    # results are kept beside the notebook by default: each copy embeds a thumbnail (256 px long side) that
    # links the kept file, and a video shows its poster frame with its duration
    for index in (1, 2):
        image = nb.outputs(index).locator(".rcnb-static img")
        loaded = wait_image_loaded(nb, image)
        assert loaded["naturalWidth"] == 256 and loaded["src"].startswith("data:image/")
    form_copy = nb.outputs(3).locator(".rcnb-static")
    assert HOSTILE in form_copy.inner_text()
    wait_image_loaded(nb, form_copy.locator("img"))
    poster = nb.outputs(4).locator(".rcnb-static .rcnb-lasting[data-kind='video'] img")
    assert wait_image_loaded(nb, poster)["src"].startswith("data:image/")
    assert "▶ video · 5.1 s" in nb.outputs(4).locator(".rcnb-static").inner_text()
    assert nb.page.evaluate("() => window.__pwned") is None and nb.page.locator("img[src='x']").count() == 0
    nb.screenshot("7a_reopened_trusted", nb.outputs(1).locator(".rcnb-static"))
    nb.outputs(3).locator(".rcnb-static").scroll_into_view_if_needed()
    nb.screenshot("7b_reopened_form_and_video")

    # The same notebook edited elsewhere is no longer trusted: Lab drops the <style> and shows the views' (empty)
    # text/plain instead of widgets, so each copy shows under an empty line. Still every result, still inert.
    copy = nbformat.read(path, as_version=4)
    copy.metadata["edited_elsewhere"] = True
    nbformat.write(copy, lab_server.root / "reopen_untrusted.ipynb")
    nb = NotebookPage(nb.page, lab_server, "reopen_untrusted.ipynb", "lab").open()
    nb.outputs(4).locator(".rcnb-static").wait_for()
    for index in (1, 2, 3, 4):
        states = nb.outputs(index).evaluate_all(OUTPUT_STATES)
        assert not states[1]["style"] and states[1]["display"] != "none" and "completed" in states[1]["text"]
        assert states[0]["text"].strip() == "" and "object at 0x" not in states[0]["text"], states
    wait_image_loaded(nb, nb.outputs(1).locator(".rcnb-static img"))
    assert nb.page.evaluate("() => window.__pwned") is None and nb.page.locator("img[src='x']").count() == 0
    nb.screenshot("7c_reopened_untrusted", nb.outputs(1).locator(".rcnb-static"))
    assert not nb.unexpected_errors(), nb.errors
