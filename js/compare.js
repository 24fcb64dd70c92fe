// Compare: 2-4 results side by side, only the inputs that differ listed (highlighted); two images get a
// before/after slider (switched off again if their sizes turn out to differ). Used by CompareView
// (`rc.compare(a, b)`) and by the grid's "Compare" selection.

import { definitions, mediaNode } from "./media.js";
import { asList, asText, hyper, listenerBag } from "./shared.js";

/**
 * Inputs (by label) whose values are not all equal across the items.
 * @param {Array<{inputs?: Array<{label: string, value: string}>}>} items
 * @returns {string[]}
 */
export function differingLabels(items) {
  /** @type {string[]} */
  const labels = [];
  for (const item of items) {
    for (const i of asList(item.inputs)) if (!labels.includes(i.label)) labels.push(i.label);
  }
  return labels.filter((label) => {
    const values = items.map((item) => {
      const found = asList(item.inputs).find((i) => i.label === label);
      return found ? asText(found.value) : "\u0000missing";
    });
    return new Set(values).size > 1;
  });
}

/**
 * @param {Document} doc
 * @param {Array<{title?: string, url?: string, kind?: string, inputs?: Array<{label: string, value: string}>}>} items
 * @returns {{el: HTMLElement, destroy: () => void}}
 */
export function createCompare(doc, items) {
  const h = hyper(doc);
  const undo = [];
  const shown = asList(items).slice(0, 4);
  const diff = differingLabels(shown);
  // a refused URL still takes its place (a caption, no picture), so the layout and the slider keep working
  const media = (item) =>
    mediaNode(h, item, "rcnb-cmp-media", { alt: asText(item.title), controls: true, muted: true }) ??
    h("div", { class: "rcnb-cmp-media rcnb-thumb-empty", text: "no picture" });
  const inputsOf = (item) =>
    h(
      "dl",
      { class: "rcnb-cmp-inputs" },
      definitions(h, diff.map((label) => {
        const found = asList(item.inputs).find((i) => i.label === label);
        return [label, found ? found.value : "(not set)", "rcnb-diff"];
      })),
    );
  const side = h(
    "div",
    { class: "rcnb-cmp-side" },
    shown.map((item) => h("figure", { class: "rcnb-cmp-item" }, media(item), h("figcaption", { text: asText(item.title) }), inputsOf(item))),
  );
  const el = h("div", { class: "rcnb-compare" }, diff.length ? null : h("div", { class: "rcnb-note", text: "No inputs differ." }));

  const images = shown.length === 2 && shown.every((i) => i.kind !== "video");
  if (images) {
    // Before/after: the second image on top, clipped to the slider's position.
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
    // under the slider: which is which, with the inputs that differ
    const captions = h("div", { class: "rcnb-cmp-side" }, shown.map((item, i) => h("div", { class: "rcnb-cmp-item" }, h("b", { text: `${i ? "after (right)" : "before (left)"}: ${asText(item.title)}` }), inputsOf(item))));
    // the picture and its slider in one frame as wide as the picture: the track spans the image, no wider
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
    // Sizes are known only once both have loaded: different sizes cannot be overlaid.
    const check = () => {
      if (before.naturalWidth && after.naturalWidth &&
          (before.naturalWidth !== after.naturalWidth || before.naturalHeight !== after.naturalHeight)) {
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
    },
  };
}

/** CompareView (anywidget): the trait `items` holds what `rc.compare()` was given. */
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

export default { render };
