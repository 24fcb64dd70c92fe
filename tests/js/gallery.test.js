// The compact run gallery: thumbnails first, a viewer with inputs and actions, hostile values inert, clean teardown.

import assert from "node:assert/strict";
import { test } from "node:test";

import { createGallery } from "../../js/gallery.js";
import { makeDom } from "./dom.js";

const THUMB = { src: "data:image/webp;base64,UklGRg==", width: 256, height: 144 };

function items() {
  return [
    {
      local_id: "l3", request_id: "r3", model_id: "community/wan-2-1/fusionx/image-to-video",
      summary: { when: "2026-11-28 08:15", prompt: "the fox turns", status: "completed", time: "9.1 s" },
      outputs: [{ kind: "video", url: "http://127.0.0.1:9/c.mp4", thumb: THUMB, duration: 5.0625 }],
      inputs: { "600_prompt": "the fox turns" }, inline_media: { "608_image": { mime: "image/png", bytes: 20480 } },
    },
    {
      local_id: "l2", request_id: "r2", model_id: "wan-ai/wan-2-5/text-to-image",
      summary: { when: "2026-11-28 08:14", prompt: "a red fox", status: "completed", time: "4.2 s", cost: "$0.04" },
      outputs: [
        { kind: "image", url: "https://cdn.example/a.png", thumb: THUMB },
        { kind: "image", url: "https://cdn.example/b.png", thumb: THUMB },
      ],
      inputs: { prompt: "a red fox", seed: 7 }, inline_media: {},
    },
    {
      local_id: "l1", request_id: "r1", model_id: "x/y",
      summary: { prompt: '<img src=x onerror="window.pwned=1">', status: "in_queue" },
      outputs: [{ kind: "image", url: "javascript:alert(1)", thumb: { src: "data:text/html,<script>x</script>" } }],
      inputs: { prompt: '<img src=x onerror="window.pwned=1">' },
    },
  ];
}

test("tiles keep the given order and show the embedded thumbnails", () => {
  const { document, el } = makeDom();
  const gallery = createGallery(document, { onAction: () => {} });
  el.append(gallery.el);
  assert.equal(el.querySelector(".rcnb-gallery-empty").hidden, false);
  gallery.update(items());
  assert.equal(el.querySelector(".rcnb-gallery-empty").hidden, true);
  const tiles = [...el.querySelectorAll(".rcnb-gallery-tile")];
  assert.deepEqual(tiles.map((t) => t.dataset.id), ["l3", "l2", "l1"]);
  assert.equal(tiles[0].querySelector("img").getAttribute("src"), THUMB.src);
  assert.equal(tiles[0].querySelector(".rcnb-gallery-badge").textContent, "▶ 5.1 s");
  assert.equal(tiles[1].querySelector(".rcnb-gallery-badge").textContent, "×2");
  // hostile: no picture from javascript:/data:text, the prompt only as text
  assert.equal(tiles[2].querySelector("img"), null);
  assert.equal(tiles[2].querySelector(".rcnb-gallery-nothumb").textContent, "in queue");
  assert.equal(tiles[2].getAttribute("title"), '<img src=x onerror="window.pwned=1">');
  assert.equal(document.querySelectorAll("img[src='x']").length, 0);
});

