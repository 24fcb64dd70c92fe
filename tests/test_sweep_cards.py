"""Issue 10 on the single-job cards: JobView's cost, seed and "reused from … / Run again", and the form's seed
control (fixed / increment / randomize) with the seed sent and the cost on every history card."""

from __future__ import annotations

import html
from typing import Any

import pytest
from conftest import send, until
from PIL import Image

from runcomfy_nb import widgets
from runcomfy_nb._render import job_html
from runcomfy_nb.modelform import ModelForm
from runcomfy_nb.widgets import JobView

KONTEXT = "blackforestlabs/flux-1-kontext/pro/edit"
WAN_T2I = "wan-ai/wan-2-5/text-to-image"
RED = Image.new("RGB", (64, 48), (200, 30, 30))


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


# --- ModelForm -----------------------------------------------------------------------------------------------

def kontext_form(client: Any, **initial: Any) -> ModelForm:
    return ModelForm(KONTEXT, client, prompt="make it winter", image_url=RED, **initial)


def test_every_seed_field_gets_a_control_fixed_by_default(client: Any) -> None:
    assert kontext_form(client).seed_modes == {"seed": "fixed"}
    assert ModelForm(WAN_T2I, client).seed_modes == {}  # no seed field, no control
    with pytest.raises(Exception, match=r"seed_modes: 'seed' must be one of .*'fixed', 'increment', 'randomize'.*'often'"):
        kontext_form(client).seed_modes = {"seed": "often"}
    with pytest.raises(Exception, match=r"seed_modes: 'prompt' must be one of the model's seed fields \['seed'\]"):
        kontext_form(client).seed_modes = {"prompt": "fixed"}


def test_increment_sends_the_seed_shown_then_moves_it_on(client: Any, sim: Any) -> None:
    form = kontext_form(client, seed=100)
    form.seed_modes = {"seed": "increment"}
    first = form.submit()
    assert first is not None and first.inputs["seed"] == 100 and form.values["seed"] == 101
    second = form.submit()
    assert second is not None and second.inputs["seed"] == 101 and form.values["seed"] == 102
    first.wait(timeout=60), second.wait(timeout=60)
    until(lambda: [h["status"] for h in form.history] == ["completed", "completed"] and all(h["cost"] for h in form.history))
    assert [h["seed"] for h in form.history] == [101, 100]  # the seed actually sent, on every card
    assert all(h["cost"] == pytest.approx(j.cost) for h, j in zip(form.history, form.jobs, strict=True))
    assert sim.counters()["submits_received"] == 2


def test_randomize_picks_a_seed_even_for_an_empty_box_and_the_card_shows_it(client: Any) -> None:
    form = kontext_form(client, seed=rc_seed_control("randomize"))
    assert form.seed_modes == {"seed": "randomize"} and isinstance(form.values["seed"], int)
    shown = form.values["seed"]
    job = form.submit()
    assert job is not None and job.inputs["seed"] == shown
    sent = [shown]
    form.values = {**form.values, "seed": None}  # emptied: a random seed is still chosen and recorded
    job2 = form.submit()
    assert job2 is not None and isinstance(job2.inputs["seed"], int)
    sent.append(job2.inputs["seed"])
    until(lambda: [h["seed"] for h in form.history] == sent[::-1])
    job.wait(timeout=60), job2.wait(timeout=60)


def test_fixed_keeps_the_seed_and_an_identical_run_is_reused_then_run_again_from_the_history(client: Any,
                                                                                               sim: Any) -> None:
    form = kontext_form(client, seed=9)
    first = form.submit()
    assert first is not None
    first.wait(timeout=60)
    reused = form.submit()
    assert reused is not None and reused.reused and form.values["seed"] == 9
    until(lambda: form.history[0]["reused"] and form.history[0]["reused_from"])
    assert sim.counters()["submits_received"] == 1
    send(form, {"type": "run_again", "local_id": reused.local_id})
    assert len(form.jobs) == 3 and not form.jobs[0].reused and form.jobs[0].inputs == reused.inputs
    form.jobs[0].wait(timeout=60)
    assert sim.counters()["submits_received"] == 2
    until(lambda: form.history[0]["status"] == "completed" and not form.history[0]["reused"])


def rc_seed_control(mode: str, value: int | None = None) -> Any:
    import runcomfy_nb as rc

    return rc.seed_control(mode, value)


# --- the form's run list: the compact gallery (issue 11) -----------------------------------------------------

def test_the_saved_copy_of_a_form_shows_its_runs_as_a_compact_grid_with_embedded_thumbnails(
        client: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from runcomfy_nb.config import settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings, "autosave_dir", str(tmp_path / "runcomfy_outputs"))
    form = kontext_form(client, seed=rc_seed_control("increment", 100))
    for _ in range(2):
        job = form.submit()
        assert job is not None
        job.wait(timeout=60)
    until(lambda: all(j.outputs and j.outputs[0].thumb for j in form.jobs))  # saved on completion, then thumbnailed
    copy = form._fallback_html()
    assert copy.count("class='rcnb-run-tile'") == 2 and "class='rcnb-job'" not in copy  # no full-size cards
    assert copy.index("seed 101") < copy.index("seed 100")  # newest first
    assert all(f"${j.cost:.3f}" in copy for j in form.jobs)
    assert copy.count("data:image/webp;base64,") + copy.count("data:image/jpeg;base64,") == 2
    assert "2 runs (2 completed)" in copy and copy.count(">make it winter</div>") == 2
    assert len(copy) < 40_000  # compact: two small thumbnails, not two full cards


def test_a_failed_run_keeps_its_error_in_the_saved_tile(client: Any) -> None:
    form = ModelForm(KONTEXT, client, prompt="<b>sim:fail</b>", image_url=RED)
    job = form.submit()
    assert job is not None
    until(lambda: job.status == "failed")
    copy = form._fallback_html()
    assert "data-status='failed'" in copy and ">failed</span>" in copy
    assert "SIM_REQUESTED_FAILURE" in job.error and html.escape(job.error[:40], quote=True) in copy
    assert "<b>sim:fail</b>" not in copy


def test_use_as_input_puts_a_runs_result_into_the_forms_image_field(client: Any) -> None:
    form = kontext_form(client, seed=4)
    job = form.submit()
    assert job is not None
    job.wait(timeout=60)
    send(form, {"type": "use_as_input", "local_id": job.local_id, "output_index": "nonsense"})
    until(lambda: form.values["image_url"] == job.outputs[0].url)
    assert form.values["prompt"] == "make it winter"  # only the image field changed
    text_only = ModelForm(WAN_T2I, client, prompt="a fox")
    before = dict(text_only.values)
    text_only.use_as_input(job)  # no image field: nothing to fill
    assert text_only.values == before
