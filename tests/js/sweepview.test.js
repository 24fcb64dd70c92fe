import assert from "node:assert/strict";
import { describe, test } from "node:test";

import CompareView, { createCompare, differingLabels } from "../../js/compare.js";
import SweepView, { layout, middleEllipsis } from "../../js/sweepview.js";
import { makeDom, urlsIn, widgetRig } from "./dom.js";
import { FakeModel } from "./fake_model.js";

const HOSTILE = "<img src=x onerror=alert(1)>";
const PROMPTS = [
  "a photo of an old lighthouse on a cliff at dawn, make it winter with heavy snow, cinematic light",
  "a photo of an old lighthouse on a cliff at dawn, make it night under a full moon, cinematic light",
  "a photo of an old lighthouse on a cliff at dawn, make it a watercolour painting, cinematic light",
];
const T0 = Date.now() - 5000;

function cell(index, over = {}) {
  return {
    index,
    status: "waiting",
    request_id: "",
    submitted_at: null,
    started_at: null,
    finished_at: null,
    outputs: [],
    error: "",
    cancellable: false,
    cost: null,
    seed: (index % 4) + 1,
    reused: false,
    reused_from: "",
    ...over,
  };
}

function sweepState(over = {}) {
  return {
    model_key: "blackforestlabs/flux-1-kontext/pro/edit",
    display_name: "FLUX.1 Kontext Pro",
    simulator: true,
    axes: [
      {
        name: "prompt",
        label: "Prompt",
        values: PROMPTS,
        parts: [
          ["a photo of an old lighthouse on a cliff at dawn,", "make it winter with heavy snow,", "cinematic light"],
          ["a photo of an old lighthouse on a cliff at dawn,", "make it night under a full moon,", "cinematic light"],
          ["a photo of an old lighthouse on a cliff at dawn,", "make it a watercolour painting,", "cinematic light"],
        ],
      },
      { name: "seed", label: "Seed", values: ["1", "2", "3", "4"], parts: [] },
    ],
    common: [{ label: "Aspect ratio", value: "1:1" }],
    cells: Array.from({ length: 12 }, (_, i) => cell(i)),
    cell_inputs: Array.from({ length: 12 }, (_, i) => [
      { label: "Prompt", value: PROMPTS[Math.floor(i / 4)] },
      { label: "Seed", value: String((i % 4) + 1) },
    ]),
    counts: { waiting: 12 },
    cost: null,
    notice: "",
    targets: [{ model_id: "community/wan-2-1/fusionx/image-to-video", display_name: "Wan 2.1 FusionX", field: "608_image" }],
    ...over,
  };
}

const rig = widgetRig();

function mount(over) {
  const { el, window, model, cleanup } = rig.render(SweepView, sweepState(over));
  const q = (sel) => el.querySelector(sel);
  const qa = (sel) => [...el.querySelectorAll(sel)];
  const key = (target, k) => target.dispatchEvent(new window.KeyboardEvent("keydown", { key: k, bubbles: true }));
  return { el, model, cleanup, q, qa, window, key };
}

describe("layout", () => {
  test("last axis are columns, the one before rows, earlier ones sections", () => {
    assert.deepEqual(layout([{ values: [1, 2, 3] }, { values: [1, 2, 3, 4] }]), { cols: 4, rows: 3, sections: 1, perSection: 12 });
    assert.deepEqual(layout([{ values: [1, 2] }, { values: [1, 2, 3] }, { values: [1, 2, 3, 4] }]), { cols: 4, rows: 3, sections: 2, perSection: 12 });
    assert.deepEqual(layout([{ values: [1, 2, 3] }]), { cols: 3, rows: 1, sections: 1, perSection: 3 });
    assert.deepEqual(layout([]), { cols: 1, rows: 1, sections: 1, perSection: 1 });
  });
  test("middle ellipsis keeps both ends", () => {
    const s = middleEllipsis("a".repeat(50) + "MIDDLE" + "z".repeat(50), 21);
    assert.equal(s, "aaaaaaaaaa…zzzzzzzzzz");
    assert.equal(middleEllipsis("short"), "short");
  });
});

