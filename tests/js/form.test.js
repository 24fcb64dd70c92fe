import assert from "node:assert/strict";
import { describe, test } from "node:test";

import ModelForm, { TYPING_DEBOUNCE_MS } from "../../js/form.js";
import { fire, sleep, type, until, urlsIn, widgetRig } from "./dom.js";
import { seedModels } from "./schemas.js";

const HOSTILE = "<img src=x onerror=alert(1)>";
const MODELS = seedModels();
const byId = (id) => MODELS.find((m) => m.model_id === id);
const settle = () => sleep(TYPING_DEBOUNCE_MS + 60);

const rig = widgetRig();

/** Render a form for one of the seed models (or explicit fields). */
function mount(modelId, over = {}) {
  const m = byId(modelId);
  const { el, window, document, model, cleanup } = rig.render(ModelForm, {
    model_key: m.model_id,
    display_name: m.display_name,
    simulator: false,
    fields: m.fields,
    values: { ...m.defaults },
    errors: {},
    busy: false,
    history: [],
    ...over,
  });
  const row = (key) => el.querySelector(`.rcnb-field[data-key="${key}"]`);
  const submit = () => el.querySelector(".rcnb-submit");
  const values = () => model.get("values");
  return { el, window, document, model, cleanup, row, submit, values, m };
}

describe("one control of the right kind per field, for each seed schema", () => {
  for (const m of MODELS) {
    test(m.model_id, () => {
      const { el, row } = mount(m.model_id);
      assert.equal(el.querySelectorAll(".rcnb-field").length, m.fields.length);
      assert.equal(el.querySelectorAll(".rcnb-control").length, m.fields.length);
      for (const f of m.fields) {
        const r = row(f.key);
        assert.ok(r, `row for ${f.key}`);
        const controls = r.querySelectorAll(".rcnb-control");
        assert.equal(controls.length, 1, f.key);
        const c = controls[0];
        assert.equal(c.dataset.kind, f.kind, f.key);
        const label = r.querySelector("label.rcnb-label");
        assert.ok(label.textContent.startsWith(f.label), f.key);
        assert.equal(!!r.querySelector(".rcnb-required"), f.required, `required mark on ${f.key}`);
        assert.ok(r.ownerDocument.getElementById(label.htmlFor), `label of ${f.key} points at its input`);
        const bounded = f.minimum != null && f.maximum != null;
        switch (f.kind) {
          case "text":
            assert.equal(c.querySelectorAll(f.multiline ? "textarea" : "input[type=text]").length, 1, f.key);
            assert.equal(!!c.querySelector(".rcnb-counter"), f.max_length != null, f.key);
            break;
          case "enum":
            assert.equal(c.querySelectorAll("select").length, 1);
            assert.equal(c.querySelectorAll("option").length, f.choices.length + 1);
            break;
          case "integer":
          case "number":
            assert.equal(c.querySelectorAll("input[type=number]").length, 1, f.key);
            assert.equal(c.querySelectorAll("input[type=range]").length, bounded ? 1 : 0, f.key);
            break;
          case "seed":
            assert.equal(c.querySelectorAll("input[type=number]").length, 1);
            assert.equal(c.querySelectorAll("input[type=range]").length, 0);
            assert.equal(c.querySelectorAll("button.rcnb-dice").length, 1);
            break;
          case "boolean":
            assert.equal(c.querySelectorAll("input[type=checkbox]").length, 1);
            break;
          case "json":
            assert.equal(c.querySelectorAll("textarea.rcnb-json").length, 1);
            break;
          case "media":
            assert.equal(c.querySelectorAll("input.rcnb-url").length, 1);
            assert.equal(c.querySelector("input[type=file]").getAttribute("accept"), `${f.media}/*`);
            break;
          default:
            assert.fail(`unexpected kind ${f.kind}`);
        }
      }
    });
  }
});

test("every field shows its title and, small, its key; examples are placeholders, not values", () => {
  const { row, values } = mount("community/wan-2-1/fusionx/image-to-video");
  const label = row("602_widthx602_height").querySelector("label.rcnb-label");
  assert.equal(label.querySelector(".rcnb-key").textContent, "602_widthx602_height");
  assert.ok(label.textContent.startsWith("Resolution (W:H)"));
  const prompt = row("600_prompt").querySelector("textarea");
  assert.equal(prompt.value, "");
  assert.ok(prompt.placeholder.startsWith("A close-up shot of a young woman"));
  assert.equal(row("608_image").querySelector("input.rcnb-url").value, "");
  assert.match(row("608_image").querySelector("input.rcnb-url").placeholder, /e\.g\. RunComfy_examples_1235_1\.png/);
  assert.ok(!("600_prompt" in values()) && !("608_image" in values()));
  const { row: wanRow } = mount("wan-ai/wan-2-5/text-to-image");
  assert.equal(wanRow("aspect_ratio").querySelector(".rcnb-key").textContent, "aspect_ratio");
});

