// Built from js/ by `npm run build` (esbuild). Do not edit: edit js/ and rebuild.

// js/shared.js
var KNOWN_STATUSES = Object.freeze(["submitting", "in_queue", "in_progress", "completed", "failed", "cancelled"]);
var TERMINAL_STATUSES = Object.freeze(["completed", "failed", "cancelled"]);
var STATUS_LABELS = Object.freeze({
  submitting: "submitting",
  in_queue: "in queue",
  in_progress: "in progress",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled"
});
function safeUrl(url) {
  if (typeof url !== "string") return null;
  const s = url.trim();
  if (!s || /[\u0000-\u001f\u007f]/.test(s)) return null;
  if (/^data:/i.test(s)) {
    return /^data:(image|video)\/[a-z0-9][a-z0-9.+-]*[;,]/i.test(s) ? s : null;
  }
  let parsed;
  try {
    parsed = new URL(s);
  } catch {
    return null;
  }
  return parsed.protocol === "http:" || parsed.protocol === "https:" ? s : null;
}
function hyper(doc) {
  return (tag, props, ...children) => {
    const node = doc.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = String(v);
      else if (k === "hidden" || k === "disabled" || k === "value" || k === "checked" || k === "type") node[k] = v;
      else if (/^on/.test(k)) throw new Error("hyper: attach listeners explicitly");
      else if (k === "src" || k === "href") throw new Error("hyper: use setSafeUrl for src/href");
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c == null || c === false) continue;
      node.append(typeof c === "string" ? doc.createTextNode(c) : c);
    }
    return node;
  };
}
function setSafeUrl(node, attr, url) {
  const ok = safeUrl(url);
  if (ok == null) return false;
  node.setAttribute(attr, ok);
  return true;
}
function listenerBag(model) {
  const undo = [];
  return {
    /** @param {string} event @param {Function} fn */
    model(event, fn) {
      model.on(event, fn);
      undo.push(() => model.off(event, fn));
    },
    /** @param {EventTarget} target @param {string} type @param {EventListener} fn */
    dom(target, type, fn) {
      target.addEventListener(type, fn);
      undo.push(() => target.removeEventListener(type, fn));
    },
    dispose() {
      while (undo.length) undo.pop()();
    }
  };
}
var asList = (v) => Array.isArray(v) ? v : [];
var asText = (v) => v == null ? "" : typeof v === "string" ? v : String(v);

// js/media.js
function mediaNode(h, output, cls, { alt = "", controls = false, muted = false, lazy = false } = {}) {
  const node = output?.kind === "video" ? h("video", { class: cls, controls, muted, preload: "metadata" }) : h("img", { class: cls, alt, loading: lazy ? "lazy" : null });
  return setSafeUrl(node, "src", output?.url) ? node : null;
}
function definitions(h, pairs) {
  return pairs.flatMap(([label, value, cls]) => [h("dt", { text: asText(label) }), h("dd", { class: cls, text: asText(value) })]);
}

// js/compare.js
function differingLabels(items) {
  const labels = [];
  for (const item of items) {
    for (const i of asList(item.inputs)) if (!labels.includes(i.label)) labels.push(i.label);
  }
  return labels.filter((label) => {
    const values = items.map((item) => {
      const found = asList(item.inputs).find((i) => i.label === label);
      return found ? asText(found.value) : "\0missing";
    });
    return new Set(values).size > 1;
  });
}
function createCompare(doc, items) {
  const h = hyper(doc);
  const undo = [];
  const shown = asList(items).slice(0, 4);
  const diff = differingLabels(shown);
  const media = (item) => mediaNode(h, item, "rcnb-cmp-media", { alt: asText(item.title), controls: true, muted: true }) ?? h("div", { class: "rcnb-cmp-media rcnb-thumb-empty", text: "no picture" });
  const inputsOf = (item) => h(
    "dl",
    { class: "rcnb-cmp-inputs" },
    definitions(h, diff.map((label) => {
      const found = asList(item.inputs).find((i) => i.label === label);
      return [label, found ? found.value : "(not set)", "rcnb-diff"];
    }))
  );
  const side = h(
    "div",
    { class: "rcnb-cmp-side" },
    shown.map((item) => h("figure", { class: "rcnb-cmp-item" }, media(item), h("figcaption", { text: asText(item.title) }), inputsOf(item)))
  );
  const el = h("div", { class: "rcnb-compare" }, diff.length ? null : h("div", { class: "rcnb-note", text: "No inputs differ." }));
  const images = shown.length === 2 && shown.every((i) => i.kind !== "video");
  if (images) {
    const before = media(shown[0]);
    const after = media(shown[1]);
    after.classList.add("rcnb-cmp-after");
    const range = h("input", { type: "range", min: "0", max: "100", value: "50", class: "rcnb-cmp-range", "aria-label": "before / after" });
    const place = () => {
      after.style.clipPath = `inset(0 0 0 ${range.value}%)`;
    };
    place();
    range.addEventListener("input", place);
    undo.push(() => range.removeEventListener("input", place));
    const captions = h("div", { class: "rcnb-cmp-side" }, shown.map((item, i) => h("div", { class: "rcnb-cmp-item" }, h("b", { text: `${i ? "after (right)" : "before (left)"}: ${asText(item.title)}` }), inputsOf(item))));
    const frame = h("div", { class: "rcnb-cmp-frame" }, h("div", { class: "rcnb-cmp-stack" }, before, after), range);
    const slider = h("div", { class: "rcnb-cmp-slider" }, frame, captions);
    const toggle = h("button", { class: "rcnb-btn", type: "button", text: "Side by side" });
    let sliding = true;
    const flip = () => {
      sliding = !sliding;
      slider.hidden = !sliding;
      side.hidden = sliding;
      toggle.textContent = sliding ? "Side by side" : "Before / after";
    };
    toggle.addEventListener("click", flip);
    undo.push(() => toggle.removeEventListener("click", flip));
    const check = () => {
      if (before.naturalWidth && after.naturalWidth && (before.naturalWidth !== after.naturalWidth || before.naturalHeight !== after.naturalHeight)) {
        if (sliding) flip();
        toggle.hidden = true;
      }
    };
    for (const img of [before, after]) {
      img.addEventListener("load", check);
      undo.push(() => img.removeEventListener("load", check));
    }
    side.hidden = true;
    el.append(toggle, slider, side);
  } else {
    el.append(side);
  }
  return {
    el,
    destroy() {
      while (undo.length) undo.pop()();
      el.remove();
    }
  };
}
function render({ model, el }) {
  const doc = el.ownerDocument;
  const bag = listenerBag(model);
  const root = doc.createElement("div");
  root.className = "rcnb-root rcnb-compare-view";
  el.append(root);
  let view = null;
  const refresh = () => {
    if (view) view.destroy();
    view = createCompare(doc, asList(model.get("items")));
    root.append(view.el);
  };
  bag.model("change:items", refresh);
  refresh();
  return () => {
    bag.dispose();
    if (view) view.destroy();
    root.remove();
  };
}
var compare_default = { render };
export {
  createCompare,
  compare_default as default,
  differingLabels
};
