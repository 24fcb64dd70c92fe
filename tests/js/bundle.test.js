// The built bundles in runcomfy_nb/static/ (what anywidget actually loads) work on their own,
// and the sources keep to the rules: no HTML parsing of data, no module-level mutable state.

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { makeDom } from "./dom.js";
import { FakeModel } from "./fake_model.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const staticDir = path.join(repo, "runcomfy_nb", "static");
const sources = readdirSync(path.join(repo, "js")).filter((f) => f.endsWith(".js"));

for (const name of ["jobview.js", "form.js"]) {
  test(`static/${name} is a self-contained ESM with a render() that cleans up`, async () => {
    const code = readFileSync(path.join(staticDir, name), "utf8");
    assert.ok(!/^\s*import\s/m.test(code), "no imports left in the bundle");
    const mod = await import(pathToFileURL(path.join(staticDir, name)).href);
    assert.equal(typeof mod.default.render, "function");
    const { el } = makeDom();
    const model = new FakeModel(
      name === "jobview.js"
        ? { status: "completed", model_key: "m", outputs: [], inputs_summary: [] }
        : { model_key: "m", fields: [{ key: "prompt", label: "Prompt", kind: "text", required: true }], values: {}, errors: {}, history: [] },
    );
    const cleanup = mod.default.render({ model, el });
    assert.ok(el.querySelector(".rcnb-root"));
    cleanup();
    assert.equal(model.listenerCount(), 0);
    assert.equal(el.children.length, 0);
  });
}

test("static/widgets.css is js/widgets.css then js/sweep.css, and every rule is scoped under .rcnb-root", () => {
  const parts = ["widgets.css", "sweep.css"].map((f) => readFileSync(path.join(repo, "js", f), "utf8"));
  const css = readFileSync(path.join(staticDir, "widgets.css"), "utf8");
  assert.equal(css, parts.join("\n"));
  const noComments = css.replace(/\/\*[\s\S]*?\*\//g, "");
  const selectors = [...noComments.matchAll(/([^{}]+)\{/g)]
    .map((m) => m[1].trim())
    .filter((s) => !s.startsWith("@") && !/^(to|from|\d+%)$/.test(s));
  for (const group of selectors) {
    // a comma inside :is(…) does not split the selector list
    for (const sel of group.split(/,(?![^(]*\))/)) assert.match(sel.trim(), /^\.rcnb-root\b/, `unscoped selector: ${sel.trim()}`);
  }
});

test("sources never parse strings as HTML", () => {
  for (const f of sources) {
    const code = readFileSync(path.join(repo, "js", f), "utf8");
    assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/.test(code), f);
  }
});

test("sources have no module-level mutable state", () => {
  for (const f of sources) {
    const code = readFileSync(path.join(repo, "js", f), "utf8");
    assert.deepEqual(code.match(/^(let|var)\s.*$/gm) || [], [], f);
  }
});
