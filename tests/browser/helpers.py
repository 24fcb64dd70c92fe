"""Shared by the browser tests: model ids, the hostile string, DOM waits, and the quickstart-style run that both
JupyterLab and Notebook 7 must pass."""

from __future__ import annotations

import time
from typing import Any

import httpx

WAN = "wan-ai/wan-2-5/text-to-image"
I2V = "community/wan-2-1/fusionx/image-to-video"
QUICKSTART_CELL = ('fox = %runcomfy wan-ai/wan-2-5/text-to-image prompt="a red fox at dawn, watercolor" '
                   'aspect_ratio="1440:810 (16:9)"')
HOSTILE = '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script>'


def hold_a_queue_slot(sim: Any, prompt: str = "someone else's job") -> str:
    """A job submitted straight to the simulator (as another user would), so ours waits behind it."""
    response = httpx.post(f"{sim.base_url}/v1/models/{WAN}", json={"prompt": prompt},
                          headers={"Authorization": "Bearer someone-else"})
    response.raise_for_status()
    return response.json()["request_id"]


def card_statuses(nb: Any, card: int = 0) -> list[str]:
    return [e["status"] for e in nb.status_log() if e["card"] == card]


def wait_image_loaded(nb: Any, image: Any) -> dict[str, Any]:
    image.scroll_into_view_if_needed()
    image.evaluate("img => img.decode ? img.decode().catch(() => null) : null")
    nb.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=20_000)
    return image.evaluate("""img => { const r = img.getBoundingClientRect();
        return {naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, width: r.width, height: r.height,
                src: img.src}; }""")


def wait_until(predicate: Any, what: str, timeout: float = 15) -> None:
    """For conditions outside the page (the simulator's state)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting until {what}")


def static_copy_hidden(cell: Any) -> bool:
    """The cell has a static copy, and it is hidden by its own <style> (`:has()`) while the live widget renders."""
    return cell.locator(".jp-OutputArea-child").evaluate_all("""els => {
        const copies = els.filter(e => e.querySelector('.rcnb-static'));
        return copies.length > 0 && copies.every(e => getComputedStyle(e).display === 'none'); }""")


def quickstart_run(nb: Any, sim: Any, shot: str) -> None:
    """A magic in a fresh notebook: in queue at position 2 → in progress → completed with its image loaded."""
    sim.configure(paused=True, time_scale=2.0)  # held in the queue; then a 6 s run, long enough to be seen
    hold_a_queue_slot(sim)
    nb.run(0)
    nb.run(1)
    view = nb.outputs(1).locator(".rcnb-jobview")
    card = view.locator(".rcnb-card")
    # one job ahead of ours (the held one): "position 2", with the number ahead in the tooltip
    queue = card.locator(".rcnb-queue")
    queue.filter(has_text="position 2").wait_for()
    assert card.get_attribute("data-status") == "in_queue"
    assert view.locator(".rcnb-status").inner_text() == "in queue"
    assert queue.get_attribute("title") == "1 job(s) ahead"
    assert view.locator(".rcnb-sim").is_visible(), "a job on the simulator says so"
    assert view.locator(".rcnb-cancel").is_enabled()
    assert static_copy_hidden(nb.cell(1))
    nb.screenshot(f"{shot}_in_queue", view)

    sim.configure(paused=False)
    nb.page.locator(".rcnb-jobview .rcnb-card[data-status='in_progress']").wait_for(timeout=20_000)
    assert not queue.is_visible(), "no queue position once running"
    assert not view.locator(".rcnb-cancel").is_enabled(), "a running job cannot be cancelled"
    nb.page.locator(".rcnb-jobview .rcnb-card[data-status='completed']").wait_for(timeout=30_000)
    assert card_statuses(nb) == ["in_queue", "in_progress", "completed"]
    assert view.locator(".rcnb-status").inner_text() == "completed"

    image = view.locator("img.rcnb-media")
    assert image.count() == 1
    loaded = wait_image_loaded(nb, image)
    assert (loaded["naturalWidth"], loaded["naturalHeight"]) == (1440, 810)
    assert loaded["src"].startswith(sim.base_url)
    assert abs(loaded["width"] / loaded["height"] - 1440 / 810) < 0.01, f"shown undistorted: {loaded}"
    elapsed = view.locator(".rcnb-elapsed").inner_text()
    assert elapsed.endswith(" s"), elapsed
    request_id = view.locator(".rcnb-reqid").inner_text()
    assert any(j["request_id"] == request_id and j["status"] == "succeeded" for j in sim.jobs())
    assert not nb.unexpected_errors(), nb.errors
    assert static_copy_hidden(nb.cell(1))
    nb.screenshot(f"{shot}_completed", view)