test("local files from Python arrive as data: URIs and show a thumbnail (image) or a first frame (video)", () => {
  const png = "data:image/png;base64,iVBORw0KGgo=";
  const { row } = mount("community/wan-2-1/fusionx/image-to-video", { values: { "608_image": png } });
  assert.equal(row("608_image").querySelector(".rcnb-preview img").getAttribute("src"), png);
  assert.equal(row("608_image").querySelector(".rcnb-preview").hidden, false);
  const mp4 = "data:video/mp4;base64,AAAAIGZ0eXA=";
  const { row: vrow } = mount("blackforestlabs/flux-1-kontext/pro/edit", {
    fields: [{ key: "video_url", label: "Video", kind: "media", media: "video", description: "", required: true }],
    values: { video_url: mp4 },
  });
  const video = vrow("video_url").querySelector(".rcnb-preview video");
  assert.equal(video.getAttribute("src"), mp4);
  assert.equal(video.getAttribute("preload"), "metadata");
});

test("defaults from values are shown in the controls", () => {
  const { row } = mount("community/wan-2-1/fusionx/image-to-video");
  assert.equal(row("600_prompt").querySelector("textarea").value, "", "the example prompt is a placeholder");
  assert.equal(row("598_seed").querySelector("input").value, "96860978");
  assert.equal(row("598_steps").querySelector("input[type=number]").value, "10");
  assert.equal(row("598_steps").querySelector("input[type=range]").value, "10");
  assert.equal(row("598_cfg").querySelector("input[type=number]").value, "1");
  const sel = row("602_widthx602_height").querySelector("select");
  assert.equal(sel.selectedOptions[0].textContent, "720x480 (3:2)");
  assert.equal(row("608_image").querySelector("input.rcnb-url").value, "");
  assert.equal(row("608_image").querySelector(".rcnb-preview").hidden, true);
});

