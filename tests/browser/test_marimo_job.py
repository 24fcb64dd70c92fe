"""marimo: a bare `job` as a cell's last expression is the live JobView, from the queue to the finished picture.

A real `marimo run` app in Chromium: its cell starts the in-process simulator (paused, so the job is seen waiting),
submits one real job through `rc.submit` and leaves `job` as the cell's value (marimo calls `Job._display_`).
The test then lets the simulator run and watches the card, inside marimo's shadow root, go in queue →
in progress → completed with its image loaded; the card's Save button reaches Python through marimo's comm.
A second viewer (`marimo run` gives each browser tab its own session, as threads of one process) gets its own
working card: a widget model opened in the first session would be "not found" in the second.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .harness import ARTIFACTS, marimo_run
from .helpers import wait_until

pytestmark = pytest.mark.browser

APP = '''import marimo

app = marimo.App()


@app.cell
def _():
    from pathlib import Path

    import runcomfy_nb as rc

    sim = rc.sim.start(time_scale=1.0, paused=True)
    Path("sim_url.txt").write_text(sim.base_url)
    job = rc.submit("wan-ai/wan-2-5/text-to-image", prompt="a red fox at dawn")
    job
    return


if __name__ == "__main__":
    app.run()
'''

# Every status the card showed, in order: polled inside marimo's shadow roots, which a MutationObserver on the
# document does not see into.
STATUS_LOG = """() => {
  window.__statuses = [];
  const find = (root) => {
    for (const e of root.querySelectorAll('*')) {
      if (e.classList.contains('rcnb-card')) return e;
      if (e.shadowRoot) { const c = find(e.shadowRoot); if (c) return c; }
    }
    return null;
  };
  setInterval(() => {
    const card = find(document), log = window.__statuses;
    const status = card && card.dataset.status;
    if (status && log[log.length - 1] !== status) log.push(status);
  }, 25);
}"""


def _resume(base_url: str) -> None:
    request = urllib.request.Request(f"{base_url}/_sim/config", data=json.dumps({"paused": False}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response)["paused"] is False


def test_a_bare_job_in_marimo_goes_live_from_the_queue_to_its_picture(browser: Any, tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(APP)
    with marimo_run(app, log_name="marimo-job-server.log") as url:
        context = browser.new_context(viewport={"width": 1000, "height": 700})
        try:
            page = context.new_page()
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(error.message))
            page.goto(url)
            card = page.locator(".rcnb-card")  # Playwright's CSS locators pierce (open) shadow roots
            card.wait_for()
            page.evaluate(STATUS_LOG)
            page.wait_for_function("() => window.__statuses.includes('in_queue')")
            badge = card.locator(".rcnb-status")
            assert badge.inner_text().lower() == "in queue"
            # the bundle's CSS reached the shadow root: a styled, rounded badge, not bare text
            assert badge.evaluate("e => getComputedStyle(e).borderRadius") not in ("", "0px")
            assert card.locator(".rcnb-sim").is_visible()

            sim_file = tmp_path / "sim_url.txt"
            wait_until(sim_file.exists, "the app started the simulator")
            _resume(sim_file.read_text())
            page.wait_for_function("() => window.__statuses.includes('completed')")
            image = card.locator(".rcnb-outputs img")
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
            statuses = page.evaluate("() => window.__statuses")
            assert statuses == ["in_queue", "in_progress", "completed"], statuses
            assert badge.inner_text().lower() == "completed"
            assert "$0.030" in card.inner_text()  # the result's cost arrived after completion too

            card.locator("button.rcnb-save").click()  # a message from the page to Python, and the notice back
            notice = card.locator(".rcnb-notice")
            page.wait_for_function("el => el.textContent.startsWith('Saved 1 file')", arg=notice.element_handle())
            assert len(list((tmp_path / "runcomfy_outputs").glob("*.png"))) == 1
            page.screenshot(path=str(ARTIFACTS / "marimo_job.png"))

            # A second viewer: its own session runs the cell again (a new job, held in the queue again).
            second = context.new_page()
            second.set_default_timeout(60_000)
            second.on("pageerror", lambda error: errors.append(error.message))
            second.goto(url)
            other = second.locator(".rcnb-card")
            other.wait_for()
            assert other.locator(".rcnb-status").inner_text().lower() in ("in queue", "in progress", "completed")
            assert other.locator(".rcnb-reqid").inner_text() not in ("", card.locator(".rcnb-reqid").inner_text())
            assert "not found" not in second.locator("body").inner_text().lower()
            second.screenshot(path=str(ARTIFACTS / "marimo_job_second_viewer.png"))
            assert not errors, errors
        finally:
            context.close()