test("a click opens the viewer with inputs, described inline media and the actions that apply", () => {
  const { document, el } = makeDom();
  const calls = [];
  const gallery = createGallery(document, { onAction: (type, item, index) => calls.push([type, item.local_id, index]) });
  el.append(gallery.el);
  gallery.update(items());
  el.querySelector(".rcnb-gallery-tile[data-id='l2']").click();
  const viewer = el.querySelector(".rcnb-gallery-viewer");
  assert.equal(viewer.hidden, false);
  assert.equal(viewer.querySelector(".rcnb-gallery-full").getAttribute("src"), "https://cdn.example/a.png");
  assert.match(viewer.querySelector(".rcnb-gallery-meta").textContent, /2026-11-28 08:14 · wan-ai\/wan-2-5\/text-to-image · completed · 4.2 s · \$0.04/);
  assert.deepEqual([...viewer.querySelectorAll("dt")].map((d) => d.textContent), ["prompt", "seed"]);
  viewer.querySelectorAll(".rcnb-gallery-page")[1].click();
  assert.equal(el.querySelector(".rcnb-gallery-full").getAttribute("src"), "https://cdn.example/b.png");
  const labels = [...el.querySelectorAll(".rcnb-gallery-action")].map((b) => b.textContent);
  assert.deepEqual(labels, ["Load into form", "Use as input", "Save", "Run again"]);
  el.querySelector(".rcnb-gallery-use_as_input").click();
  assert.deepEqual(calls, [["use_as_input", "l2", 1]]);

  el.querySelector(".rcnb-gallery-tile[data-id='l3']").click();
  const video = el.querySelector(".rcnb-gallery-viewer");
  assert.equal(video.querySelector(".rcnb-gallery-full").getAttribute("src"), THUMB.src, "a video shows its poster");
  assert.match(video.querySelector(".rcnb-gallery-inline").textContent, /inline image\/png, 20 KiB \(not kept/);
  assert.deepEqual([...el.querySelectorAll(".rcnb-gallery-action")].map((b) => b.textContent),
    ["Load into form", "Save", "Run again"]);
  video.dispatchEvent(new document.defaultView.KeyboardEvent("keydown", { key: "Escape" }));
  assert.equal(el.querySelector(".rcnb-gallery-viewer").hidden, true);
});

test("an expired URL falls back to the thumbnail; the queued hostile run is inert", () => {
  const { document, el, window } = makeDom();
  const gallery = createGallery(document, { onAction: () => {} });
  el.append(gallery.el);
  gallery.update(items());
  gallery.open("l2");
  const full = el.querySelector(".rcnb-gallery-full");
  full.dispatchEvent(new window.Event("error"));
  assert.equal(full.getAttribute("src"), THUMB.src);
  gallery.open("l1");
  assert.equal(el.querySelector(".rcnb-gallery-full"), null);
  assert.equal(el.querySelector(".rcnb-gallery-inputs dd").textContent, '<img src=x onerror="window.pwned=1">');
  assert.deepEqual([...el.querySelectorAll(".rcnb-gallery-action")].map((b) => b.textContent), ["Load into form", "Run again"]);
  assert.equal(window.pwned, undefined);
});

test("updates keep an open run open, drop a vanished one, and teardown leaves nothing", () => {
  const { document, el } = makeDom();
  const gallery = createGallery(document, { onAction: () => {} });
  el.append(gallery.el);
  gallery.update(items());
  gallery.open("l2");
  const base = gallery.listenerCount();
  for (let i = 0; i < 5; i++) gallery.update(items()); // re-rendering does not pile up listeners
  assert.equal(gallery.listenerCount(), base);
  assert.equal(el.querySelector(".rcnb-gallery-viewer").hidden, false);
  gallery.update(items().filter((i) => i.local_id !== "l2"));
  assert.equal(el.querySelector(".rcnb-gallery-viewer").hidden, true);
  gallery.destroy();
  assert.equal(gallery.listenerCount(), 0);
  assert.equal(el.children.length, 0);
});

test("the open viewer is kept while other runs change, rebuilt when its own run does", () => {
  const { document, el } = makeDom();
  const gallery = createGallery(document, { onAction: () => {} });
  el.append(gallery.el);
  gallery.update(items());
  gallery.open("l2");
  const picture = el.querySelector(".rcnb-gallery-full");
  const changed = items();
  changed[2].summary = { ...changed[2].summary, status: "in_progress" }; // another run moves on
  gallery.update(changed);
  assert.equal(el.querySelector(".rcnb-gallery-full"), picture, "the full-size picture is not reloaded");
  assert.ok(el.querySelector('.rcnb-gallery-tile[data-id="l2"]').classList.contains("rcnb-gallery-open"));
  changed[1].summary = { ...changed[1].summary, cost: "$0.05" };
  gallery.update(changed);
  assert.notEqual(el.querySelector(".rcnb-gallery-full"), picture);
  assert.match(el.querySelector(".rcnb-gallery-meta").textContent, /\$0\.05/);
});

test("a live run's badge, caption, Cancel on the tile, and error in the viewer", () => {
  const { document, el } = makeDom();
  const calls = [];
  const gallery = createGallery(document, { onAction: (type, item) => calls.push([type, item.local_id]) });
  el.append(gallery.el);
  gallery.update([
    { local_id: "q", summary: { status: "in queue" }, outputs: [], inputs: {}, badge: "queued · #2", caption: "seed 5", cancellable: true },
    { local_id: "f", summary: { status: "failed" }, outputs: [], inputs: {}, badge: "failed", error: "<b>boom</b>" },
  ]);
  const cells = el.querySelectorAll(".rcnb-gallery-cell");
  assert.equal(cells[0].querySelector(".rcnb-gallery-status").textContent, "queued · #2");
  assert.equal(cells[0].querySelector(".rcnb-gallery-caption").textContent, "seed 5");
  assert.equal(cells[1].querySelector(".rcnb-gallery-tile-cancel"), null);
  cells[0].querySelector(".rcnb-gallery-tile-cancel").click();
  assert.deepEqual(calls, [["cancel", "q"]]);
  cells[1].querySelector(".rcnb-gallery-tile").click();
  assert.equal(el.querySelector(".rcnb-gallery-error").textContent, "<b>boom</b>");
  assert.equal(el.querySelectorAll("b").length, 0);
});
