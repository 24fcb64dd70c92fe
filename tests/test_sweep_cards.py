"""Issue 10 on the single-job cards: JobView's cost, seed and "reused from … / Run again", and the form's seed
control (fixed / increment / randomize) with the seed sent and the cost on every history card."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PIL import Image

from runcomfy_nb import widgets
from runcomfy_nb._render import job_html
from runcomfy_nb.modelform import ModelForm
from runcomfy_nb.widgets import JobView

KONTEXT = "blackforestlabs/flux-1-kontext/pro/edit"
WAN_T2I = "wan-ai/wan-2-5/text-to-image"
RED = Image.new("RGB", (64, 48), (200, 30, 30))


def until(predicate: Any, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("state not reached")
        time.sleep(0.02)


def send(view: Any, message: dict[str, Any]) -> None:
    view._on_front_end_message(view, message, [])


# --- JobView -------------------------------------------------------------------------------------------------

def test_jobview_shows_the_cost_and_the_seed_sent(client: Any) -> None:
    job = client.start(KONTEXT, prompt="winter", image_url=RED, seed=7)
    view = JobView(job)
    assert view.seed == 7 and view.cost is None and not view.reused
    job.wait(timeout=60)
    until(lambda: view.status == "completed")
    assert view.cost is not None and view.cost == pytest.approx(job.cost) and view.cost > 0
    assert f"${job.cost:.3f}" in job_html(job)


def test_a_reused_job_says_so_and_run_again_sends_it_fresh(client: Any, sim: Any) -> None:
    first = client.submit(KONTEXT, prompt="night", image_url=RED, seed=3)
    first.wait(timeout=60)
    again = client.start(KONTEXT, prompt="night", image_url=RED, seed=3)
    assert again.reused and sim.counters()["submits_received"] == 1
    view = widgets.show(again)
    assert view.reused and view.reused_from and view.reused_from != "earlier"
    assert view.cost == pytest.approx(first.cost)
    assert "reused from " + view.reused_from in job_html(again)
    assert again.inputs["image_url"].startswith("data:image/png;base64,")  # as sent, not the journal's digest

    send(view, {"type": "run_again"})
    fresh = view.job
    assert fresh is not again and not fresh.reused and view.earlier == [again]
    assert widgets.view_of(fresh) is view
    until(lambda: view.status == "completed" and view.request_id == fresh.request_id)
    assert sim.counters()["submits_received"] == 2 and fresh.request_id != first.request_id
    assert not view.reused and view.reused_from == "" and view.seed == 3
    assert fresh.inputs == again.inputs


def test_run_again_refused_by_the_budget_says_why_on_the_card(client: Any, sim: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from runcomfy_nb.config import settings

    first = client.submit(KONTEXT, prompt="rain", image_url=RED, seed=5)
    first.wait(timeout=60)
    view = JobView(client.start(KONTEXT, prompt="rain", image_url=RED, seed=5))
    monkeypatch.setattr(settings, "budget_usd", 0.0001)
    assert view.run_again() is None
    assert view.notice.startswith("Run again failed:") and "budget" in view.notice
    assert view.job.reused and sim.counters()["submits_received"] == 1