describe("editing writes typed values back", () => {
  test("text: debounced, whole dict written; counter turns red past max_length", async () => {
    const { row, model, values } = mount("wan-ai/wan-2-5/text-to-image");
    const area = row("prompt").querySelector("textarea");
    const counter = row("prompt").querySelector(".rcnb-counter");
    assert.equal(counter.textContent, "0 / 2048");
    type(area, "a red");
    type(area, "a red fox");
    assert.equal(model.saves.length, 0, "debounced");
    await settle();
    assert.equal(model.saves.length, 1);
    assert.deepEqual(values(), { aspect_ratio: "1440:810 (16:9)", prompt: "a red fox" });
    assert.equal(counter.textContent, "9 / 2048");
    assert.ok(!counter.classList.contains("rcnb-over"));
    type(area, "🦊".repeat(2049));
    assert.equal(counter.textContent, "2049 / 2048", "code points, like JSON Schema");
    assert.ok(counter.classList.contains("rcnb-over"));
  });

  test("single-line text box for a short text field", () => {
    const { row } = mount("wan-ai/wan-2-5/text-to-image", {
      fields: [{ key: "name", label: "Name", kind: "text", description: "", required: false }],
      values: {},
    });
    assert.equal(row("name").querySelector("input").type, "text");
  });

  test("enum: 69 options, writes the choice; integer choices stay integers", () => {
    const a = mount("ideogram/ideogram-v3/reframe");
    const sel = a.row("resolution").querySelector("select");
    assert.equal(sel.options.length, 70);
    assert.equal(sel.selectedOptions[0].textContent, "1152:864 (4:3)");
    sel.value = "29";
    fire(sel);
    assert.equal(a.values().resolution, "1024:1024 (1:1)");

    const b = mount("community/wan-2-1/fusionx/image-to-video");
    const frames = b.row("602_num_frames").querySelector("select");
    assert.equal(frames.selectedOptions[0].textContent, "81");
    frames.value = "1";
    fire(frames);
    assert.strictEqual(b.values()["602_num_frames"], 141);
  });

  test("integer with bounds: slider + box in sync, step 1, ints written; 3.5 is refused locally", async () => {
    const { row, values, submit } = mount("community/wan-2-1/fusionx/image-to-video");
    const r = row("598_steps");
    const slider = r.querySelector("input[type=range]");
    const box = r.querySelector("input[type=number]");
    assert.equal(slider.step, "1");
    assert.equal(slider.min, "6");
    assert.equal(slider.max, "20");
    type(slider, "14");
    assert.equal(box.value, "14");
    await settle();
    assert.strictEqual(values()["598_steps"], 14);
    type(box, "17");
    assert.equal(slider.value, "17");
    await settle();
    assert.strictEqual(values()["598_steps"], 17);
    type(box, "3.5");
    await settle();
    assert.strictEqual(values()["598_steps"], 17, "invalid entry not written");
    assert.equal(r.querySelector(".rcnb-field-error").textContent, "must be a whole number");
    assert.equal(submit().disabled, true);
    type(box, "");
    await settle();
    assert.strictEqual(values()["598_steps"], null, "empty box = unset");
    assert.equal(submit().disabled, false);
  });

  test("number 0..1: step 0.01, floats written", async () => {
    const { row, values } = mount("bytedance/dreamina-4-0/text-to-image");
    const r = row("scale");
    const slider = r.querySelector("input[type=range]");
    const box = r.querySelector("input[type=number]");
    assert.equal(slider.step, "0.01");
    assert.equal(box.value, "0.5");
    type(slider, "0.73");
    assert.equal(box.value, "0.73");
    await settle();
    assert.strictEqual(values().scale, 0.73);
    type(box, "0.125");
    await settle();
    assert.strictEqual(values().scale, 0.125);
    assert.equal(row("598_cfg"), null);
  });

  test("number without both bounds: box alone", () => {
    const { row } = mount("bytedance/dreamina-4-0/text-to-image", {
      fields: [{ key: "strength", label: "Strength", kind: "number", description: "", required: false, minimum: 0 }],
      values: {},
    });
    assert.equal(row("strength").querySelectorAll("input").length, 1);
  });

  test("seed: dice writes a random integer in [minimum, maximum]", () => {
    const { row, values } = mount("ideogram/ideogram-v3/reframe");
    const r = row("seed");
    for (let i = 0; i < 20; i++) {
      r.querySelector(".rcnb-dice").click();
      const v = values().seed;
      assert.ok(Number.isInteger(v) && v >= 0 && v <= 2147483647, String(v));
      assert.equal(r.querySelector("input").value, String(v));
    }
    const small = mount("ideogram/ideogram-v3/reframe", {
      fields: [{ key: "seed", label: "Seed", kind: "seed", description: "", required: false, minimum: 5, maximum: 7 }],
      values: {},
    });
    const seen = new Set();
    for (let i = 0; i < 60; i++) {
      small.row("seed").querySelector(".rcnb-dice").click();
      seen.add(small.values().seed);
    }
    assert.deepEqual([...seen].sort(), [5, 6, 7]);
  });

  test("seed box: typed integers written as ints", async () => {
    const { row, values } = mount("blackforestlabs/flux-1-kontext/pro/edit");
    type(row("seed").querySelector("input"), "42");
    await settle();
    assert.strictEqual(values().seed, 42);
  });

  test("boolean: checkbox", () => {
    const { row, values } = mount("bytedance/dreamina-4-0/text-to-image");
    const box = row("force_single").querySelector("input[type=checkbox]");
    assert.equal(box.checked, false);
    box.click();
    assert.strictEqual(values().force_single, true);
    box.click();
    assert.strictEqual(values().force_single, false);
  });

  test("json: parsed on the fly; invalid JSON is an inline error that blocks Submit and is never written", async () => {
    const { row, values, submit, model } = mount("ideogram/ideogram-v3/reframe");
    const r = row("style");
    const area = r.querySelector("textarea");
    type(area, '{"name": "watercolor"');
    await settle();
    assert.match(r.querySelector(".rcnb-field-error").textContent, /^invalid JSON/);
    assert.equal(r.querySelector(".rcnb-field-error").hidden, false);
    assert.equal(submit().disabled, true);
    assert.ok(!("style" in values()));
    type(area, '{"name": "watercolor", "weight": 0.5}');
    await settle();
    assert.deepEqual(values().style, { name: "watercolor", weight: 0.5 });
    assert.equal(r.querySelector(".rcnb-field-error").hidden, true);
    assert.equal(submit().disabled, false);
    type(area, "{oops");
    await settle();
    assert.deepEqual(values().style, { name: "watercolor", weight: 0.5 }, "last valid value kept");
    submit().click();
    assert.deepEqual(model.sent, [], "submit blocked");
    type(area, "");
    await settle();
    assert.strictEqual(values().style, null);
  });

  test("media: URL box with a preview only for safe URLs", async () => {
    const { row, values, el } = mount("blackforestlabs/flux-1-kontext/pro/edit");
    const r = row("image_url");
    const url = r.querySelector("input.rcnb-url");
    type(url, "https://example.test/cat.png");
    assert.equal(r.querySelector(".rcnb-preview img").getAttribute("src"), "https://example.test/cat.png");
    await settle();
    assert.equal(values().image_url, "https://example.test/cat.png");
    type(url, "javascript:alert(1)");
    assert.equal(r.querySelector(".rcnb-preview").hidden, true);
    assert.equal(r.querySelector(".rcnb-preview img"), null);
    await settle();
    assert.equal(values().image_url, "javascript:alert(1)", "the text is the person's; it is just never used as a URL");
    assert.ok(!urlsIn(el).some((u) => u.startsWith("javascript")));
  });

  test("media: video kind previews with <video>", () => {
    const { row } = mount("blackforestlabs/flux-1-kontext/pro/edit", {
      fields: [{ key: "video_url", label: "Video", kind: "media", media: "video", description: "", required: true }],
      values: { video_url: "https://example.test/v.mp4" },
    });
    const v = row("video_url").querySelector(".rcnb-preview video");
    assert.equal(v.getAttribute("src"), "https://example.test/v.mp4");
    assert.equal(row("video_url").querySelector("input[type=file]").accept, "video/*");
  });

  test("media: a picked file is read as a data: URI; the box shows name and size, not the URI", async () => {
    const { row, values, window } = mount("ideogram/ideogram-v3/reframe");
    const r = row("image");
    const picker = r.querySelector("input[type=file]");
    const bytes = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3, 4]);
    const file = new window.File([bytes], "cat.png", { type: "image/png" });
    Object.defineProperty(picker, "files", { value: [file], configurable: true });
    fire(picker);
    await until(() => values().image);  // FileReader is asynchronous
    const v = values().image;
    assert.match(v, /^data:image\/png;base64,/);
    assert.equal(r.querySelector(".rcnb-chip-text").textContent, "cat.png (12 B)");
    assert.equal(r.querySelector(".rcnb-chip").hidden, false);
    assert.equal(r.querySelector("input.rcnb-url").hidden, true);
    assert.equal(r.querySelector("input.rcnb-url").value, "");
    assert.equal(r.querySelector(".rcnb-preview img").getAttribute("src"), v);
    r.querySelector(".rcnb-chip-clear").click();
    assert.strictEqual(values().image, null);
    assert.equal(r.querySelector("input.rcnb-url").hidden, false);
  });

  test("media: a data: URI arriving from Python (load) shows a short description", () => {
    const { row, model } = mount("ideogram/ideogram-v3/reframe");
    model.update({ values: { ...model.get("values"), image: "data:image/png;base64," + "A".repeat(4000) } });
    assert.equal(row("image").querySelector(".rcnb-chip-text").textContent, "image/png · 2.9 KB");
  });
});