describe("SweepView grid", () => {
  test("a 3×4 grid with row and column headers, common inputs once", () => {
    const { qa, q } = mount();
    assert.equal(qa(".rcnb-cell").length, 12);
    assert.deepEqual(qa(".rcnb-col-head").map((n) => n.textContent), ["1", "2", "3", "4"]);
    const rows = qa(".rcnb-row-head");
    assert.equal(rows.length, 3);
    // the differing middle of each long prompt is highlighted; the full text is in the title
    assert.deepEqual(rows.map((r) => r.querySelector("mark").textContent), ["make it winter with heavy snow,", "make it night under a full moon,", "make it a watercolour painting,"]);
    assert.equal(rows[1].querySelector(".rcnb-axis-value").title, PROMPTS[1]);
    assert.match(q(".rcnb-common").textContent, /Aspect ratio1:1/);
    assert.ok(!q(".rcnb-sim").hidden);
  });

  test("waiting cells say they were not sent; progress counts; cost", () => {
    const { q, qa, model } = mount();
    assert.equal(qa(".rcnb-cell .rcnb-badge")[0].textContent, "waiting (not sent)");
    assert.match(q(".rcnb-progress").textContent, /0\/12 done · 12 waiting \(not sent\)/);
    const cells = model.get("cells").map((c, i) =>
      i < 2
        ? { ...c, status: "completed", submitted_at: T0, finished_at: T0 + 3000, cost: 0.04, request_id: `r${i}`, outputs: [{ url: `http://127.0.0.1:1/_sim/media/r${i}/out.png`, kind: "image", name: "out.png" }] }
        : i < 4
          ? { ...c, status: "in_queue", submitted_at: T0, cancellable: true }
          : c,
    );
    model.update({ cells, counts: { completed: 2, in_queue: 2, waiting: 8 }, cost: 0.08 });
    assert.match(q(".rcnb-progress").textContent, /2\/12 done · 2 queued · 8 waiting \(not sent\)/);
    assert.equal(q(".rcnb-cost").textContent, "$0.08");
    const first = qa(".rcnb-cell")[0];
    assert.equal(first.querySelector("img").getAttribute("src"), "http://127.0.0.1:1/_sim/media/r0/out.png");
    assert.match(first.querySelector(".rcnb-cell-meta").textContent, /seed 1 · \$0\.040/);
    assert.equal(first.querySelector(".rcnb-elapsed").textContent, "3.0 s");
    assert.ok(first.querySelector(".rcnb-cell-cancel").hidden);
    assert.ok(!qa(".rcnb-cell")[2].querySelector(".rcnb-cell-cancel").hidden);
    assert.equal(rig.timers.intervals.size, 1); // queued cells tick
  });

  test("Cancel all, Save all and a cell's cancel send messages", () => {
    const { q, qa, model } = mount();
    q(".rcnb-cancel-all").click();
    q(".rcnb-save-all").click();
    qa(".rcnb-cell-cancel")[5].click();
    assert.deepEqual(model.sent, [{ type: "cancel_all" }, { type: "save_all" }, { type: "cancel", index: 5 }]);
  });

  test("Cancel all is disabled once every cell ended", () => {
    const { q, model } = mount();
    model.update({ cells: model.get("cells").map((c) => ({ ...c, status: "cancelled" })) });
    assert.ok(q(".rcnb-cancel-all").disabled);
  });

  test("three axes make stacked sections", () => {
    const { qa } = mount({
      axes: [
        { name: "aspect_ratio", label: "Aspect ratio", values: ["1:1", "16:9"], parts: [] },
        { name: "prompt", label: "Prompt", values: ["a", "b"], parts: [] },
        { name: "seed", label: "Seed", values: ["1", "2", "3"], parts: [] },
      ],
      cells: Array.from({ length: 12 }, (_, i) => cell(i)),
    });
    const sections = qa(".rcnb-section");
    assert.equal(sections.length, 2);
    assert.match(sections[1].querySelector(".rcnb-section-title").textContent, /Aspect ratio: 16:9/);
    assert.deepEqual([...sections[1].querySelectorAll(".rcnb-cell")].map((c) => c.dataset.index), ["6", "7", "8", "9", "10", "11"]);
  });

  test("hostile strings stay text and unsafe URLs are never used", () => {
    const { el, model, qa } = mount({ common: [{ label: HOSTILE, value: HOSTILE }] });
    model.update({
      cells: model.get("cells").map((c, i) => ({ ...c, status: "completed", error: HOSTILE, outputs: [{ url: i % 2 ? "javascript:alert(1)" : "data:text/html,<b>x</b>", kind: "image", name: HOSTILE }] })),
    });
    assert.equal(el.querySelectorAll("script, [onerror]").length, 0);
    assert.deepEqual(urlsIn(el), []);
    assert.match(qa(".rcnb-common dt")[0].textContent, /onerror/);
  });
});

