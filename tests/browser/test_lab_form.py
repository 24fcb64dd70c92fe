"""ModelForm in a real JupyterLab 4 page: fill, pick, submit from the UI → a run in the history with its image;
invalid values → inline error, Submit disabled, nothing sent; one control of the right kind per field for every
seed model (the reframe form's 69-option select and JSON fields, the image-to-video form)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from runcomfy_nb import schemas

from .helpers import WAN, wait_image_loaded

pytestmark = pytest.mark.browser

DREAMINA = "bytedance/dreamina-4-0/text-to-image"
REFRAME = "ideogram/ideogram-v3/reframe"
I2V = "community/wan-2-1/fusionx/image-to-video"
SEED_MODELS = [m["model_id"] for m in schemas.shipped_models()]


def field(form: Any, key: str) -> Any:
    return form.locator(f".rcnb-field[data-key='{key}']")


def test_form_submit_from_the_ui_and_invalid_values(lab_server: Any, open_notebook: Any, bsim: Any) -> None:
    bsim.configure(time_scale=0.3)
    nb = open_notebook(lab_server, "form.ipynb", [
        f'form = rc.form("{WAN}")\nform',
        'print(f"runs={len(form.jobs)}", form.jobs[0].inputs if form.jobs else None)',
        f'dream = rc.form("{DREAMINA}", prompt="a lighthouse")\ndream',
        'print(f"runs={len(dream.jobs)}")',
    ])
    nb.run(0)
    nb.run(1)
    form = nb.outputs(1).locator(".rcnb-form")
    form.wait_for()
    assert form.locator(".rcnb-title").inner_text() == "Wan 2.5 · text to image"
    assert form.locator(".rcnb-sim").is_visible()
    submit = form.locator(".rcnb-submit")

    prompt = field(form, "prompt").locator(".rcnb-input")
    prompt.fill("a red fox at dawn, from the form")
    field(form, "aspect_ratio").locator("select").select_option(label="1440:960 (3:2)")
    expect(submit).to_be_enabled()  # once Python has validated the new values (typing is sent after 200 ms)
    received = bsim.counters()["submits_received"]
    submit.click()  # flushes the debounced typing first, then sends "submit"
    run = form.locator(".rcnb-history .rcnb-card")
    run.first.wait_for(timeout=15_000)
    form.locator(".rcnb-history .rcnb-card[data-status='completed']").wait_for(timeout=30_000)
    assert run.count() == 1
    assert bsim.counters()["submits_received"] == received + 1
    loaded = wait_image_loaded(nb, run.locator("img.rcnb-media"))
    assert (loaded["naturalWidth"], loaded["naturalHeight"]) == (1440, 960)
    labels, values = run.locator(".rcnb-inputs dt").all_inner_texts(), run.locator(".rcnb-inputs dd").all_inner_texts()
    summary = dict(zip(labels, values, strict=True))
    assert summary["Prompt"] == "a red fox at dawn, from the form", summary
    assert "1440:960 (3:2)" in summary.values(), summary
    nb.run(2)
    kernel_says = nb.outputs(2).inner_text()
    assert "1440:960 (3:2)" in kernel_says and "a red fox at dawn, from the form" in kernel_says

    # Too long a prompt (maxLength 2048): the counter turns red, Python's error shows inline, Submit is disabled
    # and nothing reaches the API even if the button is pressed.
    prompt.fill("x" * 2049)
    prompt_error = field(form, "prompt").locator(".rcnb-field-error")
    prompt_error.filter(has_text="at most 2048 characters").wait_for(timeout=10_000)
    assert field(form, "prompt").locator(".rcnb-counter").inner_text() == "2049 / 2048"
    assert "rcnb-over" in field(form, "prompt").locator(".rcnb-counter").get_attribute("class")
    expect(submit).to_be_disabled()
    received = bsim.counters()["submits_received"]
    submit.click(force=True)
    nb.run(2)  # the kernel has handled every message sent before this cell
    assert "runs=1 " in nb.outputs(2).inner_text(), "still one run"
    assert bsim.counters()["submits_received"] == received
    nb.screenshot("4a_form_invalid_prompt", form)

    # Dreamina's scale must be within 0..1: typing 1.5 in its box is refused inline the same way.
    nb.run(3)
    dream = nb.outputs(3).locator(".rcnb-form")
    scale = field(dream, "scale")
    assert scale.locator("input[type='range']").count() == 1
    scale.locator("input[type='number']").fill("1.5")
    scale.locator(".rcnb-field-error").filter(has_text="must be ≤ 1").wait_for(timeout=10_000)
    expect(dream.locator(".rcnb-submit")).to_be_disabled()
    dream.locator(".rcnb-submit").click(force=True)
    nb.run(4)
    assert "runs=0" in nb.outputs(4).inner_text()
    assert bsim.counters()["submits_received"] == received
    nb.screenshot("4b_form_invalid_scale", dream)
    # Fixing it re-enables Submit.
    scale.locator("input[type='number']").fill("0.8")
    scale.locator(".rcnb-field-error").wait_for(state="hidden", timeout=10_000)
    expect(dream.locator(".rcnb-submit")).to_be_enabled()
    assert not nb.unexpected_errors(), nb.errors
    nb.screenshot("4c_form_completed_run", run)


# What each FieldSpec kind looks like in the page (docs/widgets.md, "Controls per kind").
CONTROL_CHECKS = {
    "text": "textarea.rcnb-input, input[type='text'].rcnb-input",
    "enum": "select.rcnb-input",
    "integer": "input[type='number'].rcnb-input",
    "number": "input[type='number'].rcnb-input",
    "seed": "input[type='number'].rcnb-input",
    "boolean": "input[type='checkbox']",
    "json": "textarea.rcnb-json",
    "media": "input.rcnb-url",
}


def test_every_seed_model_form_has_one_control_per_field(lab_server: Any, open_notebook: Any, bsim: Any) -> None:
    nb = open_notebook(lab_server, "forms.ipynb", [f'rc.form("{model}")' for model in SEED_MODELS])
    for index in range(len(SEED_MODELS) + 1):
        nb.run(index)
    for offset, model in enumerate(SEED_MODELS, start=1):
        form = nb.outputs(offset).locator(".rcnb-form")
        form.wait_for()
        expected = schemas.describe_fields(schemas.shipped_schema(model))
        rows = form.locator(".rcnb-field")
        assert rows.count() == len(expected), model
        assert [r.get_attribute("data-key") for r in rows.all()] == [f["key"] for f in expected]
        for spec, row in zip(expected, rows.all(), strict=True):
            kind = spec["kind"]
            where = f"{model} · {spec['key']}"
            assert row.get_attribute("data-kind") == kind, where
            assert row.locator(".rcnb-control").count() == 1, where
            assert row.locator(CONTROL_CHECKS[kind]).count() == 1, where
            label = row.locator("label.rcnb-label")
            assert label.inner_text().replace("*", "").strip() == spec["label"], where
            # the label points at the control (clicking it focuses the input)
            assert row.locator(f"#{label.get_attribute('for')}").count() == 1, where
            if kind == "enum":
                options = row.locator("option")
                assert options.count() == len(spec["choices"]) + 1, where  # + the blank "— unset —"/"— choose —"
                assert options.all_inner_texts()[1:] == [str(c) for c in spec["choices"]], where
            if kind in ("integer", "number"):
                bounded = spec.get("minimum") is not None and spec.get("maximum") is not None
                assert row.locator("input[type='range']").count() == (1 if bounded else 0), where
            if kind == "seed":
                assert row.locator(".rcnb-dice").count() == 1, where
            if kind == "media":
                assert row.locator("input[type='file']").count() == 1, where
            if kind == "text" and spec.get("max_length"):
                assert row.locator(".rcnb-counter").inner_text().endswith(f"/ {spec['max_length']}"), where
        assert form.locator(".rcnb-submit").count() == 1

    reframe = nb.outputs(1 + SEED_MODELS.index(REFRAME)).locator(".rcnb-form")
    resolution = field(reframe, "resolution").locator("select")
    assert resolution.locator("option").count() == 70  # 69 resolutions + the blank one (hidden: it is required)
    assert resolution.evaluate("s => s.options[s.selectedIndex].textContent") == "1152:864 (4:3)"
    resolution.select_option(label="1536:640 (12:5)")
    assert reframe.locator("textarea.rcnb-json").count() == 2
    style = field(reframe, "style").locator("textarea")
    style.fill('{"broken": ')
    field(reframe, "style").locator(".rcnb-field-error").filter(has_text="invalid JSON").wait_for()
    expect(reframe.locator(".rcnb-submit")).to_be_disabled()
    style.fill('{"mood": "calm"}')
    field(reframe, "style").locator(".rcnb-field-error").wait_for(state="hidden")
    nb.screenshot("4d_reframe_form", field(reframe, "resolution"))

    video = nb.outputs(1 + SEED_MODELS.index(I2V)).locator(".rcnb-form")
    kinds = [r.get_attribute("data-kind") for r in video.locator(".rcnb-field").all()]
    assert kinds == ["text", "media", "seed", "enum", "integer", "number", "number", "enum", "integer"]
    frames = field(video, "602_num_frames").locator("select")
    assert frames.locator("option").all_inner_texts()[1:] == ["81", "141"]
    assert bsim.counters()["submits_received"] == 0
    assert not nb.unexpected_errors(), nb.errors
    nb.screenshot("4e_image_to_video_form", video)
