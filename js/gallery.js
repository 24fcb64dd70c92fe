// A compact gallery of runs, for the history widget and the form's run list: a grid of thumbnails in the
// order given (Python sends newest first); a click opens a viewer with the run's picture, its inputs and its
// actions. Items are `JobList.gallery_items()` (runcomfy_nb/records.py):
//   {local_id, request_id, model_id, summary: {when, prompt, status, time, results, ...},
//    outputs: [{url, kind, name, local, thumb: {src, width, height}, duration}], inputs, inline_media}
// Pictures come from the embedded thumbnail first (it outlives the URL), the URL only for the viewer's full
// size. Every string is text; src only through setSafeUrl. (Styles: .rcnb-gallery* rules in widgets.css.)
// A form's live runs add optional keys: `badge` (status while running, on the tile), `caption` (seed · cost,
// under the tile), `note` (e.g. "reused from …"), `error` (a failed run's text) and `cancellable` (a Cancel
// button on the tile and in the viewer).

import { definitions } from "./media.js";
import { asList, asText, hyper, setSafeUrl } from "./shared.js";

/** [message type, button label]: what a person can do with a run. */
export const GALLERY_ACTIONS = Object.freeze([
  ["load", "Load into form"],
  ["use_as_input", "Use as input"],
  ["save", "Save"],
  ["run_again", "Run again"],
  ["cancel", "Cancel"],
]);

const isObj = (v) => v != null && typeof v === "object" && !Array.isArray(v);

/** @param {any} output */
function thumbOf(output) {
  const thumb = isObj(output?.thumb) ? output.thumb : isObj(output?.poster) ? output.poster : null;
  return thumb && typeof thumb.src === "string" ? thumb.src : null;
}

/** @param {any} seconds */
function durationText(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return "";
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;
}

/** Which actions make sense for this run. @param {any} item */
function actionsFor(item) {
  const outputs = asList(item?.outputs);
  const completed = asText(item?.summary?.status) === "completed";
  return {
    load: isObj(item?.inputs),
    use_as_input: completed && outputs.some((o) => o?.kind === "image"),
    save: completed && outputs.length > 0,
    run_again: isObj(item?.inputs),
    cancel: item?.cancellable === true,
  };
}

/**
 * @param {Document} doc
 * @param {{onAction: (type: string, item: any, outputIndex: number) => void, actions?: string[]}} opts
 *   `actions`: the action types offered (default: all of GALLERY_ACTIONS)
 * @returns {{el: HTMLElement, update: (items: any[]) => void, updateItem: (item: any) => boolean,
 *            open: (localId: string) => void,
 *            close: () => void, destroy: () => void}}
 */
