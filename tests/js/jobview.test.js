import assert from "node:assert/strict";
import { describe, test } from "node:test";

import JobView from "../../js/jobview.js";
import { makeDom, sleep, urlsIn, widgetRig } from "./dom.js";
import { FakeModel } from "./fake_model.js";

const HOSTILE = '<img src=x onerror=alert(1)>';
const T0 = Date.now() - 10_000;

/** A JobView state with sensible defaults. */
function jobState(over = {}) {
  return {
    model_key: "wan-ai/wan-2-5/text-to-image",
    display_name: "Wan 2.5 text-to-image",
    request_id: "req-123",
    inputs_summary: [{ label: "prompt", value: "a red fox at dawn" }],
    status: "in_queue",
    queue_position: 2,
    submitted_at: T0,
    started_at: null,
    finished_at: null,
    outputs: [],
    error: "",
    cancellable: true,
    cancel_note: "",
    simulator: false,
    notice: "",
    ...over,
  };
}

const rig = widgetRig();

function mount(over) {
  const { el, window, model, cleanup } = rig.render(JobView, jobState(over));
  const q = (sel) => el.querySelector(sel);
  return { el, model, cleanup, q, window };
}

describe("status badge", () => {
  const cases = {
    submitting: "submitting",
    in_queue: "in queue",
    in_progress: "in progress",
    completed: "completed",
    failed: "failed",
    cancelled: "cancelled",
  };
  for (const [status, label] of Object.entries(cases)) {
    test(`${status} → "${label}" with its own class`, () => {
      const { q } = mount({ status });
      const badge = q(".rcnb-status");
      assert.equal(badge.textContent, label);
      assert.ok(badge.classList.contains(`rcnb-status-${status}`), badge.className);
    });
  }
  test("an unknown status renders as a neutral badge with its text", () => {
    const { q, model } = mount({ status: "paused_by_gnomes" });
    assert.equal(q(".rcnb-status").textContent, "paused_by_gnomes");
    assert.ok(q(".rcnb-status").classList.contains("rcnb-status-other"));
    model.update({ status: 42 });
    assert.equal(q(".rcnb-status").textContent, "42");
    model.update({ status: null });
    assert.equal(q(".rcnb-status").textContent, "unknown");
  });
  test("status changes update the badge", () => {
    const { q, model } = mount();
    model.update({ status: "in_progress", queue_position: null, started_at: T0 + 1000 });
    assert.equal(q(".rcnb-status").textContent, "in progress");
    assert.ok(q(".rcnb-status").classList.contains("rcnb-status-in_progress"));
    assert.ok(!q(".rcnb-status").classList.contains("rcnb-status-in_queue"));
  });
});

test("header: title, request id, simulator badge", () => {
  const { q, model } = mount();
  assert.equal(q(".rcnb-title").textContent, "Wan 2.5 text-to-image");
  assert.equal(q(".rcnb-model-id").textContent, "wan-ai/wan-2-5/text-to-image");
  assert.equal(q(".rcnb-reqid").textContent, "req-123");
  assert.equal(q(".rcnb-sim").hidden, true);
  model.update({ simulator: true, display_name: "" });
  assert.equal(q(".rcnb-sim").hidden, false);
  assert.equal(q(".rcnb-sim").textContent, "simulator");
  assert.equal(q(".rcnb-title").textContent, "wan-ai/wan-2-5/text-to-image");
  model.update({ request_id: "" });
  assert.equal(q(".rcnb-reqid").hidden, true);
});

test("queue position: shown only while in queue, 1-based", () => {
  const { q, model } = mount({ queue_position: 2 });
  assert.equal(q(".rcnb-queue").textContent, "position 3");
  assert.equal(q(".rcnb-queue").getAttribute("title"), "2 job(s) ahead");
  model.update({ queue_position: 0 });
  assert.equal(q(".rcnb-queue").textContent, "next in line");
  model.update({ status: "in_progress", queue_position: null });
  assert.equal(q(".rcnb-queue").hidden, true);
});

test("inputs summary: compact label/value list", () => {
  const { el } = mount({ inputs_summary: [{ label: "prompt", value: "a fox" }, { label: "seed", value: "7" }] });
  assert.deepEqual([...el.querySelectorAll(".rcnb-inputs dt")].map((n) => n.textContent), ["prompt", "seed"]);
  assert.deepEqual([...el.querySelectorAll(".rcnb-inputs dd")].map((n) => n.textContent), ["a fox", "7"]);
});

