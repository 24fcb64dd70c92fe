// hideStaticCopy: the live view hides its static copy (also one that arrives later), and shows it again on cleanup.

import assert from "node:assert/strict";
import { test } from "node:test";

import { hideStaticCopy } from "../../js/copy_guard.js";
import { makeDom } from "./dom.js";

function copy(document, id) {
  const div = document.createElement("div");
  div.className = "rcnb-static";
  div.dataset.rcnbCopy = id;
  div.textContent = "completed";
  document.body.append(div);
  return div;
}

const shown = (window, node) => window.getComputedStyle(node).display !== "none";

test("the copy is hidden while the view lives, including one displayed after it, and shown again after", () => {
  const { window, document, el } = makeDom();
  const before = copy(document, "abc123");
  const other = copy(document, "other");
  const undo = hideStaticCopy(el, "abc123");
  const after = copy(document, "abc123"); // the copy is displayed after the view, or replaced by an update
  assert.equal(shown(window, before), false);
  assert.equal(shown(window, after), false);
  assert.equal(shown(window, other), true, "another job's copy stays");
  undo();
  assert.equal(shown(window, before), true);
  assert.equal(shown(window, after), true);
  assert.equal(document.querySelectorAll("style").length, 0);
});

test("two views of one job: the copy stays hidden until both are gone", () => {
  const { window, document, el } = makeDom();
  const second = document.createElement("div");
  document.body.append(second);
  const node = copy(document, "job1");
  const undoFirst = hideStaticCopy(el, "job1");
  const undoSecond = hideStaticCopy(second, "job1");
  undoFirst();
  assert.equal(shown(window, node), false);
  undoSecond();
  assert.equal(shown(window, node), true);
});

test("inside a shadow root the rule goes there too; an odd id does nothing", () => {
  const { window, document } = makeDom();
  const host = document.createElement("div");
  document.body.append(host);
  const shadow = host.attachShadow({ mode: "open" });
  const el = document.createElement("div");
  shadow.append(el);
  const inside = document.createElement("div");
  inside.dataset.rcnbCopy = "s1";
  shadow.append(inside);
  const undo = hideStaticCopy(el, "s1");
  assert.equal(shadow.querySelectorAll("style").length, 1);
  assert.equal(document.head.querySelectorAll("style").length, 1);
  assert.equal(shown(window, inside), false);
  undo();
  assert.equal(shadow.querySelectorAll("style").length, 0);
  for (const bad of ["", 'x"] body{display:none}[a="', "a b", 42, null]) {
    hideStaticCopy(el, bad)();
    assert.equal(document.querySelectorAll("style").length, 0);
  }
});