describe("errors from Python", () => {
  test("hidden on a fresh form; shown once the field is touched; all shown after Submit", async () => {
    const { row, submit, model, el } = mount("wan-ai/wan-2-5/text-to-image");
    model.update({ errors: { prompt: "prompt: required — fill this in", ghost: "unknown field" } });
    const promptError = row("prompt").querySelector(".rcnb-field-error");
    assert.equal(promptError.hidden, true, "nothing red before anyone typed");
    assert.equal(el.querySelector(".rcnb-form-error").hidden, true);
    assert.equal(submit().disabled, false, "Submit is how a person finds out what is missing");
    submit().click();
    assert.deepEqual(model.sent, [{ type: "submit" }], "Python answers with its errors (and sends nothing)");
    assert.equal(promptError.textContent, "prompt: required — fill this in");
    assert.ok(row("prompt").classList.contains("rcnb-invalid"));
    assert.equal(el.querySelector(".rcnb-form-error").textContent, "ghost: unknown field");
    assert.equal(submit().disabled, true, "blocked while errors are on screen");
    model.update({ errors: {} });
    assert.equal(promptError.hidden, true);
    assert.equal(el.querySelector(".rcnb-form-error").hidden, true);
    assert.equal(submit().disabled, false);
  });

  test("a touched field shows its own error, the others stay quiet", async () => {
    const { row, submit, model } = mount("community/wan-2-1/fusionx/image-to-video");
    model.update({ errors: { "600_prompt": "600_prompt: required", "598_steps": "598_steps: maximum — must be ≤ 20" } });
    const steps = row("598_steps").querySelector("input[type=number]");
    type(steps, "99");
    assert.equal(row("598_steps").querySelector(".rcnb-field-error").textContent, "598_steps: maximum — must be ≤ 20");
    assert.equal(row("600_prompt").querySelector(".rcnb-field-error").hidden, true);
    assert.equal(submit().disabled, true);
    // Leaving a field without typing also counts as touching it.
    const prompt = row("600_prompt").querySelector("textarea");
    prompt.dispatchEvent(new prompt.ownerDocument.defaultView.FocusEvent("focusout", { bubbles: true }));
    assert.equal(row("600_prompt").querySelector(".rcnb-field-error").textContent, "600_prompt: required");
  });

  test("_form (a submit that could not be sent) is always shown and does not block a retry", () => {
    const { submit, model, el } = mount("wan-ai/wan-2-5/text-to-image");
    model.update({ errors: { _form: "No RunComfy API token. … %runcomfy sim on" } });
    assert.equal(el.querySelector(".rcnb-form-error").textContent, "No RunComfy API token. … %runcomfy sim on");
    assert.equal(submit().disabled, false);
  });

  test("Reset forgets what was touched", () => {
    const { row, model, el } = mount("wan-ai/wan-2-5/text-to-image");
    type(row("prompt").querySelector("textarea"), "x");
    model.update({ errors: { prompt: "too short" } });
    assert.equal(row("prompt").querySelector(".rcnb-field-error").hidden, false);
    el.querySelector(".rcnb-reset").click();
    model.update({ errors: { prompt: "prompt: required" } });
    assert.equal(row("prompt").querySelector(".rcnb-field-error").hidden, true);
  });

  test("error messages are text", () => {
    const { row, model, el } = mount("wan-ai/wan-2-5/text-to-image");
    model.update({ errors: { prompt: HOSTILE, _form: HOSTILE } });
    el.querySelector(".rcnb-submit").click();
    assert.equal(row("prompt").querySelector(".rcnb-field-error").textContent, HOSTILE);
    assert.equal(el.querySelectorAll("img").length, 0);
  });
});