describe("viewer", () => {
  function finished(model) {
    model.update({
      cells: model.get("cells").map((c, i) => ({ ...c, status: "completed", request_id: `r${i}`, outputs: [{ url: `https://cdn.example/r${i}.png`, kind: "image", name: `r${i}.png` }] })),
    });
  }

  test("click opens the full-size image with the full inputs; arrows move; Esc closes", () => {
    const { q, qa, model, key } = mount();
    finished(model);
    qa(".rcnb-thumb")[1].click();
    const panel = q(".rcnb-viewer");
    assert.ok(panel && !panel.hidden);
    assert.equal(q(".rcnb-viewer-media").getAttribute("src"), "https://cdn.example/r1.png");
    assert.match(q(".rcnb-viewer-inputs").textContent, /winter with heavy snow.*Seed2Aspect ratio1:1/);
    key(panel, "ArrowRight");
    assert.equal(q(".rcnb-viewer-media").getAttribute("src"), "https://cdn.example/r2.png");
    key(panel, "ArrowDown"); // one row down = 4 cells on
    assert.equal(q(".rcnb-viewer-media").getAttribute("src"), "https://cdn.example/r6.png");
    assert.match(q(".rcnb-viewer-inputs").textContent, /full moon/);
    key(panel, "ArrowLeft");
    key(panel, "ArrowUp");
    assert.equal(q(".rcnb-viewer-media").getAttribute("src"), "https://cdn.example/r1.png");
    key(panel, "ArrowUp"); // off the grid: stays
    assert.equal(q(".rcnb-viewer-media").getAttribute("src"), "https://cdn.example/r1.png");
    key(panel, "Escape");
    assert.ok(q(".rcnb-sweep-panel").hidden);
  });

  test("actions are messages to Python", () => {
    const { q, qa, model } = mount();
    finished(model);
    qa(".rcnb-thumb")[3].click();
    q(".rcnb-load").click();
    q(".rcnb-use").click();
    q(".rcnb-again").click();
    assert.deepEqual(model.sent, [
      { type: "load_into_form", index: 3 },
      { type: "use_as_input", index: 3, model: "community/wan-2-1/fusionx/image-to-video" },
      { type: "run_again", index: 3 },
    ]);
  });

  test("a reused cell says so", () => {
    const { qa, model } = mount();
    model.update({ cells: model.get("cells").map((c) => ({ ...c, status: "completed", reused: true, reused_from: "2026-11-28 08:00" })) });
    const badge = qa(".rcnb-cell .rcnb-badge")[0];
    assert.equal(badge.textContent, "reused");
    assert.match(badge.title, /reused from 2026-11-28 08:00/);
  });
});