describe("elapsed time", () => {
  test("ticks in the browser while running", async () => {
    const { q } = mount({ submitted_at: Date.now() - 65_000 });
    assert.match(q(".rcnb-elapsed").textContent, /^1m 0[5-9]s$/);  // 65 s ago, and mounting may be slow
    assert.equal(rig.timers.intervals.size, 1, "one interval while running");
    const before = q(".rcnb-elapsed").textContent;
    const t = Date.now();
    await sleep(1100);
    assert.ok(Date.now() - t >= 1000);
    assert.notEqual(q(".rcnb-elapsed").textContent, before);
  });
  test("freezes at finished_at − submitted_at and stops the timer", async () => {
    const { q, model } = mount({ status: "in_progress", submitted_at: T0, started_at: T0 + 2000 });
    assert.equal(rig.timers.intervals.size, 1);
    model.update({ status: "completed", finished_at: T0 + 7300, cancellable: false });
    assert.equal(q(".rcnb-elapsed").textContent, "7.3 s");
    assert.equal(q(".rcnb-elapsed").getAttribute("title"), "queued 2.0 s · running 5.3 s");
    assert.equal(rig.timers.intervals.size, 0, "no interval once finished");
    await sleep(300);
    assert.equal(q(".rcnb-elapsed").textContent, "7.3 s");
  });
  test("a finished job renders without any timer", () => {
    const { q } = mount({ status: "failed", finished_at: T0 + 1500, error: "boom" });
    assert.equal(q(".rcnb-elapsed").textContent, "1.5 s");
    assert.equal(rig.timers.intervals.size, 0);
  });
});

describe("cancel", () => {
  test("enabled only when cancellable; one click sends one cancel and shows cancelling…", () => {
    const { q, model } = mount({ cancellable: true });
    const btn = q(".rcnb-cancel");
    assert.equal(btn.disabled, false);
    btn.click();
    btn.click();
    btn.dispatchEvent(new btn.ownerDocument.defaultView.Event("click"));
    assert.deepEqual(model.sent, [{ type: "cancel" }]);
    assert.equal(btn.disabled, true);
    assert.equal(btn.textContent, "cancelling…");
    model.update({ notice: "unrelated" });
    assert.equal(btn.disabled, true, "still cancelling until the state changes");
    model.update({ status: "cancelled", cancellable: false, finished_at: T0 + 5000 });
    assert.equal(btn.textContent, "Cancel");
    assert.equal(btn.disabled, true);
    assert.equal(btn.hidden, true, "hidden once there is nothing left to cancel");
  });
  test("disabled when not cancellable, with the note shown", () => {
    const { q, model } = mount({ status: "in_progress", cancellable: false, cancel_note: "not cancellable — already running" });
    assert.equal(q(".rcnb-cancel").disabled, true);
    q(".rcnb-cancel").click();
    assert.deepEqual(model.sent, []);
    assert.equal(q(".rcnb-cancel-note").textContent, "not cancellable — already running");
    assert.equal(q(".rcnb-cancel-note").hidden, false);
    model.update({ cancel_note: "" });
    assert.equal(q(".rcnb-cancel-note").hidden, true);
  });
  test("the button comes back if the API refused (cancel_note arrives, still queued)", () => {
    const { q, model } = mount({ cancellable: true });
    q(".rcnb-cancel").click();
    model.update({ cancel_note: "not cancellable" , cancellable: false });
    assert.equal(q(".rcnb-cancel").textContent, "Cancel");
  });
});

describe("save and notice", () => {
  test("Save is enabled only when completed with outputs, and sends save", () => {
    const { q, model } = mount();
    assert.equal(q(".rcnb-save").disabled, true);
    model.update({ status: "completed", finished_at: T0 + 1, outputs: [{ url: "https://x.test/a.png", kind: "image", mime: "image/png", name: "a.png" }] });
    assert.equal(q(".rcnb-save").disabled, false);
    q(".rcnb-save").click();
    assert.deepEqual(model.sent, [{ type: "save" }]);
    model.update({ notice: "Saved 1 file to runcomfy_outputs/" });
    assert.equal(q(".rcnb-notice").textContent, "Saved 1 file to runcomfy_outputs/");
    assert.equal(q(".rcnb-notice").hidden, false);
  });

  test("a job that ended without outputs shows no Save button", () => {
    const { q, model } = mount();
    assert.equal(q(".rcnb-save").hidden, false);
    model.update({ status: "cancelled", cancellable: false, finished_at: T0 + 1 });
    assert.equal(q(".rcnb-save").hidden, true);
    model.update({ status: "failed", error: "boom" });
    assert.equal(q(".rcnb-save").hidden, true);
  });
});