describe("buttons and messages", () => {
  test("Submit flushes pending typing first, then sends submit", async () => {
    const { row, submit, model } = mount("wan-ai/wan-2-5/text-to-image");
    type(row("prompt").querySelector("textarea"), "a fox");
    submit().click();
    assert.deepEqual(model.sent, [{ type: "submit" }]);
    assert.equal(model.saves.length, 1, "values saved before the message");
    assert.equal(model.saves[0].values.prompt, "a fox");
    await settle();
    assert.equal(model.saves.length, 1, "nothing left pending");
  });

  test("busy: Submit disabled with spinner text", () => {
    const { submit, model, el } = mount("wan-ai/wan-2-5/text-to-image");
    model.update({ busy: true });
    assert.equal(submit().disabled, true);
    assert.equal(el.querySelector(".rcnb-busy").hidden, false);
    assert.match(el.querySelector(".rcnb-busy").textContent, /submitting/);
    model.update({ busy: false });
    assert.equal(submit().disabled, false);
  });

  test("Reset sends reset and re-shows the model's values", () => {
    const { row, model, el } = mount("ideogram/ideogram-v3/reframe");
    type(row("style").querySelector("textarea"), "{bad");
    el.querySelector(".rcnb-reset").click();
    assert.deepEqual(model.sent, [{ type: "reset" }]);
    assert.equal(row("style").querySelector("textarea").value, "");
    assert.equal(row("style").querySelector(".rcnb-field-error").hidden, true);
  });

  test("values from Python update controls; a focused box keeps its caret when its value is unchanged", async () => {
    const { row, model, document } = mount("wan-ai/wan-2-5/text-to-image");
    const area = row("prompt").querySelector("textarea");
    area.focus();
    type(area, "a red fox at dawn");
    await settle();
    area.setSelectionRange(3, 3);
    // Python normalises/echoes and changes another field
    model.update({ values: { ...model.get("values"), aspect_ratio: "1024:1024 (1:1)" } });
    assert.equal(document.activeElement, area);
    assert.equal(area.selectionStart, 3);
    assert.equal(row("aspect_ratio").querySelector("select").selectedOptions[0].textContent, "1024:1024 (1:1)");
    // load: a different prompt replaces the text
    model.update({ values: { prompt: "loaded prompt", aspect_ratio: "1440:810 (16:9)" } });
    assert.equal(area.value, "loaded prompt");
  });

  test("an edit in flight is not overwritten by an echo of older values", async () => {
    const { row, model, values } = mount("wan-ai/wan-2-5/text-to-image");
    const area = row("prompt").querySelector("textarea");
    type(area, "typing…");
    model.update({ values: { ...model.get("values"), negative_prompt: "blurry" } });
    assert.equal(area.value, "typing…");
    await settle();
    assert.deepEqual(values(), { aspect_ratio: "1440:810 (16:9)", negative_prompt: "blurry", prompt: "typing…" });
  });

  test("changing fields rebuilds the controls", () => {
    const { el, model } = mount("wan-ai/wan-2-5/text-to-image");
    const other = byId("bytedance/dreamina-4-0/text-to-image");
    model.update({ fields: other.fields, values: other.defaults, model_key: other.model_id, display_name: other.display_name });
    assert.deepEqual([...el.querySelectorAll(".rcnb-field")].map((r) => r.dataset.key), other.fields.map((f) => f.key));
    assert.equal(el.querySelector(".rcnb-title").textContent, other.display_name);
  });

  test("header: title and simulator badge", () => {
    const { el, model } = mount("wan-ai/wan-2-5/text-to-image", { display_name: HOSTILE });
    assert.equal(el.querySelector(".rcnb-title").textContent, HOSTILE);
    assert.equal(el.querySelector(".rcnb-sim").hidden, true);
    model.update({ simulator: true });
    assert.equal(el.querySelector(".rcnb-sim").hidden, false);
    assert.equal(el.querySelectorAll("img").length, 0);
  });
});