describe("compare", () => {
  const items = [
    { title: "a", url: "https://cdn.example/a.png", kind: "image", inputs: [{ label: "Prompt", value: "winter" }, { label: "Seed", value: "1" }] },
    { title: "b", url: "https://cdn.example/b.png", kind: "image", inputs: [{ label: "Prompt", value: "night" }, { label: "Seed", value: "1" }] },
  ];

  test("only differing inputs are listed", () => {
    assert.deepEqual(differingLabels(items), ["Prompt"]);
    const { document } = makeDom();
    const view = createCompare(document, items);
    assert.deepEqual([...view.el.querySelectorAll(".rcnb-cmp-slider .rcnb-cmp-inputs dt")].map((n) => n.textContent), ["Prompt", "Prompt"]);
    view.destroy();
  });

  test("two images get a before/after slider that clips the second", () => {
    const { el, window } = makeDom();
    const model = new FakeModel({ items });
    const cleanup = CompareView.render({ model, el });
    const range = el.querySelector(".rcnb-cmp-range");
    const after = el.querySelector(".rcnb-cmp-after");
    assert.equal(after.style.clipPath, "inset(0 0 0 50%)");
    range.value = "20";
    range.dispatchEvent(new window.Event("input", { bubbles: true }));
    assert.equal(after.style.clipPath, "inset(0 0 0 20%)");
    el.querySelector(".rcnb-btn").click(); // side by side
    assert.ok(el.querySelector(".rcnb-cmp-slider").hidden && !el.querySelector(".rcnb-cmp-side").hidden);
    cleanup();
    assert.equal(el.childElementCount, 0);
    assert.equal(model.listenerCount(), 0);
  });

  test("three results: side by side, no slider", () => {
    const { document } = makeDom();
    const view = createCompare(document, [...items, { ...items[0], title: "c", inputs: [{ label: "Prompt", value: "rain" }, { label: "Seed", value: "2" }] }]);
    assert.equal(view.el.querySelector(".rcnb-cmp-range"), null);
    assert.equal(view.el.querySelectorAll(".rcnb-cmp-item").length, 3);
    assert.deepEqual(differingLabels([...items, { inputs: [{ label: "Prompt", value: "rain" }, { label: "Seed", value: "2" }] }]), ["Prompt", "Seed"]);
  });

  test("grid selection opens compare for 2-4 cells", () => {
    const { q, qa, model, window } = mount();
    model.update({ cells: model.get("cells").map((c, i) => ({ ...c, status: "completed", outputs: [{ url: `https://cdn.example/r${i}.png`, kind: "image", name: "x" }] })) });
    assert.ok(q(".rcnb-compare-btn").disabled);
    for (const i of [0, 4]) {
      const pick = qa(".rcnb-pick")[i];
      pick.checked = true;
      pick.dispatchEvent(new window.Event("change", { bubbles: true }));
    }
    assert.equal(q(".rcnb-compare-btn").textContent, "Compare (2)");
    q(".rcnb-compare-btn").click();
    assert.ok(q(".rcnb-compare-panel .rcnb-cmp-range"));
    assert.deepEqual([...q(".rcnb-compare-panel .rcnb-cmp-slider").querySelectorAll(".rcnb-cmp-inputs dt")].map((n) => n.textContent), ["Prompt", "Prompt"]);
  });
});

describe("cleanup", () => {
  test("removes the DOM, model listeners and timers", () => {
    const { el, model, cleanup } = mount();
    model.update({ cells: model.get("cells").map((c) => ({ ...c, status: "in_progress", submitted_at: T0 })) });
    assert.equal(rig.timers.intervals.size, 1);
    cleanup();
    rig.cleanups.length = 0;
    assert.equal(el.childElementCount, 0);
    assert.equal(model.listenerCount(), 0);
    assert.equal(rig.timers.intervals.size, 0);
  });
});

test("cells share the width but stay at most 360 px wide", () => {
  const { q } = mount({ axes: [{ name: "seed", label: "Seed", values: ["1", "2"], parts: [] }], cells: [cell(0), cell(1)], cell_inputs: [[], []] });
  assert.match(q(".rcnb-grid").style.gridTemplateColumns, /^repeat\(2, minmax\(0(px)?, 360px\)\)$/);
});