describe("outputs", () => {
  const img = (n) => ({ url: `https://cdn.test/out/${n}.png`, kind: "image", mime: "image/png", name: `${n}.png` });
  const vid = { url: "http://127.0.0.1:9000/files/v.mp4", kind: "video", mime: "video/mp4", name: "v.mp4" };

  test("one image: <img>, no gallery; click opens the lightbox, Escape or a click closes it", () => {
    const { el, q, window, cleanup } = mount({ status: "completed", finished_at: T0 + 1, outputs: [img(1)] });
    const doc = window.document;
    const imgs = el.querySelectorAll(".rcnb-outputs img");
    assert.equal(imgs.length, 1);
    assert.equal(imgs[0].getAttribute("src"), "https://cdn.test/out/1.png");
    assert.equal(q(".rcnb-outputs").classList.contains("rcnb-gallery"), false);
    assert.equal(q(".rcnb-caption").textContent, "1.png");
    assert.equal(doc.querySelector(".rcnb-lightbox"), null);
    imgs[0].click();
    const box = doc.querySelector(".rcnb-lightbox");
    assert.ok(box.closest(".rcnb-root"), "styled: inside its own .rcnb-root");
    assert.equal(box.querySelector(".rcnb-lightbox-img").getAttribute("src"), "https://cdn.test/out/1.png");
    assert.equal(box.querySelector(".rcnb-lightbox-open").getAttribute("href"), "https://cdn.test/out/1.png");
    assert.equal(box.querySelector(".rcnb-lightbox-open").getAttribute("target"), "_blank");
    assert.equal(box.querySelector(".rcnb-lightbox-open").getAttribute("rel"), "noopener noreferrer");
    assert.equal(doc.activeElement, box);
    box.dispatchEvent(new window.KeyboardEvent("keydown", { key: "Escape" }));
    assert.equal(doc.querySelector(".rcnb-lightbox"), null);
    imgs[0].click();
    doc.querySelector(".rcnb-lightbox").click();
    assert.equal(doc.querySelector(".rcnb-lightbox"), null);
    imgs[0].click();
    cleanup();
    assert.equal(doc.querySelector(".rcnb-lightbox"), null, "cleanup closes an open lightbox");
  });

  test("a data: image opens in the lightbox with a download link instead of a new tab", () => {
    const url = "data:image/png;base64,iVBORw0KGgo=";
    const { q, window } = mount({ status: "completed", finished_at: T0 + 1, outputs: [{ url, kind: "image", mime: "image/png", name: "x.png" }] });
    q(".rcnb-outputs img").click();
    const link = window.document.querySelector(".rcnb-lightbox-open");
    assert.equal(link.getAttribute("href"), url);
    assert.equal(link.getAttribute("download"), "x.png");
    assert.equal(link.hasAttribute("target"), false);
  });

  test("several outputs: gallery grid; video as <video controls preload=metadata>; file as a link", () => {
    const file = { url: "https://cdn.test/out/x.zip", kind: "file", mime: "application/zip", name: "x.zip" };
    const { el, q } = mount({ status: "completed", finished_at: T0 + 1, outputs: [img(1), img(2), vid, file] });
    assert.ok(q(".rcnb-outputs").classList.contains("rcnb-gallery"));
    assert.equal(el.querySelectorAll(".rcnb-outputs img").length, 2);
    const v = q(".rcnb-outputs video");
    assert.equal(v.getAttribute("src"), vid.url);
    assert.ok(v.hasAttribute("controls"));
    assert.equal(v.getAttribute("preload"), "metadata");
    const a = q(".rcnb-outputs a.rcnb-file");
    assert.equal(a.getAttribute("href"), file.url);
    assert.equal(a.textContent, "x.zip");
    assert.equal(a.getAttribute("rel"), "noopener noreferrer");
  });

  test("an unchanged video element is kept across updates (it would restart)", () => {
    const { q, model, el } = mount({ status: "in_progress", outputs: [vid] });
    const v1 = q("video");
    model.update({ notice: "x" });
    model.update({ status: "completed", finished_at: T0 + 1, outputs: [{ ...vid }, img(1)] });
    assert.equal(q("video"), v1, "same <video> node");
    assert.equal(el.querySelectorAll(".rcnb-output").length, 2);
    model.update({ outputs: [img(1)] });
    assert.equal(q("video"), null);
    assert.equal(el.querySelectorAll(".rcnb-output").length, 1);
  });

  test("data:image/* and data:video/* URIs are used; anything else is shown as text only", () => {
    const hostile = [
      { url: "javascript:alert(1)", kind: "image", mime: "image/png", name: "js.png" },
      { url: "file:///etc/passwd", kind: "file", mime: "text/plain", name: "passwd" },
      { url: "JaVaScRiPt:alert(2)", kind: "video", mime: "video/mp4", name: "js.mp4" },
      { url: "data:text/html,<script>alert(3)</script>", kind: "file", mime: "text/html", name: "x.html" },
      { url: "java\nscript:alert(4)", kind: "file", mime: "", name: "nl" },
    ];
    const ok = { url: "data:image/png;base64,iVBORw0KGgo=", kind: "image", mime: "image/png", name: "inline.png" };
    const { el } = mount({ status: "completed", finished_at: T0 + 1, outputs: [...hostile, ok] });
    assert.deepEqual(urlsIn(el), [ok.url]);
    const unsafe = [...el.querySelectorAll(".rcnb-unsafe")].map((n) => n.textContent);
    assert.equal(unsafe.length, hostile.length);
    assert.ok(unsafe[0].includes("javascript:alert(1)"));
    assert.equal(el.querySelectorAll("script").length, 0);
  });
});

