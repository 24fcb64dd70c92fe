import assert from "node:assert/strict";
import { test } from "node:test";

import { definitions, mediaNode } from "../../js/media.js";
import { hyper } from "../../js/shared.js";
import { makeDom } from "./dom.js";

test("mediaNode: <video> for a video, <img> otherwise, nothing for a refused URL", () => {
  const h = hyper(makeDom().document);
  const video = mediaNode(h, { kind: "video", url: "http://127.0.0.1:9/a.mp4" }, "m", { controls: true });
  assert.equal(video.tagName, "VIDEO");
  assert.equal(video.getAttribute("src"), "http://127.0.0.1:9/a.mp4");
  assert.ok(video.hasAttribute("controls") && !video.hasAttribute("muted"));
  const img = mediaNode(h, { kind: "image", url: "http://127.0.0.1:9/a.png" }, "m", { alt: "<b>x</b>", lazy: true });
  assert.deepEqual([img.tagName, img.className, img.alt, img.getAttribute("loading")], ["IMG", "m", "<b>x</b>", "lazy"]);
  assert.equal(mediaNode(h, { kind: "image", url: "javascript:alert(1)" }, "m"), null);
  assert.equal(mediaNode(h, undefined, "m"), null);
});

test("definitions: label/value pairs as text, with an optional class on the value", () => {
  const h = hyper(makeDom().document);
  const nodes = definitions(h, [["<i>a</i>", 1], ["b", null, "hot"]]);
  assert.deepEqual(nodes.map((n) => [n.tagName, n.textContent, n.className]),
                   [["DT", "<i>a</i>", ""], ["DD", "1", ""], ["DT", "b", ""], ["DD", "", "hot"]]);
  assert.equal(nodes[0].children.length, 0);
});