describe("history", () => {
  const t0 = Date.now() - 20_000;
  const run = (id, over = {}) => ({
    local_id: `local-${id}`,
    request_id: id,
    status: "completed",
    queue_position: null,
    submitted_at: t0,
    started_at: t0 + 1000,
    finished_at: t0 + 5000,
    outputs: [{ url: `https://cdn.test/${id}.png`, kind: "image", mime: "image/png", name: `${id}.png` }],
    error: "",
    inputs_summary: [{ label: "prompt", value: `prompt of ${id}` }],
    cancellable: false,
    cancel_note: "",
    ...over,
  });

  const tiles = (el) => [...el.querySelectorAll(".rcnb-history .rcnb-gallery-tile")];

  test("renders the runs as the compact gallery, newest first, with a status badge while not done", () => {
    const { el, model } = mount("wan-ai/wan-2-5/text-to-image");
    assert.equal(el.querySelector(".rcnb-history").hidden, true);
    model.update({ history: [run("r2", { status: "in_queue", queue_position: 1, finished_at: null, outputs: [], cancellable: true }), run("r1")] });
    assert.deepEqual(tiles(el).map((t) => t.dataset.id), ["local-r2", "local-r1"]);
    assert.equal(tiles(el)[0].querySelector(".rcnb-gallery-status").textContent, "queued · #2");
    assert.equal(tiles(el)[1].querySelector(".rcnb-gallery-status"), null, "a completed run shows its picture alone");
    assert.equal(tiles(el)[1].querySelector("img.rcnb-gallery-thumb").getAttribute("src"), "https://cdn.test/r1.png");
    assert.equal(el.querySelectorAll(".rcnb-history .rcnb-card").length, 0, "no full-size job cards");
    assert.equal(el.querySelector(".rcnb-history .rcnb-gallery-viewer").hidden, true);
    // a click opens the viewer: full size, the inputs as the form labels them, the run's actions (no Save)
    tiles(el)[1].click();
    const viewer = el.querySelector(".rcnb-history .rcnb-gallery-viewer");
    assert.equal(viewer.hidden, false);
    assert.equal(viewer.querySelector(".rcnb-gallery-full").getAttribute("src"), "https://cdn.test/r1.png");
    assert.equal(viewer.querySelector(".rcnb-gallery-inputs dd").textContent, "prompt of r1");
    assert.match(viewer.querySelector(".rcnb-gallery-meta").textContent, /r1 · completed · 5\.0 s/);
    assert.deepEqual([...viewer.querySelectorAll(".rcnb-gallery-action")].map((b) => b.textContent), ["Load into form", "Run again"]);
    assert.equal(rig.timers.intervals.size, 0, "no ticking timer: the tiles change when Python's state does");
  });

  test("Load, Run again and Cancel name the run by its local id", () => {
    const { el, model } = mount("wan-ai/wan-2-5/text-to-image", {
      history: [run("r2", { status: "in_queue", queue_position: 0, finished_at: null, outputs: [], cancellable: true }), run("r1")],
    });
    const cancel = el.querySelector(".rcnb-history .rcnb-gallery-tile-cancel");
    assert.equal(el.querySelectorAll(".rcnb-history .rcnb-gallery-tile-cancel").length, 1, "only the queued run has one");
    cancel.click();
    cancel.click(); // one message per click until the next state arrives
    tiles(el)[1].click();
    el.querySelector(".rcnb-history .rcnb-gallery-load").click();
    assert.deepEqual(model.sent, [{ type: "cancel", local_id: "local-r2" }, { type: "load", local_id: "local-r1" }]);
    // a new run arrives on top while still submitting (no request_id yet): the open viewer still shows its run
    model.update({ history: [run("r3", { request_id: "", status: "submitting", finished_at: null, outputs: [] }), ...model.get("history")] });
    assert.equal(tiles(el)[0].querySelector(".rcnb-gallery-status").textContent, "submitting…");
    assert.ok(tiles(el)[2].classList.contains("rcnb-gallery-open"));
    el.querySelector(".rcnb-history .rcnb-gallery-run_again").click();
    assert.deepEqual(model.sent.at(-1), { type: "run_again", local_id: "local-r1" });
    // the queued run's viewer offers Cancel too
    tiles(el)[1].click();
    el.querySelector(".rcnb-history .rcnb-gallery-cancel").click();
    assert.deepEqual(model.sent.at(-1), { type: "cancel", local_id: "local-r2" });
    model.update({ history: [] });
    assert.equal(el.querySelector(".rcnb-history").hidden, true);
  });

  test("Use as input is offered where the form has an image field, with the output's index", () => {
    const { el, model } = mount("blackforestlabs/flux-1-kontext/pro/edit", { history: [run("r1")] });
    tiles(el)[0].click();
    el.querySelector(".rcnb-history .rcnb-gallery-use_as_input").click();
    assert.deepEqual(model.sent, [{ type: "use_as_input", local_id: "local-r1", output_index: 0 }]);
  });

  test("a failed run shows its error text in the viewer", () => {
    const { el, model } = mount("wan-ai/wan-2-5/text-to-image");
    model.update({ history: [run("r1", { status: "failed", outputs: [], error: "out of credits" })] });
    assert.equal(tiles(el)[0].querySelector(".rcnb-gallery-status").textContent, "failed");
    tiles(el)[0].click();
    assert.equal(el.querySelector(".rcnb-history .rcnb-gallery-error").textContent, "out of credits");
  });

  test("hostile strings and URLs in runs", () => {
    const { el } = mount("wan-ai/wan-2-5/text-to-image", {
      history: [
        run(HOSTILE, {
          status: "failed",
          error: HOSTILE,
          seed: HOSTILE,
          inputs_summary: [{ label: HOSTILE, value: HOSTILE }],
          outputs: [{ url: "javascript:alert(1)", kind: "image", mime: "", name: HOSTILE }, { url: "file:///etc/passwd", kind: "file", mime: "", name: "p" }],
        }),
      ],
    });
    tiles(el)[0].click();
    assert.equal(el.querySelector(".rcnb-history .rcnb-gallery-error").textContent, HOSTILE);
    assert.equal(el.querySelector(".rcnb-history .rcnb-gallery-inputs dt").textContent, HOSTILE);
    assert.deepEqual(urlsIn(el), []);
    assert.equal(el.querySelectorAll('img[src="x"], [onerror]').length, 0);
  });
});

