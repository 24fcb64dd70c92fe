"""ModelForm in a real JupyterLab 4 page: fill, pick, submit from the UI → a run in the history with its image;
invalid values → inline error, Submit disabled, nothing sent; one control of the right kind per field for every
seed model (the reframe form's 69-option select and JSON fields, the image-to-video form); a fresh form shows no
error until a field is touched or Submit is pressed, shows keys and example placeholders, previews local files,
and works offline (saying at submit time that no token or simulator is set)."""

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
    # the run list is the compact gallery: a tile per run, a click opens the full size with its inputs
    run = form.locator(".rcnb-history .rcnb-gallery-tile")
    run.first.wait_for(timeout=15_000)
    form.locator(".rcnb-history .rcnb-gallery-tile[data-status='completed']").wait_for(timeout=30_000)
    assert run.count() == 1
    assert bsim.counters()["submits_received"] == received + 1
    run.first.click()
    viewer = form.locator(".rcnb-history .rcnb-gallery-viewer")
    loaded = wait_image_loaded(nb, viewer.locator("img.rcnb-gallery-full"))
    assert (loaded["naturalWidth"], loaded["naturalHeight"]) == (1440, 960)
    labels, values = viewer.locator(".rcnb-gallery-inputs dt").all_inner_texts(), viewer.locator(".rcnb-gallery-inputs dd").all_inner_texts()
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

    # More runs stay a compact grid (four full-size cards were a 3,000 px scroll), newest first.
    for text in ("a grey heron in the reeds", "a snow owl at dusk", "a hare in the frost"):
        prompt.fill(text)
        expect(submit).to_be_enabled()
        submit.click()
    form.locator(".rcnb-history .rcnb-gallery-tile[data-status='completed']").nth(3).wait_for(timeout=60_000)
    assert run.count() == 4
    assert run.first.get_attribute("title") == "a hare in the frost"
    tile_box = run.first.bounding_box()
    assert tile_box is not None and tile_box["height"] < 200, tile_box
    history_box = form.locator(".rcnb-history .rcnb-gallery-grid").bounding_box()
    assert history_box is not None and history_box["height"] < 400, history_box
    run.first.click()
    wait_image_loaded(nb, viewer.locator("img.rcnb-gallery-full"))
    nb.screenshot("4c_form_completed_run", form.locator(".rcnb-history"))

    # A queued run: its tile says so and carries a Cancel button; the cancel names the run, and it goes away.
    bsim.configure(paused=True)
    prompt.fill("a queued run to cancel")
    expect(submit).to_be_enabled()
    submit.click()
    queued = form.locator(".rcnb-history .rcnb-gallery-tile[data-status='in queue']")
    queued.wait_for(timeout=15_000)
    assert queued.locator(".rcnb-gallery-status").inner_text().startswith("queued")
    nb.screenshot("4c2_form_queued_run", form.locator(".rcnb-history"))
    form.locator(".rcnb-history .rcnb-gallery-tile-cancel").click()
    form.locator(".rcnb-history .rcnb-gallery-tile[data-status='cancelled']").wait_for(timeout=15_000)
    assert form.locator(".rcnb-history .rcnb-gallery-tile-cancel").count() == 0
    assert bsim.counters()["cancels"]["cancelled"] == 1
    bsim.configure(paused=False)


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
            key_text = label.locator(".rcnb-key").all_inner_texts()
            assert key_text == ([spec["key"]] if spec["label"] != spec["key"] else []), where  # small, beside the title
            title = label.inner_text().replace("*", "")
            assert title.replace(spec["key"], "").strip() == spec["label"], where
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


