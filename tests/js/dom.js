// Test helpers: a fresh jsdom document per test, timer accounting, event helpers.

import { afterEach, beforeEach } from "node:test";

import { JSDOM } from "jsdom";

import { FakeModel } from "./fake_model.js";

/** A fresh document with an <div> to render into. */
export function makeDom() {
  const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
  const { document } = dom.window;
  const el = document.createElement("div");
  document.body.append(el);
  return { dom, window: dom.window, document, el };
}

/**
 * Wrap the global timer functions to count live intervals / timeouts.
 * Call `restore()` when done.
 */
export function trackTimers() {
  const orig = {
    setInterval: globalThis.setInterval,
    clearInterval: globalThis.clearInterval,
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
  };
  const intervals = new Set();
  const timeouts = new Set();
  globalThis.setInterval = (fn, ms, ...a) => {
    const id = orig.setInterval(fn, ms, ...a);
    intervals.add(id);
    return id;
  };
  globalThis.clearInterval = (id) => {
    intervals.delete(id);
    return orig.clearInterval(id);
  };
  globalThis.setTimeout = (fn, ms, ...a) => {
    const id = orig.setTimeout(
      (...b) => {
        timeouts.delete(id);
        fn(...b);
      },
      ms,
      ...a,
    );
    timeouts.add(id);
    return id;
  };
  globalThis.clearTimeout = (id) => {
    timeouts.delete(id);
    return orig.clearTimeout(id);
  };
  return {
    intervals,
    timeouts,
    restore() {
      for (const id of intervals) orig.clearInterval(id);
      for (const id of timeouts) orig.clearTimeout(id);
      Object.assign(globalThis, orig);
    },
  };
}

/** Set an input's value and fire the event a person's edit would. */
export function type(input, value, event = "input") {
  const win = input.ownerDocument.defaultView;
  input.value = value;
  input.dispatchEvent(new win.Event(event, { bubbles: true }));
}

/** Fire a change on a select / checkbox. */
export function fire(node, event = "change") {
  const win = node.ownerDocument.defaultView;
  node.dispatchEvent(new win.Event(event, { bubbles: true }));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait until `cond()` is true (what a busy machine delays: file reads, late timers); fails after `ms`. */
export async function until(cond, ms = 10_000) {
  const started = Date.now();
  while (!cond()) {
    if (Date.now() - started > ms) throw new Error(`until: not true after ${ms} ms: ${cond}`);
    await sleep(10);
  }
}

/** Every src/href in the tree. */
export function urlsIn(root) {
  return [...root.querySelectorAll("[src],[href]")].flatMap((n) =>
    ["src", "href"].filter((a) => n.hasAttribute(a)).map((a) => n.getAttribute(a)),
  );
}

/**
 * Per-test bookkeeping for a widget test file (registers beforeEach/afterEach): the global timers are tracked
 * (`rig.timers`), and every view made by `rig.render(widget, state)` is cleaned up after its test.
 */
export function widgetRig() {
  const rig = {
    timers: null,
    cleanups: [],
    /** Render `widget` with a FakeModel holding `state`: the DOM (makeDom), the model and the cleanup. */
    render(widget, state) {
      const dom = makeDom();
      const model = new FakeModel(state);
      const cleanup = widget.render({ model, el: dom.el });
      rig.cleanups.push(cleanup);
      return { ...dom, model, cleanup };
    },
  };
  beforeEach(() => {
    rig.timers = trackTimers();
    rig.cleanups = [];
  });
  afterEach(() => {
    for (const c of rig.cleanups) c();
    rig.timers.restore();
  });
  return rig;
}