export function createGallery(doc, { onAction, actions = GALLERY_ACTIONS.map(([type]) => type) }) {
  const h = hyper(doc);
  const listeners = [];
  const listen = (node, type, fn) => {
    node.addEventListener(type, fn);
    listeners.push([node, type, fn]);
  };
  // Before a part is rebuilt: forget the listeners of the nodes inside it.
  const dropInside = (container) => {
    for (let i = listeners.length - 1; i >= 0; i--) {
      const [node, type, fn] = listeners[i];
      if (node !== container && container.contains(node)) {
        node.removeEventListener(type, fn);
        listeners.splice(i, 1);
      }
    }
  };
  const grid = h("div", { class: "rcnb-gallery-grid", role: "list" });
  const viewer = h("div", { class: "rcnb-gallery-viewer", hidden: true, tabindex: "-1" });
  const empty = h("div", { class: "rcnb-gallery-empty", text: "No runs yet." });
  const el = h("div", { class: "rcnb-gallery" }, empty, grid, viewer);
  const state = { items: [], openId: null, outputIndex: 0, shown: "" };

  function tile(item) {
    const output = asList(item.outputs)[0];
    const button = h("button", { class: "rcnb-gallery-tile", type: "button",
                                 "data-id": asText(item.local_id), "data-status": asText(item.summary?.status),
                                 title: asText(item.summary?.prompt) });
    const img = h("img", { class: "rcnb-gallery-thumb", alt: asText(item.summary?.prompt), loading: "lazy" });
    if (setSafeUrl(img, "src", thumbOf(output) ?? (output?.kind === "image" ? output?.url : null))) button.append(img);
    else button.append(h("span", { class: "rcnb-gallery-nothumb", text: (!asText(item.badge) && asText(item.summary?.status).replace("_", " ")) || "…" }));
    const badges = [];
    if (output?.kind === "video") badges.push(`▶ ${durationText(output.duration)}`.trim());
    if (asList(item.outputs).length > 1) badges.push(`×${asList(item.outputs).length}`);
    if (badges.length) button.append(h("span", { class: "rcnb-gallery-badge", text: badges.join(" ") }));
    if (asText(item.badge)) button.append(h("span", { class: "rcnb-gallery-status", text: asText(item.badge) }));
    listen(button, "click", () => open(asText(item.local_id)));
    // a cell per run: the tile, then what a live run adds beside it (a button cannot hold a button)
    const cell = h("div", { class: "rcnb-gallery-cell", role: "listitem", "data-id": asText(item.local_id) }, button);
    if (item.cancellable === true && actions.includes("cancel")) {
      const cancel = h("button", { type: "button", class: "rcnb-gallery-tile-cancel", text: "Cancel" });
      listen(cancel, "click", () => {
        cancel.disabled = true; // one message per click, until the run's next state arrives
        onAction("cancel", item, 0);
      });
      cell.append(cancel);
    }
    if (asText(item.caption)) cell.append(h("div", { class: "rcnb-gallery-caption", text: asText(item.caption) }));
    return cell;
  }

  function renderViewer() {
    state.shown = JSON.stringify(state.items.find((i) => asText(i.local_id) === state.openId) ?? null);
    dropInside(viewer);
    viewer.replaceChildren();
    const item = state.items.find((i) => asText(i.local_id) === state.openId);
    viewer.hidden = !item;
    if (!item) return;
    const outputs = asList(item.outputs);
    const output = outputs[state.outputIndex] ?? outputs[0];
    const picture = h("img", { class: "rcnb-gallery-full", alt: asText(item.summary?.prompt) });
    // full size from the URL while it lives; the thumbnail when it has expired (or is not an image URL)
    const fallback = thumbOf(output);
    const full = output?.kind === "image" ? output.url : null;
    if (setSafeUrl(picture, "src", full ?? fallback)) {
      if (full && fallback) listen(picture, "error", () => setSafeUrl(picture, "src", fallback));
      viewer.append(picture);
    }
    if (outputs.length > 1) {
      const pager = h("div", { class: "rcnb-gallery-pager" });
      outputs.forEach((_, index) => {
        const b = h("button", { type: "button", class: "rcnb-gallery-page", text: String(index + 1),
                                "aria-pressed": String(index === state.outputIndex) });
        listen(b, "click", () => { state.outputIndex = index; renderViewer(); });
        pager.append(b);
      });
      viewer.append(pager);
    }
    const s = isObj(item.summary) ? item.summary : {};
    viewer.append(h("div", { class: "rcnb-gallery-meta",
                             text: [s.when, asText(item.model_id), s.status, s.time, s.seed, s.cost, item.note]
                               .filter(Boolean).map(asText).join(" · ") }));
    if (asText(item.error)) viewer.append(h("pre", { class: "rcnb-gallery-error", text: asText(item.error) }));
    const inputs = Object.entries(isObj(item.inputs) ? item.inputs : {})
      .map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]);
    const inline = Object.entries(isObj(item.inline_media) ? item.inline_media : {}).map(([key, media]) => {
      const size = typeof media?.bytes === "number" ? `, ${Math.max(1, Math.round(media.bytes / 1024))} KiB` : "";
      return [key, `inline ${asText(media?.mime)}${size} (not kept: choose it again)`, "rcnb-gallery-inline"];
    });
    const rows = h("dl", { class: "rcnb-gallery-inputs" }, definitions(h, [...inputs, ...inline]));
    viewer.append(rows);
    const allowed = actionsFor(item);
    const bar = h("div", { class: "rcnb-gallery-actions" });
    for (const [type, label] of GALLERY_ACTIONS) {
      if (!allowed[type] || !actions.includes(type)) continue;
      const b = h("button", { type: "button", class: `rcnb-gallery-action rcnb-gallery-${type}`, text: label });
      listen(b, "click", () => onAction(type, item, state.outputIndex));
      bar.append(b);
    }
    const closeButton = h("button", { type: "button", class: "rcnb-gallery-close", text: "Close" });
    listen(closeButton, "click", close);
    bar.append(closeButton);
    viewer.append(bar);
  }

  function open(localId) {
    state.openId = localId;
    state.outputIndex = 0;
    renderViewer();
    for (const t of grid.querySelectorAll(".rcnb-gallery-tile")) t.classList.toggle("rcnb-gallery-open", t.dataset.id === localId);
  }

  function close() {
    state.openId = null;
    renderViewer();
    for (const t of grid.querySelectorAll(".rcnb-gallery-tile")) t.classList.remove("rcnb-gallery-open");
  }

  function update(items) {
    dropInside(grid); // tiles are rebuilt (a page is a few dozen)
    state.items = asList(items).filter(isObj);
    grid.replaceChildren(...state.items.map(tile));
    empty.hidden = state.items.length > 0;
    if (state.openId && !state.items.some((i) => asText(i.local_id) === state.openId)) state.openId = null;
    // the open run's viewer is rebuilt only when that run changed (other runs' updates must not reload it)
    const shown = JSON.stringify(state.items.find((i) => asText(i.local_id) === state.openId) ?? null);
    if (shown !== state.shown) renderViewer();
    for (const t of grid.querySelectorAll(".rcnb-gallery-tile")) t.classList.toggle("rcnb-gallery-open", t.dataset.id === state.openId);
  }

  /** One run changed (an item message): its tile is rebuilt alone, and the viewer if it shows that run. */
  function updateItem(item) {
    const id = asText(item?.local_id);
    const at = state.items.findIndex((i) => asText(i.local_id) === id);
    const old = [...grid.children].find((c) => /** @type {HTMLElement} */ (c).dataset.id === id);
    if (at < 0 || !old || !isObj(item)) return false;
    state.items[at] = item;
    dropInside(old);
    const cell = tile(item);
    old.replaceWith(cell);
    cell.querySelector(".rcnb-gallery-tile")?.classList.toggle("rcnb-gallery-open", id === state.openId);
    if (id === state.openId && JSON.stringify(item) !== state.shown) renderViewer();
    return true;
  }

  listen(viewer, "keydown", (event) => { if (event.key === "Escape") close(); });

  function destroy() {
    for (const [node, type, fn] of listeners) node.removeEventListener(type, fn);
    listeners.length = 0;
    el.remove();
  }

  return { el, update, updateItem, open, close, destroy, listenerCount: () => listeners.length };
}