def test_form_quiet_until_touched_with_keys_placeholders_and_thumbnails(lab_server: Any, open_notebook: Any,
                                                                      bsim: Any, tmp_path: Any) -> None:
    from PIL import Image

    picked = tmp_path / "picked.png"
    Image.new("RGB", (80, 60), "orange").save(picked)
    nb = open_notebook(lab_server, "form_ux.ipynb", [
        f'video = rc.form("{I2V}")\nvideo',
        'from PIL import Image\nImage.new("RGB", (96, 64), "teal").save("still.png")\n'
        f'local = rc.form("{I2V}", **{{"608_image": "still.png"}})\nlocal',
        f'config.clear_simulator()  # no token, no simulator\noffline = rc.form("{DREAMINA}")\noffline',
        'print(f"video={len(video.jobs)} offline={len(offline.jobs)}", sorted(video.errors))',
    ])
    for index in range(4):
        nb.run(index)
    received = bsim.counters()["submits_received"]

    # A fresh form: nothing red, Submit enabled, title + key on every field, examples only as placeholders.
    video = nb.outputs(1).locator(".rcnb-form")
    video.wait_for()
    assert video.locator(".rcnb-field-error:visible").count() == 0
    assert not video.locator(".rcnb-form-error").is_visible()
    expect(video.locator(".rcnb-submit")).to_be_enabled()
    for key in ("600_prompt", "608_image", "602_widthx602_height", "598_cfg"):
        assert field(video, key).locator(".rcnb-key").inner_text() == key
    assert field(video, "602_widthx602_height").locator("label").inner_text().startswith("Resolution (W:H)")
    prompt = field(video, "600_prompt").locator("textarea")
    assert prompt.input_value() == "" and prompt.get_attribute("placeholder").startswith("A close-up shot")
    url = field(video, "608_image").locator("input.rcnb-url")
    assert url.input_value() == "" and "RunComfy_examples_1235_1.png" in url.get_attribute("placeholder")
    nb.screenshot("4f_form_fresh_no_errors", video)

    # Touching one field shows only its error; Submit shows the rest and sends nothing.
    steps = field(video, "598_steps").locator("input[type='number']")
    steps.fill("99")
    field(video, "598_steps").locator(".rcnb-field-error").filter(has_text="must be ≤ 20").wait_for(timeout=10_000)
    assert not field(video, "600_prompt").locator(".rcnb-field-error").is_visible()
    steps.fill("12")
    field(video, "598_steps").locator(".rcnb-field-error").wait_for(state="hidden", timeout=10_000)
    video.locator(".rcnb-submit").click()
    field(video, "600_prompt").locator(".rcnb-field-error").filter(has_text="required").wait_for(timeout=10_000)
    field(video, "608_image").locator(".rcnb-field-error").filter(has_text="required").wait_for(timeout=10_000)
    nb.screenshot("4g_form_submit_shows_required", video)

    # A file picked in the page shows its thumbnail at once.
    field(video, "608_image").locator("input[type='file']").set_input_files(str(picked))
    thumb = field(video, "608_image").locator(".rcnb-preview img")
    loaded = wait_image_loaded(nb, thumb)
    assert (loaded["naturalWidth"], loaded["naturalHeight"]) == (80, 60)
    field(video, "608_image").locator(".rcnb-field-error").wait_for(state="hidden", timeout=10_000)
    assert field(video, "608_image").locator(".rcnb-chip-text").inner_text().startswith("picked.png (")

    # A local file given from Python: a thumbnail too (not "<inline image/png …>").
    local = nb.outputs(2).locator(".rcnb-form")
    loaded = wait_image_loaded(nb, field(local, "608_image").locator(".rcnb-preview img"))
    assert (loaded["naturalWidth"], loaded["naturalHeight"]) == (96, 64)
    nb.screenshot("4h_form_local_file_thumbnail", field(local, "608_image"))

    # Offline: the form renders from the shipped schema; Submit says what is missing, nothing is sent.
    offline = nb.outputs(3).locator(".rcnb-form")
    assert not offline.locator(".rcnb-sim").is_visible()
    field(offline, "prompt").locator("textarea").fill("a paper crane")
    offline.locator(".rcnb-submit").click()
    offline.locator(".rcnb-form-error").filter(has_text="No RunComfy API token").wait_for(timeout=10_000)
    assert "%runcomfy sim on" in offline.locator(".rcnb-form-error").inner_text()
    nb.screenshot("4i_form_offline_submit", offline)
    nb.run(4)
    assert "video=0 offline=0" in nb.outputs(4).inner_text()
    assert bsim.counters()["submits_received"] == received
    assert not nb.unexpected_errors(), nb.errors
