"""A form's runs change one at a time in a real JupyterLab page (item messages, js/list_items.js): queued tiles turn
completed in place, a second display of the same form shows every run's latest state, and so does the page after
a reload while the kernel lives (the views are rebuilt from the kernel's state)."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import WAN

pytestmark = pytest.mark.browser

TILES = ".rcnb-history .rcnb-gallery-tile"


def test_runs_update_in_place_and_a_later_view_or_a_reload_sees_the_latest(lab_server: Any, open_notebook: Any,
                                                                           bsim: Any) -> None:
    bsim.configure(time_scale=0.2, paused=True)
    nb = open_notebook(lab_server, "form_items.ipynb", [
        f'form = rc.form("{WAN}")\nform',
        'for p in ("a heron", "an owl", "a hare"):\n    form.values = {**form.values, "prompt": p}\n    form.submit()',
        "form  # the same form displayed again, after its runs changed",
    ])
    nb.run(0)  # the setup cell
    nb.run(1)
    nb.run(2)
    first = nb.outputs(1).locator(".rcnb-form")
    first.locator(f"{TILES}[data-status='in queue']").nth(2).wait_for(timeout=30_000)
    bsim.configure(paused=False)
    first.locator(f"{TILES}[data-status='completed']").nth(2).wait_for(timeout=60_000)
    assert first.locator(TILES).count() == 3
    assert first.locator(".rcnb-gallery-status").count() == 0, "no run still says queued"
    nb.run(3)
    second = nb.outputs(3).locator(".rcnb-form")
    second.locator(f"{TILES}[data-status='completed']").nth(2).wait_for(timeout=30_000)
    assert second.locator(TILES).count() == 3
    nb.screenshot("form_items_second_view", second)

    nb.page.keyboard.press("Escape")
    nb.page.keyboard.press("Control+s")
    nb.page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    nb.page.reload()
    nb.wait_idle()
    for index in (1, 3):
        view = nb.outputs(index).locator(".rcnb-form")
        view.locator(f"{TILES}[data-status='completed']").nth(2).wait_for(timeout=30_000)
        assert view.locator(TILES).count() == 3 and view.locator(".rcnb-gallery-status").count() == 0
    nb.screenshot("form_items_after_reload", nb.outputs(1).locator(".rcnb-form"))
    assert not nb.unexpected_errors(), nb.errors
