"""JobView in a real JupyterLab 4 page: the live states with the queue position, image and video results loaded by
the browser, Cancel on queued and running jobs, live updates while another cell blocks, hostile text shown as text."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import (
    HOSTILE,
    I2V,
    QUICKSTART_CELL,
    WAN,
    card_statuses,
    quickstart_run,
    wait_image_loaded,
    wait_until,
)

pytestmark = pytest.mark.browser

def test_quickstart_run_walks_through_queue_progress_and_completed(lab_server: Any, open_notebook: Any, bsim: Any
                                                                    ) -> None:
    nb = open_notebook(lab_server, "quickstart_run.ipynb", [QUICKSTART_CELL])
    quickstart_run(nb, bsim, "1_lab_quickstart")


def test_image_to_video_plays_in_the_page(lab_server: Any, open_notebook: Any, bsim: Any) -> None:
    bsim.configure(time_scale=0.25)  # 8 s of "rendering" → 2 s (plus encoding 81 real frames)
    nb = open_notebook(lab_server, "image_to_video.ipynb", [
        'from PIL import Image, ImageDraw\n'
        'still = Image.new("RGB", (480, 480), "#1d3557")\n'
        'ImageDraw.Draw(still).ellipse((140, 140, 340, 340), fill="#e63946")',
        f'clip = %runcomfy {I2V} 608_image=@still 600_prompt="the red sun rises slowly" '
        '602_widthx602_height="480x480 (1:1)" 602_num_frames=81 609_frame_rate=16 598_steps=8',
    ])
    for index in range(3):
        nb.run(index)
    view = nb.outputs(2).locator(".rcnb-jobview")
    view.locator(".rcnb-card[data-status='completed']").wait_for(timeout=60_000)
    video = view.locator("video.rcnb-media")
    assert video.count() == 1
    video.scroll_into_view_if_needed()
    nb.page.wait_for_function("v => v.readyState >= 2", arg=video.element_handle(), timeout=20_000)
    info = video.evaluate("v => ({readyState: v.readyState, duration: v.duration, width: v.videoWidth, "
                          "height: v.videoHeight, controls: v.controls, src: v.src, error: v.error && v.error.code})")
    assert info["error"] is None and info["controls"], info
    assert (info["width"], info["height"]) == (480, 480), info
    assert abs(info["duration"] - 81 / 16) <= 1 / 16, f"81 frames at 16 fps = 5.0625 s: {info}"
    assert info["src"].startswith(bsim.base_url)
    # It really plays (muted, as autoplay rules want), then back to the first frame for the screenshot.
    video.evaluate("v => { v.muted = true; return v.play(); }")
    nb.page.wait_for_function("v => v.currentTime > 0.3", arg=video.element_handle(), timeout=10_000)
    video.evaluate("v => { v.pause(); v.currentTime = 0; }")
    assert card_statuses(nb)[-1] == "completed"
    assert not nb.unexpected_errors(), nb.errors
    nb.screenshot("2_image_to_video", video)


def test_cancel_a_queued_job_and_a_job_that_already_runs(lab_server: Any, open_notebook: Any, bsim: Any) -> None:
    bsim.configure(paused=True, time_scale=2.0)  # the queue is held: nothing starts
    nb = open_notebook(lab_server, "cancel.ipynb", [
        f'queued = %runcomfy {WAN} prompt="cancel me while I wait" aspect_ratio="1024:1024 (1:1)"',
        f'late = %runcomfy {WAN} prompt="too late to cancel" aspect_ratio="1024:1024 (1:1)"',
        'assert queued.status == "cancelled" and late.status == "completed", (queued, late)',
    ])
    nb.run(0)
    nb.run(1)
    first = nb.outputs(1).locator(".rcnb-jobview")
    first.locator(".rcnb-card[data-status='in_queue']").wait_for()
    cancel = first.locator(".rcnb-cancel")
    assert cancel.is_enabled() and cancel.inner_text() == "Cancel"
    cancel.click()
    first.locator(".rcnb-card[data-status='cancelled']").wait_for(timeout=15_000)
    assert first.locator(".rcnb-status").inner_text() == "cancelled"
    assert not cancel.is_visible(), "nothing left to cancel: the button goes away"
    assert bsim.counters()["cancels"] == {"cancelled": 1, "not_cancellable": 0}
    assert [j["status"] for j in bsim.jobs()] == ["cancelled"]
    nb.screenshot("3a_cancel_queued", first)

    # A running job: the widget disables Cancel once it shows "in progress" (the quickstart test checks that), so
    # "not cancellable" is what a click gets when it races the start: the widget still says "in queue" (here every
    # status poll is made to hang 6 s while the queue is released, the job starts, the person clicks); the API
    # answers not_cancellable and the widget says so.
    nb.run(2)
    second = nb.outputs(2).locator(".rcnb-jobview")
    second.locator(".rcnb-card[data-status='in_queue']").wait_for()
    slow_before = bsim.counters()["faults"].get("slow", 0)
    bsim.configure(faults={"rate": 0, "slow_seconds": 6}, fail_next={"status": 1000}, fail_next_kind="slow")
    wait_until(lambda: bsim.counters()["faults"].get("slow", 0) > slow_before, "a status poll is held")
    bsim.configure(paused=False)
    wait_until(lambda: any(j["status"] == "in_progress" for j in bsim.jobs()), "the job runs on the server")
    assert second.locator(".rcnb-card").get_attribute("data-status") == "in_queue"
    second.locator(".rcnb-cancel").click()
    note = second.locator(".rcnb-cancel-note")
    note.filter(has_text="not cancellable — already running").wait_for(timeout=15_000)
    bsim.configure(faults=None, fail_next={}, fail_next_kind="503")
    assert bsim.counters()["cancels"] == {"cancelled": 1, "not_cancellable": 1}, "exactly one cancel went through"
    assert not second.locator(".rcnb-cancel").is_enabled()
    second.locator(".rcnb-card[data-status='completed']").wait_for(timeout=30_000)
    assert note.inner_text() == "not cancellable — already running"
    assert "in_progress" in card_statuses(nb, 1)
    nb.run(3)
    assert bsim.counters()["cancels"] == {"cancelled": 1, "not_cancellable": 1}
    assert not nb.unexpected_errors(), nb.errors
    nb.screenshot("3b_cancel_running", second)


def test_the_widget_stays_live_while_another_cell_blocks(lab_server: Any, open_notebook: Any, bsim: Any) -> None:
    bsim.configure(paused=True, time_scale=0.5)  # queued until the sleeping cell runs, then a 1.5 s job
    nb = open_notebook(lab_server, "live_while_busy.ipynb", [
        f'fox = %runcomfy {WAN} prompt="a fox while the kernel sleeps" aspect_ratio="1024:1024 (1:1)"',
        "time.sleep(10)",
    ])
    nb.run(0)
    nb.run(1)
    view = nb.outputs(1).locator(".rcnb-jobview")
    view.locator(".rcnb-card[data-status='in_queue']").wait_for()
    nb.run(2, wait=False)
    assert nb.prompt(2) == "[*]:"
    bsim.configure(paused=False)
    view.locator(".rcnb-card[data-status='completed']").wait_for(timeout=9_000)
    wait_image_loaded(nb, view.locator("img.rcnb-media"))
    assert nb.prompt(2) == "[*]:", "the job completed in the page while the other cell was still running"
    assert nb.page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text="| Busy").count() == 1
    assert card_statuses(nb) == ["in_queue", "in_progress", "completed"]
    nb.screenshot("5_live_while_busy", view)
    nb.wait_done(2, timeout=20_000)
    assert not nb.unexpected_errors(), nb.errors


def test_hostile_text_is_shown_as_text(lab_server: Any, open_notebook: Any, bsim: Any) -> None:
    bsim.configure(time_scale=0.3)
    nb = open_notebook(lab_server, "hostile.ipynb", [
        f"hostile = {HOSTILE!r}\n"
        f'job = rc.Client().submit("{WAN}", {{"prompt": hostile, "aspect_ratio": "1024:1024 (1:1)"}})\n'
        "job",
        f'form = rc.form("{WAN}", prompt=hostile)\nform',
    ])
    for index in range(3):
        nb.run(index)
    view = nb.outputs(1).locator(".rcnb-jobview")
    view.locator(".rcnb-card[data-status='completed']").wait_for(timeout=30_000)
    form = nb.outputs(2).locator(".rcnb-form")
    prompt_box = form.locator(".rcnb-field[data-key='prompt'] .rcnb-input")
    assert prompt_box.input_value() == HOSTILE
    form.locator(".rcnb-submit").click()
    form.locator(".rcnb-history .rcnb-gallery-tile[data-status='completed']").wait_for(timeout=30_000)
    form.locator(".rcnb-history .rcnb-gallery-tile").first.click()  # the run list is a gallery: open the run

    prompts = view.locator(".rcnb-inputs dd").first
    assert prompts.inner_text() == HOSTILE and prompts.get_attribute("title") == HOSTILE
    assert form.locator(".rcnb-history .rcnb-gallery-inputs dd").first.inner_text() == HOSTILE
    # The static copies (hidden while the widgets live, rendered as trusted HTML by Lab) carry it as text too.
    static = nb.page.locator(".rcnb-static")
    assert static.count() == 2
    assert all(HOSTILE in text for text in static.evaluate_all("els => els.map(e => e.textContent)"))
    assert nb.page.evaluate("() => window.__pwned") is None
    assert nb.page.locator("img[src='x']").count() == 0
    scripts = nb.page.evaluate("() => [...document.scripts].filter(s => s.textContent.includes('__pwned')).length")
    assert scripts == 0
    assert not nb.unexpected_errors(), nb.errors
    nb.screenshot("6_hostile_text", view)
