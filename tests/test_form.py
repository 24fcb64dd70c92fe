"""ModelForm on the Python side: offline from the shipped schemas, examples as placeholders, local media."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import runcomfy_nb as rc
from runcomfy_nb import config

DREAMINA = "bytedance/dreamina-4-0/text-to-image"
I2V = "community/wan-2-1/fusionx/image-to-video"


def test_offline_form_renders_validates_and_says_what_is_missing_at_submit(sim: Any) -> None:
    config.clear_simulator()
    form = rc.form(DREAMINA)  # no token, no simulator: still a form
    assert [f["key"] for f in form.fields] == ["prompt", "width×height", "scale", "force_single"]
    prompt = form.fields[0]
    assert prompt["example"] == "A beautiful girl is walking on the street" and "default" not in prompt
    assert "prompt" not in form.values and form.values["width×height"] == "2048x2048(1:1)"
    assert form.submit() is None
    assert form.errors["prompt"].startswith("prompt: required — fill this in (e.g. 'A beautiful girl")
    form.values = {**form.values, "prompt": "a paper crane"}
    assert form.errors == {}
    assert form.submit() is None
    assert "No RunComfy API token" in form.errors["_form"] and "%runcomfy sim on" in form.errors["_form"]
    assert sim.counters()["requests"]["POST submit"] == 0
    config.set_simulator(sim.base_url)  # started later: the same form now submits there
    try:
        job = form.submit()
        assert job is not None and job.wait(timeout=60) and form.simulator
        assert job.inputs["prompt"] == "a paper crane"
        assert sim.counters()["requests"]["POST submit"] == 1
    finally:
        config.clear_simulator()


def test_required_example_media_stays_empty_and_local_files_preview(tmp_path: Path) -> None:
    from PIL import Image

    form = rc.form(I2V)
    image = {f["key"]: f for f in form.fields}["608_image"]
    assert image["example"] == "RunComfy_examples_1235_1.png" and "608_image" not in form.values
    assert "600_prompt" not in form.values and form.values["598_steps"] == 10
    assert set(form.problems()) == {"600_prompt", "608_image"}
    still = tmp_path / "still.png"
    Image.new("RGB", (48, 32), "teal").save(still)
    from_path = rc.form(I2V, **{"608_image": str(still)})
    assert from_path.values["608_image"].startswith("data:image/png;base64,")
    from_pil = rc.form(I2V, **{"608_image": Image.new("RGB", (8, 8), "red")})
    assert from_pil.values["608_image"].startswith("data:image/png;base64,")
    missing = rc.form(I2V, **{"608_image": str(tmp_path / "nope.png")})
    assert "608_image" in missing.errors  # said on the field, not raised


def test_unknown_model_form_is_an_error_with_suggestions() -> None:
    with pytest.raises(rc.NotFoundError, match="did you mean 'bytedance/dreamina-4-0/text-to-image'"):
        rc.form("bytedance/dreamina-4-1/text-to-image")


def test_a_run_that_changes_is_rendered_again_alone(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import TEST_TOKEN

    from runcomfy_nb import _loop, modelform

    client = rc.Client(token=TEST_TOKEN, base_url=sim.base_url)
    try:
        form = rc.form(DREAMINA, client=client, prompt="a paper crane")
        jobs = [form.submit() for _ in range(6)]
        for job in jobs:
            assert job is not None and job.wait(timeout=60)
        rendered: list[str] = []
        real = modelform.job_state
        monkeypatch.setattr(modelform, "job_state", lambda job, labels: rendered.append(job.local_id) or real(job, labels))
        before = list(form.history)
        _loop.run_sync(_change(jobs[2]), timeout=30)  # one run changes (a note appears on it)
        assert rendered == [jobs[2].local_id]  # the other five entries are reused, not rebuilt
        changed = [i for i in range(6) if form.history[i] != before[i]]
        assert changed == [3]  # newest first: jobs[2] is the fourth entry
    finally:
        client.close()


async def _change(job: Any) -> None:
    job._set(cancel_note="not cancellable — already running")