describe("cleanup", () => {
  test("removes listeners, intervals, timeouts and the DOM; later events do nothing", async () => {
    const { el, model, row, cleanup, window } = mount("ideogram/ideogram-v3/reframe", {
      history: [{ request_id: "r1", status: "in_progress", submitted_at: Date.now(), outputs: [], inputs_summary: [] }],
    });
    // a pending debounced write and a file read in flight
    type(row("style").querySelector("textarea"), '{"a": 1}');
    const picker = row("image").querySelector("input[type=file]");
    Object.defineProperty(picker, "files", { value: [new window.File(["x"], "x.png", { type: "image/png" })] });
    fire(picker);
    assert.ok(model.listenerCount() > 0);
    assert.equal(rig.timers.timeouts.size, 1);
    cleanup();
    assert.equal(model.listenerCount(), 0);
    assert.equal(rig.timers.intervals.size, 0);
    assert.equal(rig.timers.timeouts.size, 0);
    assert.equal(el.children.length, 0);
    const savesBefore = model.saves.length;
    model.update({ values: { image: "https://x.test/a.png" }, errors: { _form: "x" }, history: [], fields: [], busy: true });
    await settle();
    assert.equal(model.saves.length, savesBefore, "no write after cleanup (debounce cancelled, file read ignored)");
    assert.equal(el.children.length, 0);
    assert.deepEqual(model.sent, []);
  });
});

