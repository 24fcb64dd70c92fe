"""SweepView in a real JupyterLab 4 page: a labelled 3 prompts × 4 seeds grid on the Kontext edit model fills in live,
Cancel all over a paused queue, the viewer with arrow keys, "Use as input" into an edit form, compare's slider, and
the saved notebook reopened without a kernel still showing the grid's final state."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import wait_image_loaded, wait_until
from .test_lab_reopen import OUTPUT_STATES, static_html, wait_saved

pytestmark = pytest.mark.browser

KONTEXT = "blackforestlabs/flux-1-kontext/pro/edit"
# Long prompts that differ only in the middle: the row headers must show the middle, not the shared start.
PROMPTS_CELL = """from PIL import Image, ImageDraw
photo = Image.new("RGB", (1024, 1024), "#264653")
ImageDraw.Draw(photo).rectangle((256, 384, 768, 896), fill="#e9c46a")
start = "a quiet harbour town seen from the hill above the old lighthouse, "
end = ", oil painting with soft light, long shadows and small boats in the bay"
prompts = [start + middle + end for middle in ("deep winter snow", "warm summer rain", "thick autumn fog")]"""
SWEEP_CELL = f'%runcomfy sweep {KONTEXT} prompt=@prompts seed=1..4 image_url=@photo aspect_ratio="1:1" -o grid'


def cell_statuses(view: Any) -> list[str]:
    return view.locator(".rcnb-cell .rcnb-badge").all_inner_texts()


def test_the_labelled_grid_fills_in_live_then_viewer_use_as_input_compare_and_reopen(
        lab_server: Any, open_notebook: Any, bsim: Any) -> None:
    bsim.configure(paused=True, time_scale=0.3)  # the grid is shown while everything waits
    nb = open_notebook(lab_server, "sweep.ipynb", [PROMPTS_CELL, SWEEP_CELL])
    for index in range(3):
        nb.run(index)
    view = nb.outputs(2).locator(".rcnb-sweep")
    view.locator(".rcnb-cell").nth(11).wait_for()

    # --- labelled: 3 rows of prompts, 4 columns of seeds, the inputs common to all cells once above
    assert view.locator(".rcnb-col-head").all_inner_texts() == ["1", "2", "3", "4"]
    rows = view.locator(".rcnb-row-head mark.rcnb-differs").all_inner_texts()
    assert rows == ["deep winter snow", "warm summer rain", "thick autumn fog"], rows
    assert "Prompt" in view.locator(".rcnb-corner").inner_text() and "Seed" in view.locator(".rcnb-corner").inner_text()
    common = view.locator(".rcnb-common").inner_text()
    assert "image/png" in common and "1:1" in common
    # at most max_in_flight (the %config default, 4) are sent; the others wait here, said as not sent
    wait_until(lambda: len(bsim.jobs()) == 4, "four jobs reach the simulator")
    view.locator(".rcnb-badge", has_text="waiting (not sent)").nth(7).wait_for()
    assert view.locator(".rcnb-progress").inner_text().startswith("0/12 done")
    nb.screenshot("sweep_1_waiting", view)

    # --- it fills in live, in the page, while the notebook is idle
    bsim.configure(paused=False)
    view.locator(".rcnb-cell .rcnb-badge", has_text="completed").nth(0).wait_for(timeout=30_000)
    assert "completed" not in cell_statuses(view)[11], "the last cell is still on its way when the first is done"
    view.locator(".rcnb-cell .rcnb-badge", has_text="completed").nth(11).wait_for(timeout=90_000)
    assert view.locator(".rcnb-progress").inner_text() == "12/12 done"
    assert view.locator(".rcnb-cost").inner_text() == "$0.48"
    metas = view.locator(".rcnb-cell-meta").all_inner_texts()
    assert metas[:4] == ["seed 1 · $0.040", "seed 2 · $0.040", "seed 3 · $0.040", "seed 4 · $0.040"], metas
    first = view.locator(".rcnb-thumb img").first
    loaded = wait_image_loaded(nb, first)
    assert (loaded["naturalWidth"], loaded["naturalHeight"]) == (1024, 1024)
    # readable at Lab's default width: four thumbnails side by side, each big enough to see what changed
    assert loaded["width"] >= 180, loaded
    # the static copy (for the saved notebook) stays hidden under the live grid
    states = nb.outputs(2).evaluate_all(OUTPUT_STATES)
    assert [s["display"] == "none" for s in states if s["static"]] == [True], states
    view.scroll_into_view_if_needed()
    nb.screenshot("sweep_2_completed", view)

    # --- the viewer: opens on click, arrow keys move between cells, Esc closes
    view.locator(".rcnb-thumb").nth(0).click()
    viewer = view.locator(".rcnb-viewer")
    viewer.wait_for()
    facts = viewer.locator(".rcnb-viewer-facts")
    assert facts.inner_text().startswith("#1 · completed")
    wait_image_loaded(nb, viewer.locator("img.rcnb-viewer-media"))
    assert "deep winter snow" in viewer.locator(".rcnb-viewer-inputs").inner_text()
    nb.screenshot("sweep_3_viewer", view)
    nb.page.keyboard.press("ArrowRight")
    assert facts.inner_text().startswith("#2 ")
    nb.page.keyboard.press("ArrowDown")
    assert facts.inner_text().startswith("#6 ")
    assert "warm summer rain" in viewer.locator(".rcnb-viewer-inputs").inner_text()
    nb.page.keyboard.press("ArrowLeft")
    assert facts.inner_text().startswith("#5 ")

    # --- "Use as input": this output's URL goes into an edit form shown under the grid
    viewer.locator("select.rcnb-target").select_option(KONTEXT)
    viewer.locator(".rcnb-use").click()
    form = nb.outputs(2).locator(".rcnb-form")
    form.wait_for(timeout=15_000)  # visible: the form's own static copy must not hide the area it is shown in
    assert form.locator(".rcnb-field[data-key='seed'] select.rcnb-seed-mode").input_value() == "fixed"
    url_box = form.locator(".rcnb-field[data-key='image_url'] .rcnb-url")
    wait_until(lambda: url_box.input_value().startswith(bsim.base_url), "the form has the output's URL")
    assert form.locator(".rcnb-field[data-key='image_url'] .rcnb-preview img").count() == 1
    nb.screenshot("sweep_3b_use_as_input", form)
    viewer.locator(".rcnb-close").click()
    assert view.locator(".rcnb-viewer").count() == 0
    view.locator(".rcnb-thumb").nth(3).click()  # Esc closes the viewer too
    viewer.wait_for()
    nb.page.keyboard.press("Escape")
    assert view.locator(".rcnb-viewer").count() == 0

    # --- compare two cells of the same size: the before/after slider
    view.locator(".rcnb-pick").nth(0).check()
    view.locator(".rcnb-pick").nth(4).check()
    view.locator(".rcnb-compare-btn", has_text="Compare (2)").click()
    panel = view.locator(".rcnb-compare-panel")
    slider = panel.locator("input.rcnb-cmp-range")
    slider.wait_for(timeout=15_000)
    assert slider.is_visible()
    assert slider.evaluate("e => e.getBoundingClientRect().bottom <= innerHeight"), "the slider fits on screen"
    box = slider.bounding_box()
    picture = panel.locator(".rcnb-cmp-stack .rcnb-cmp-media").first.bounding_box()
    # the track spans the picture, no wider: 50% on the slider is the picture's middle
    assert abs(box["x"] - picture["x"]) <= 2 and abs(box["width"] - picture["width"]) <= 2, (box, picture)
    nb.page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2)  # a person clicks the track
    position = int(slider.input_value())
    assert 10 <= position <= 30, position
    clip = panel.locator(".rcnb-cmp-after").evaluate("e => e.style.clipPath")
    assert clip == f"inset(0px 0px 0px {position}%)", clip
    nb.screenshot("sweep_4_compare", view)
    panel.locator(".rcnb-close").click()
    assert not nb.unexpected_errors(), nb.errors

    # --- save, shut the kernel down, reload: the static copy shows the final grid with its thumbnails
    path = lab_server.root / "sweep.ipynb"
    nb.page.keyboard.press("Escape")
    nb.page.keyboard.press("Control+s")
    outputs = wait_saved(path, lambda outs: any("12/12" in h and h.count("data:image/jpeg;base64,") == 12
                                                for h in static_html(outs[2])), timeout=30)
    assert "waiting" not in static_html(outputs[2])[0]
    nb.command("kernelmenu:shutdown")
    nb.page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text="No Kernel").wait_for()
    nb.page.reload()
    nb.wait_idle()
    copy = nb.outputs(2).locator(".rcnb-static")
    copy.wait_for()
    assert nb.page.locator(".rcnb-root").count() == 0, "no live widget after the reload"
    states = nb.outputs(2).evaluate_all(OUTPUT_STATES)
    # only the copy shows: the dead grid and the dead form area ("Error displaying widget") are hidden
    assert [s["display"] != "none" for s in states] == [s["static"] and "12/12" in s["text"] for s in states], states
    assert "12/12" in copy.inner_text()
    thumbs = copy.locator("img")
    assert thumbs.count() == 12
    wait_image_loaded(nb, thumbs.nth(11))
    copy.scroll_into_view_if_needed()
    nb.screenshot("sweep_5_reopened", copy)
    assert not nb.unexpected_errors(), nb.errors


def test_cancel_all_over_a_paused_queue(lab_server: Any, open_notebook: Any, bsim: Any) -> None:
    bsim.configure(paused=True)
    nb = open_notebook(lab_server, "sweep_cancel.ipynb", [
        PROMPTS_CELL,
        f'%runcomfy sweep {KONTEXT} prompt=@prompts seed=1..2 image_url=@photo --max-in-flight 2 -o held',
        'assert [j.status for j in held.jobs] == ["cancelled"] * 6, held.jobs',
    ])
    for index in range(3):
        nb.run(index)
    view = nb.outputs(2).locator(".rcnb-sweep")
    view.locator(".rcnb-badge", has_text="waiting (not sent)").nth(3).wait_for()
    wait_until(lambda: len(bsim.jobs()) == 2, "two jobs queued on the simulator")
    view.locator(".rcnb-progress", has_text="2 queued").wait_for()
    cancel_all = view.locator(".rcnb-cancel-all")
    assert cancel_all.is_enabled()
    cancel_all.click()
    view.locator(".rcnb-progress", has_text="6 cancelled").wait_for(timeout=15_000)
    assert cell_statuses(view) == ["cancelled"] * 6
    assert not cancel_all.is_enabled(), "nothing left to cancel"
    counters = bsim.counters()
    assert counters["submits_received"] == 2 and counters["jobs"] == {"cancelled": 2}, counters
    assert [j["status"] for j in bsim.jobs()] == ["cancelled", "cancelled"], "nothing left queued on the server"
    nb.screenshot("sweep_6_cancelled", view)
    nb.run(3)
    assert not nb.unexpected_errors(), nb.errors