test("error is shown as preformatted text", () => {
  const { q, model } = mount();
  assert.equal(q(".rcnb-error").hidden, true);
  model.update({ status: "failed", finished_at: T0 + 1, error: "req-123: model failed\n  CUDA out of memory" });
  assert.equal(q(".rcnb-error").tagName, "PRE");
  assert.equal(q(".rcnb-error").textContent, "req-123: model failed\n  CUDA out of memory");
  assert.equal(q(".rcnb-error").hidden, false);
});

test("hostile strings are text, never markup", () => {
  const { el, q } = mount({
    display_name: HOSTILE,
    model_key: HOSTILE,
    request_id: HOSTILE,
    status: HOSTILE,
    inputs_summary: [{ label: HOSTILE, value: HOSTILE }],
    error: HOSTILE,
    cancel_note: HOSTILE,
    notice: HOSTILE,
    outputs: [{ url: "https://x.test/a.png", kind: "image", mime: HOSTILE, name: HOSTILE }],
  });
  assert.equal(q(".rcnb-title").textContent, HOSTILE);
  assert.equal(q(".rcnb-inputs dd").textContent, HOSTILE);
  assert.equal(q(".rcnb-error").textContent, HOSTILE);
  assert.equal(q(".rcnb-status").textContent, HOSTILE);
  assert.equal(q(".rcnb-notice").textContent, HOSTILE);
  // the only <img> is the real output
  const imgs = [...el.querySelectorAll("img")];
  assert.deepEqual(imgs.map((i) => i.getAttribute("src")), ["https://x.test/a.png"]);
  assert.equal(el.querySelectorAll("[onerror]").length, 0);
  assert.equal(el.querySelectorAll('img[src="x"]').length, 0);
  // text nodes carry the string verbatim (serialised escaped)
  assert.ok(el.innerHTML.includes("&lt;img src=x onerror=alert(1)&gt;"));
});

test("malformed traits do not crash", () => {
  const { q, model } = mount({ inputs_summary: null, outputs: null, error: null, cancel_note: null, notice: null });
  assert.equal(q(".rcnb-inputs").hidden, true);
  model.update({ outputs: [null, 3, { url: 5, kind: "image" }], inputs_summary: [null, { label: 1, value: 2 }] });
  assert.equal(q(".rcnb-inputs dd").textContent, "2");
});

test("cleanup removes listeners, timers and DOM", async () => {
  const { el, model, cleanup } = mount({ submitted_at: Date.now() });
  assert.ok(model.listenerCount() > 0);
  assert.equal(rig.timers.intervals.size, 1);
  cleanup();
  assert.equal(model.listenerCount(), 0);
  assert.equal(rig.timers.intervals.size, 0);
  assert.equal(el.children.length, 0);
  model.update({ status: "completed", finished_at: Date.now() });
  model.emit("change:status");
  assert.equal(el.children.length, 0);
  assert.equal(rig.timers.intervals.size, 0);
});