describe("seed control after generate", () => {
  const KONTEXT = "blackforestlabs/flux-1-kontext/pro/edit";

  test("each seed field gets fixed / increment / randomize, showing Python's mode", () => {
    const { row, model } = mount(KONTEXT, { seed_modes: { seed: "increment" } });
    const select = row("seed").querySelector("select.rcnb-seed-mode");
    assert.deepEqual([...select.options].map((o) => o.value), ["fixed", "increment", "randomize"]);
    assert.equal(select.value, "increment");
    model.update({ seed_modes: { seed: "randomize" } });
    assert.equal(select.value, "randomize");
    model.update({ seed_modes: { seed: HOSTILE } }); // nonsense from anywhere reads as fixed
    assert.equal(select.value, "fixed");
    assert.equal(row("prompt").querySelector("select.rcnb-seed-mode"), null, "only seed fields have one");
  });

  test("choosing a mode syncs seed_modes and keeps the other fields' modes", () => {
    const { row, model } = mount("community/wan-2-1/fusionx/image-to-video", { seed_modes: { "598_seed": "fixed", other: "fixed" } });
    const select = row("598_seed").querySelector("select.rcnb-seed-mode");
    select.value = "randomize";
    fire(select, "change");
    assert.deepEqual(model.get("seed_modes"), { "598_seed": "randomize", other: "fixed" });
    assert.equal(model.saves.length, 1);
  });

  test("the next seed Python writes after a submit shows in the box", () => {
    const { row, model } = mount(KONTEXT, { seed_modes: { seed: "increment" }, values: { seed: 100 } });
    const box = row("seed").querySelector("input");
    assert.equal(box.value, "100");
    model.update({ values: { ...model.get("values"), seed: 101 } });
    assert.equal(box.value, "101");
  });
});

describe("run tiles: seed sent, cost, reuse", () => {
  const t0 = Date.now() - 20_000;
  const run = (id, over = {}) => ({
    local_id: `local-${id}`, request_id: id, status: "completed", queue_position: null,
    submitted_at: t0, started_at: t0 + 1000, finished_at: t0 + 5000,
    outputs: [{ url: `https://cdn.test/${id}.png`, kind: "image", mime: "image/png", name: `${id}.png` }],
    error: "", inputs_summary: [], cancellable: false, cancel_note: "",
    cost: 0.04, seed: 100, reused: false, reused_from: "", ...over,
  });

  const tiles = (el) => [...el.querySelectorAll(".rcnb-history .rcnb-gallery-cell")];

  test("every tile says the seed it was sent with and its cost", () => {
    const { el, model } = mount("blackforestlabs/flux-1-kontext/pro/edit");
    model.update({ history: [run("r2", { seed: 101, cost: null, status: "in_progress", finished_at: null }), run("r1")] });
    assert.deepEqual(tiles(el).map((c) => c.querySelector(".rcnb-gallery-caption").textContent), ["seed 101", "seed 100 · $0.040"]);
    assert.equal(tiles(el)[0].querySelector(".rcnb-gallery-status").textContent, "in progress");
  });

  test("a reused run says so and offers Run again, naming the run by its local id", () => {
    const { el, model } = mount("blackforestlabs/flux-1-kontext/pro/edit");
    model.update({ history: [run("r2", { reused: true, reused_from: "2026-11-28 08:00" }), run("r1")] });
    assert.equal(tiles(el)[0].querySelector(".rcnb-gallery-caption").textContent, "seed 100 · $0.040 · reused");
    tiles(el)[0].querySelector(".rcnb-gallery-tile").click();
    assert.match(el.querySelector(".rcnb-history .rcnb-gallery-meta").textContent, /reused from 2026-11-28 08:00/);
    el.querySelector(".rcnb-history .rcnb-gallery-run_again").click();
    assert.deepEqual(model.messages("run_again"), [{ type: "run_again", local_id: "local-r2" }]);
  });
});

test("earlier runs of the model (the journal) show as a compact gallery whose buttons name the run", () => {
  const thumb = { src: "data:image/webp;base64,UklGRg==", width: 256, height: 256 };
  const earlier = [{ local_id: "old1", request_id: "r1", model_id: MODELS[0].model_id,
                     summary: { prompt: "earlier owl", status: "completed" },
                     outputs: [{ kind: "image", url: "https://cdn.example/1.png", thumb }], inputs: { prompt: "earlier owl" } }];
  const { el, model } = mount(MODELS[0].model_id, { earlier });
  const box = el.querySelector(".rcnb-earlier");
  assert.equal(box.hidden, false);
  assert.equal(box.querySelector(".rcnb-gallery-thumb").getAttribute("src"), thumb.src);
  box.querySelector(".rcnb-gallery-tile").dispatchEvent(new el.ownerDocument.defaultView.Event("click"));
  assert.equal(box.querySelector(".rcnb-gallery-use_as_input"), null); // not offered in a form
  box.querySelector(".rcnb-gallery-load").dispatchEvent(new el.ownerDocument.defaultView.Event("click"));
  assert.deepEqual(model.sent.at(-1), { type: "earlier_load", local_id: "old1", output_index: 0 });
  model.update({ earlier: [] });
  assert.equal(box.hidden, true);
});
