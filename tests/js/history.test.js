// rc.history()'s view: a page of the gallery, filters and pager sent back as traits, buttons as messages.

import assert from "node:assert/strict";
import { test } from "node:test";

import History, { FILTER_DEBOUNCE_MS } from "../../js/history.js";
import { fire, makeDom, sleep, type } from "./dom.js";
import { FakeModel } from "./fake_model.js";

const THUMB = { src: "data:image/webp;base64,UklGRg==", width: 256, height: 256 };
const item = (n) => ({
  local_id: `l${n}`, request_id: `r${n}`, model_id: "wan-ai/wan-2-5/text-to-image",
  summary: { prompt: `fox ${n}`, status: "completed" }, outputs: [{ kind: "image", url: `https://cdn.example/${n}.png`, thumb: THUMB }],
  inputs: { prompt: `fox ${n}` }, inline_media: {},
});

function mount(over = {}) {
  const { el, window } = makeDom();
  const model = new FakeModel({ items: [item(2), item(1)], page: 0, pages: 2, total: 3, model_filter: "",
                                text_filter: "", notice: "", compact: false, copy_id: "hist1", ...over });
  const cleanup = History.render({ model, el });
  return { el, window, model, cleanup, q: (s) => el.querySelector(s), qa: (s) => [...el.querySelectorAll(s)] };
}

test("a page of thumbnails, the pager and the count", () => {
  const { q, qa, model, cleanup } = mount();
  assert.deepEqual(qa(".rcnb-gallery-tile").map((t) => t.dataset.id), ["l2", "l1"]);
  assert.ok(qa(".rcnb-gallery-thumb").every((i) => i.getAttribute("src") === THUMB.src));
  assert.equal(q(".rcnb-history-where").textContent, "page 1 of 2 · 3 runs");
  assert.equal(q(".rcnb-history-prev").disabled, true);
  fire(q(".rcnb-history-next"), "click");
  assert.equal(model.get("page"), 1);
  assert.equal(model.saves.length, 1);
  model.update({ page: 1, items: [item(0)] });
  assert.deepEqual(qa(".rcnb-gallery-tile").map((t) => t.dataset.id), ["l0"]);
  assert.equal(q(".rcnb-history-next").disabled, true);
  cleanup();
  assert.equal(q(".rcnb-historyview"), null);
});

test("filters are sent after typing stops; actions name the run", async () => {
  const { q, model, cleanup } = mount();
  type(q(".rcnb-history-text"), "owl");
  assert.equal(model.get("text_filter"), "");
  await sleep(FILTER_DEBOUNCE_MS + 50);
  assert.equal(model.get("text_filter"), "owl");
  fire(q(".rcnb-gallery-tile"), "click");
  fire(q(".rcnb-gallery-run_again"), "click");
  assert.deepEqual(model.sent.at(-1), { type: "run_again", local_id: "l2", output_index: 0 });
  model.update({ notice: "Submitted again: r9" });
  assert.equal(q(".rcnb-history-notice").textContent, "Submitted again: r9");
  cleanup();
});

test("compact: no filter bar (a form's run list)", () => {
  const { q, cleanup } = mount({ compact: true });
  assert.equal(q(".rcnb-history-bar").hidden, true);
  cleanup();
});