test("two views of one model are independent", () => {
  const a = makeDom();
  const model = new FakeModel(jobState({ submitted_at: Date.now() }));
  const c1 = JobView.render({ model, el: a.el });
  const b = makeDom();
  const c2 = JobView.render({ model, el: b.el });
  assert.equal(rig.timers.intervals.size, 2);
  c1();
  assert.equal(rig.timers.intervals.size, 1);
  model.update({ status: "in_progress" });
  assert.equal(b.el.querySelector(".rcnb-status").textContent, "in progress");
  c2();
  assert.equal(model.listenerCount(), 0);
  assert.equal(rig.timers.intervals.size, 0);
});

describe("cost, seed and reuse", () => {
  const done = { status: "completed", finished_at: T0 + 1, cancellable: false, outputs: [{ url: "https://x.test/a.png", kind: "image", name: "a.png" }] };

  test("the cost and the seed sent show once known", () => {
    const { q, model } = mount({ seed: 42, cost: null });
    assert.equal(q(".rcnb-seed").textContent, "seed 42");
    assert.equal(q(".rcnb-cost").hidden, true); // no cost before the result
    model.update({ ...done, cost: 0.04 });
    assert.equal(q(".rcnb-cost").textContent, "$0.040");
    assert.equal(q(".rcnb-cost").hidden, false);
    model.update({ seed: null });
    assert.equal(q(".rcnb-seed").hidden, true);
  });

  test("a job that was sent has no reuse note and no Run again", () => {
    const { q } = mount(done);
    assert.equal(q(".rcnb-reused").hidden, true);
    assert.equal(q(".rcnb-run-again").hidden, true);
  });

  test("a reused job says from when, and Run again asks Python once", () => {
    const { q, model } = mount({ ...done, request_id: "req-old", reused: true, reused_from: "2026-11-27 18:04" });
    assert.equal(q(".rcnb-reused").textContent, "reused from 2026-11-27 18:04");
    const again = q(".rcnb-run-again");
    assert.equal(again.hidden, false);
    again.click();
    again.click(); // a double click sends one run, not two
    assert.deepEqual(model.messages("run_again"), [{ type: "run_again" }]);
    assert.equal(again.disabled, true);
    // Python now follows the fresh job: a new request, not reused, no button
    model.update({ request_id: "req-new", reused: false, reused_from: "", status: "in_queue", cancellable: true, outputs: [], finished_at: null });
    assert.equal(q(".rcnb-reused").hidden, true);
    assert.equal(again.hidden, true);
    assert.equal(q(".rcnb-reqid").textContent, "req-new");
  });

  test("a hostile reuse time stays text", () => {
    const { q, el } = mount({ ...done, reused: true, reused_from: HOSTILE });
    assert.ok(q(".rcnb-reused").textContent.includes(HOSTILE));
    assert.equal(el.querySelector("img[src=x]"), null);
  });
});

test("the live view hides its own static copy (data-rcnb-copy = copy_id) and shows it again on cleanup", () => {
  const { el, window, cleanup } = mount({ copy_id: "job0copy" });
  const doc = el.ownerDocument;
  const copy = doc.createElement("div");
  copy.dataset.rcnbCopy = "job0copy";
  const other = doc.createElement("div");
  other.dataset.rcnbCopy = "anotherjob";
  doc.body.append(copy, other);
  assert.equal(window.getComputedStyle(copy).display, "none");
  assert.notEqual(window.getComputedStyle(other).display, "none");
  cleanup();
  assert.notEqual(window.getComputedStyle(copy).display, "none");
});

test("an expired output URL falls back to the embedded thumbnail (image) or poster frame (video)", () => {
  const thumb = { src: "data:image/webp;base64,UklGRg==", width: 256, height: 256 };
  const { el, window } = mount({ status: "completed", outputs: [
    { kind: "image", url: "https://cdn.example/gone.png", name: "a.png", thumb },
    { kind: "video", url: "https://cdn.example/gone.mp4", name: "b.mp4", thumb },
  ] });
  const img = el.querySelector(".rcnb-output-image img");
  img.dispatchEvent(new window.Event("error"));
  assert.equal(img.getAttribute("src"), thumb.src);
  const video = el.querySelector(".rcnb-output-video video");
  assert.equal(video.getAttribute("poster"), thumb.src);
  video.dispatchEvent(new window.Event("error"));
  assert.equal(el.querySelector(".rcnb-output-video video"), null);
  assert.equal(el.querySelector(".rcnb-output-video img.rcnb-poster").getAttribute("src"), thumb.src);
});
