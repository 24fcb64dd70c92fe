// Item messages: one changed run (form) or cell (sweep) arrives alone, {type: "item", trait, index, item}, and is
// drawn in place; the model's list is updated too, so a view rendered later shows it; a late older list cannot
// undo it (js/list_items.js, runcomfy_nb.widgets.ItemUpdates).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import ModelForm from "../../js/form.js";
import SweepView from "../../js/sweepview.js";
import { makeDom, widgetRig } from "./dom.js";
import { seedModels } from "./schemas.js";

const rig = widgetRig();
const T0 = Date.now() - 20_000;
const MODEL = seedModels()[0];

const run = (n, rev, over = {}) => ({
  local_id: `local-${n}`, request_id: `r${n}`, status: "completed", queue_position: null, submitted_at: T0,
  started_at: T0 + 1000, finished_at: T0 + 5000, error: "", cancellable: false, cancel_note: "", rev,
  outputs: [{ url: `https://cdn.test/${n}.png`, kind: "image", mime: "image/png", name: `${n}.png` }],
  inputs_summary: [{ label: "prompt", value: `prompt ${n}` }], ...over,
});
const queued = (n, rev) => run(n, rev, { status: "in_queue", queue_position: 3, finished_at: null, outputs: [], cancellable: true });
const formState = (history) => ({ model_key: MODEL.model_id, display_name: MODEL.display_name, simulator: false,
                                  fields: MODEL.fields, values: { ...MODEL.defaults }, errors: {}, busy: false, history });
const cells = (el) => [...el.querySelectorAll(".rcnb-history .rcnb-gallery-cell")];

describe("form: one run's item message", () => {
  test("redraws that run's tile alone and writes it into the model's list", () => {
    const history = Array.from({ length: 5 }, (_, i) => queued(i, i + 1));
    const { el, model } = rig.render(ModelForm, formState(history));
    const before = cells(el);
    assert.equal(before.length, 5);
    assert.equal(before[2].querySelector(".rcnb-gallery-status").textContent, "queued · #4");
    model.custom({ type: "item", trait: "history", index: 2, item: run(2, 9) });
    const after = cells(el);
    assert.equal(after.length, 5);
    assert.notEqual(after[2], before[2], "the changed run's tile is new");
    for (const i of [0, 1, 3, 4]) assert.equal(after[i], before[i], `tile ${i} is the same node`);
    assert.equal(after[2].querySelector(".rcnb-gallery-status"), null, "completed: no status badge");
    assert.equal(after[2].querySelector("img").getAttribute("src"), "https://cdn.test/2.png");
    assert.equal(model.get("history")[2].status, "completed", "the model's list has it");
    assert.equal(model.sent.length, 0, "nothing echoed back to Python");
  });

  test("a view rendered later (second display) shows the latest state", () => {
    const { el, model } = rig.render(ModelForm, formState([queued(0, 1), queued(1, 2)]));
    model.custom({ type: "item", trait: "history", index: 1, item: run(1, 5) });
    const second = makeDom();
    rig.cleanups.push(ModelForm.render({ model, el: second.el }));
    for (const view of [el, second.el]) {
      const tiles = cells(view);
      assert.equal(tiles[1].querySelector("img").getAttribute("src"), "https://cdn.test/1.png");
      assert.ok(tiles[0].querySelector(".rcnb-gallery-status"), "the other run still queued");
    }
    model.custom({ type: "item", trait: "history", index: 0, item: run(0, 6) });
    for (const view of [el, second.el]) assert.equal(cells(view)[0].querySelector("img").getAttribute("src"), "https://cdn.test/0.png");
  });

  test("a whole list applied late cannot undo a newer item; an item ahead of its list is kept for it", () => {
    const { el, model } = rig.render(ModelForm, formState([queued(0, 1)]));
    model.custom({ type: "item", trait: "history", index: 0, item: run(0, 4) });
    model.custom({ type: "item", trait: "history", index: 0, item: run(7, 5) }); // run 7 is not in the list yet
    model.custom({ type: "item", trait: "history", index: 0, item: queued(0, 2) }); // older than what is shown
    assert.equal(cells(el)[0].querySelector("img").getAttribute("src"), "https://cdn.test/0.png");
    model.update({ history: [queued(7, 3), queued(0, 1)] }); // sent before both items, applied after them
    const tiles = cells(el);
    assert.deepEqual(tiles.map((t) => t.dataset.id), ["local-7", "local-0"]);
    for (const [i, n] of [[0, 7], [1, 0]]) assert.equal(tiles[i].querySelector("img").getAttribute("src"), `https://cdn.test/${n}.png`);
    assert.deepEqual(model.get("history").map((r) => r.rev), [5, 4]);
    model.update({ history: [queued(8, 6), run(7, 5), run(0, 4)] }); // Python caught up: its list is shown as sent
    assert.deepEqual(model.get("history").map((r) => r.rev), [6, 5, 4]);
  });

  test("messages for another trait or of another type are ignored", () => {
    const { el, model } = rig.render(ModelForm, formState([queued(0, 1)]));
    model.custom({ type: "item", trait: "cells", index: 0, item: run(0, 9) });
    model.custom({ type: "other", trait: "history", index: 0, item: run(0, 9) });
    model.custom({ type: "item", trait: "history", index: 0, item: "not an object" });
    assert.ok(cells(el)[0].querySelector(".rcnb-gallery-status"));
    assert.equal(model.get("history")[0].rev, 1);
  });
});

describe("sweep: one cell's item message", () => {
  const cell = (index, rev, over = {}) => ({ index, status: "in_queue", request_id: `r${index}`, submitted_at: T0,
    started_at: null, finished_at: null, outputs: [], error: "", cancellable: true, cost: null, seed: index,
    reused: false, reused_from: "", rev, ...over });
  const state = (n) => ({ model_key: "m", display_name: "M", simulator: true, common: [], notice: "", targets: [],
    axes: [{ name: "seed", label: "Seed", values: Array.from({ length: n }, (_, i) => String(i)), parts: [] }],
    cells: Array.from({ length: n }, (_, i) => cell(i, i + 1)), cell_inputs: [], counts: { in_queue: n }, cost: null });

  test("fills that card alone, in place", () => {
    const { el, model } = rig.render(SweepView, state(6));
    const thumbs = () => [...el.querySelectorAll(".rcnb-cell .rcnb-thumb")].map((t) => t.firstChild);
    const before = thumbs();
    model.custom({ type: "item", trait: "cells", index: 4, item: cell(4, 20, { status: "completed", finished_at: T0 + 4000,
      cancellable: false, cost: 0.04, outputs: [{ url: "https://cdn.test/c4.png", kind: "image", name: "c4.png" }] }) });
    const after = thumbs();
    for (const i of [0, 1, 2, 3, 5]) assert.equal(after[i], before[i], `card ${i} untouched`);
    const card = el.querySelector('.rcnb-cell[data-index="4"]');
    assert.equal(card.querySelector("img").getAttribute("src"), "https://cdn.test/c4.png");
    assert.match(card.querySelector(".rcnb-cell-meta").textContent, /\$0\.040/);
    assert.equal(model.get("cells")[4].status, "completed");
  });
});
