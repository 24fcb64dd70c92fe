// SweepView: the live, labelled grid of a sweep (anywidget ESM entry point).
// The last two axes are the columns and rows; any earlier axes make stacked sections. Python sends only real
// state changes (the `cells` list, or one changed cell alone: js/list_items.js); elapsed times tick here.
// Commands go back as messages:
// cancel_all, save_all, cancel {index}, run_again {index}, load_into_form {index}, use_as_input {index, model}.

import { createCompare } from "./compare.js";
import { listItems } from "./list_items.js";
import { definitions, mediaNode } from "./media.js";
import { TERMINAL_STATUSES, TICK_MS, asList, asText, elapsedInfo, hyper, listenerBag, statusInfo, ticker } from "./shared.js";

export const SWEEPVIEW_TRAITS = Object.freeze(["display_name", "model_key", "simulator", "axes", "common", "cells", "counts", "cost", "notice", "targets", "cell_inputs"]);
const LONG = 60; // header text longer than this gets a middle ellipsis
const CELL_MAX_PX = 360;

/**
 * Text shortened in the middle: "a long prom… the end" (the start and the end both stay readable).
 * @param {string} text @param {number} max
 */
export function middleEllipsis(text, max = LONG) {
  const s = asText(text);
  if (s.length <= max) return s;
  const keep = Math.floor((max - 1) / 2);
  return `${s.slice(0, keep)}…${s.slice(s.length - keep)}`;
}

/**
 * Grid geometry from the axes: columns = last axis, rows = the one before, sections = the rest.
 * @param {Array<{values: string[]}>} axes
 */
export function layout(axes) {
  const sizes = asList(axes).map((a) => Math.max(asList(a.values).length, 1));
  const cols = sizes.length >= 1 ? sizes[sizes.length - 1] : 1;
  const rows = sizes.length >= 2 ? sizes[sizes.length - 2] : 1;
  const sections = sizes.slice(0, Math.max(sizes.length - 2, 0)).reduce((a, b) => a * b, 1);
  return { cols, rows, sections, perSection: cols * rows };
}

/** Status badge info, with the local "waiting" state worded so nobody thinks it was sent. */
function badge(status) {
  if (status === "waiting") return { label: "waiting (not sent)", cls: "rcnb-status-waiting" };
  return statusInfo(status);
}

/**
 * A header label: the differing middle of a long text highlighted, the shared start and end elided.
 * @param {ReturnType<typeof hyper>} h
 * @param {string} full
 * @param {[string, string, string] | undefined} parts
 */
function axisLabel(h, full, parts) {
  const node = h("span", { class: "rcnb-axis-value", title: full });
  const [pre, mid, suf] = Array.isArray(parts) && parts.length === 3 ? parts.map(asText) : ["", asText(full), ""];
  if (full.length <= LONG && !pre && !suf) {
    node.textContent = full;
    return node;
  }
  if (pre) node.append(h("span", { class: "rcnb-elided", text: pre.length > 12 ? "…" : `${pre} ` }));
  node.append(h("mark", { class: "rcnb-differs", text: middleEllipsis(mid || "(empty)", LONG) }));
  if (suf) node.append(h("span", { class: "rcnb-elided", text: suf.length > 12 ? " …" : ` ${suf}` }));
  return node;
}

function render({ model, el }) {
  const doc = el.ownerDocument;
  const h = hyper(doc);
  const bag = listenerBag(model);
  const root = h("div", { class: "rcnb-root rcnb-sweep", tabindex: "-1" });
  el.append(root);

  const title = h("span", { class: "rcnb-title" });
  const sim = h("span", { class: "rcnb-badge rcnb-sim", text: "simulator", title: "Results come from the local simulator, not RunComfy" });
  const progress = h("span", { class: "rcnb-progress" });
  const cost = h("span", { class: "rcnb-cost" });
  const cancelAll = h("button", { class: "rcnb-btn rcnb-cancel-all", type: "button", text: "Cancel all" });
  const saveAll = h("button", { class: "rcnb-btn rcnb-save-all", type: "button", text: "Save all" });
  const compareBtn = h("button", { class: "rcnb-btn rcnb-compare-btn", type: "button", text: "Compare" });
  const notice = h("div", { class: "rcnb-note rcnb-notice" });
  const common = h("dl", { class: "rcnb-common" });
  const grid = h("div", { class: "rcnb-grid-wrap" });
  const panel = h("div", { class: "rcnb-sweep-panel", hidden: true }); // viewer or compare, over the grid
  root.append(
    h("div", { class: "rcnb-header" }, h("span", { class: "rcnb-titles" }, title, sim), progress, cost, h("span", { class: "rcnb-spacer" }), compareBtn, saveAll, cancelAll),
    notice,
    common,
    grid,
    panel,
  );

  /** @type {Set<number>} */
  const selected = new Set();
  /** @type {Map<number, {el: HTMLElement, elapsed: HTMLElement, state: any}>} */
  const cards = new Map();
  let viewing = -1; // the cell open in the viewer
  let panelCleanup = null;

  const cells = () => asList(model.get("cells"));
  // every input of a cell: its own (the varying ones, sent once) then those common to the sweep
  const inputsOf = (i) => [...asList(asList(model.get("cell_inputs"))[i]), ...asList(model.get("common"))];
  const cellAt = (i) => cells().find((c) => c.index === i);
  const send = (msg) => model.send(msg);

  bag.dom(cancelAll, "click", () => send({ type: "cancel_all" }));
  bag.dom(saveAll, "click", () => send({ type: "save_all" }));
  bag.dom(compareBtn, "click", () => openCompare());

  // --- a cell card -----------------------------------------------------------------------------------
  function makeCard(index) {
    const thumb = h("div", { class: "rcnb-thumb", role: "button", tabindex: "0", title: "Open" });
    const status = h("span", { class: "rcnb-badge" });
    const elapsed = h("span", { class: "rcnb-elapsed" });
    const meta = h("span", { class: "rcnb-cell-meta" });
    const pick = h("input", { type: "checkbox", class: "rcnb-pick", title: "Select for compare", "aria-label": "select for compare" });
    const cancel = h("button", { class: "rcnb-btn rcnb-cell-cancel", type: "button", text: "✕", title: "Cancel this job" });
    const card = h("div", { class: "rcnb-cell", "data-index": String(index) }, thumb, h("div", { class: "rcnb-cell-bar" }, pick, status, elapsed, meta, cancel));
    bag.dom(thumb, "click", () => openViewer(index));
    bag.dom(thumb, "keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") openViewer(index);
    });
    bag.dom(cancel, "click", () => send({ type: "cancel", index }));
    bag.dom(pick, "change", () => {
      if (pick.checked) selected.add(index);
      else selected.delete(index);
      updateCompareButton();
    });
    const entry = { el: card, elapsed, state: null, thumb, status, meta, cancel, pick };
    cards.set(index, entry);
    return entry;
  }

  function fillCard(entry, c, now) {
    const prev = entry.state;
    entry.state = c;
    const b = badge(c.status);
    entry.status.className = `rcnb-badge ${b.cls}`;
    entry.status.textContent = c.reused ? "reused" : b.label;
    if (c.reused) entry.status.title = `reused from ${asText(c.reused_from)}`;
    const bits = [];
    if (c.seed != null) bits.push(`seed ${c.seed}`);
    if (typeof c.cost === "number") bits.push(`$${c.cost.toFixed(3)}`);
    entry.meta.textContent = bits.join(" · ");
    entry.cancel.hidden = !(c.cancellable || c.status === "waiting");
    const first = asList(c.outputs)[0];
    const url = first ? first.url : "";
    if (!prev || asText(asList(prev.outputs)[0]?.url) !== asText(url) || prev.status !== c.status) {
      entry.thumb.replaceChildren();
      const media = mediaNode(h, first, "rcnb-thumb-media", { alt: asText(first?.name), muted: true, lazy: true });
      if (media) entry.thumb.append(media);
      else if (!first) entry.thumb.append(h("div", { class: "rcnb-thumb-empty", text: c.error ? "failed" : b.label }));
      if (c.error) entry.thumb.title = asText(c.error);
    }
    return tick(entry, now);
  }

  function tick(entry, now) {
    const info = elapsedInfo(entry.state || {}, now);
    entry.elapsed.textContent = entry.state && entry.state.status === "waiting" ? "" : info.text;
    entry.elapsed.title = info.title;
    return info.ticking;
  }

  // --- the grid ---------------------------------------------------------------------------------------
  let shapeKey = "";
  function build() {
    const axes = asList(model.get("axes"));
    const key = JSON.stringify(axes.map((a) => [a.name, asList(a.values).length]));
    if (key === shapeKey) return;
    shapeKey = key;
    cards.clear();
    grid.replaceChildren();
    const { cols, rows, sections, perSection } = layout(axes);
    const colAxis = axes[axes.length - 1];
    const rowAxis = axes.length >= 2 ? axes[axes.length - 2] : null;
    const outer = axes.slice(0, Math.max(axes.length - 2, 0));
    for (let s = 0; s < sections; s++) {
      const section = h("section", { class: "rcnb-section" });
      if (outer.length) {
        // the section's values of the outer axes (first axis slowest)
        let rest = s;
        const labels = [];
        for (let a = outer.length - 1; a >= 0; a--) {
          const n = Math.max(asList(outer[a].values).length, 1);
          labels.unshift([outer[a], rest % n]);
          rest = Math.floor(rest / n);
        }
        section.append(h("h4", { class: "rcnb-section-title" }, labels.flatMap(([axis, i]) => [h("span", { class: "rcnb-axis-name", text: `${asText(axis.label || axis.name)}: ` }), axisLabel(h, asText(axis.values[i]), asList(axis.parts)[i]), " "])));
      }
      const table = h("div", { class: "rcnb-grid", role: "grid" });
      // cells share the width, up to CELL_MAX_PX each: a 2-column grid does not blow thumbnails up to half a page
      table.style.gridTemplateColumns = `${rowAxis ? "minmax(4em, max-content) " : ""}repeat(${cols}, minmax(0, ${CELL_MAX_PX}px))`;
      if (colAxis) {
        if (rowAxis) table.append(h("div", { class: "rcnb-corner", text: `${asText(rowAxis.label || rowAxis.name)} ↓ / ${asText(colAxis.label || colAxis.name)} →` }));
        asList(colAxis.values).forEach((v, i) => table.append(h("div", { class: "rcnb-col-head", role: "columnheader" }, axisLabel(h, asText(v), asList(colAxis.parts)[i]))));
      }
      for (let r = 0; r < rows; r++) {
        if (rowAxis) table.append(h("div", { class: "rcnb-row-head", role: "rowheader" }, axisLabel(h, asText(rowAxis.values[r]), asList(rowAxis.parts)[r])));
        for (let c = 0; c < cols; c++) table.append(makeCard(s * perSection + r * cols + c).el);
      }
      section.append(table);
      grid.append(section);
    }
  }

  const clock = ticker(() => {
    const now = Date.now();
    let any = false;
    for (const entry of cards.values()) any = tick(entry, now) || any;
    clock.set(any);
  }, TICK_MS);

  // one cell that changed comes alone (an item message): written into `cells`, then only its card is filled again
  const cellItems = listItems(model, "cells", (c) => asText(c?.index), () => refresh());

  function refresh() {
    cellItems.merge();
    build();
    title.textContent = asText(model.get("display_name")) || asText(model.get("model_key"));
    sim.hidden = !model.get("simulator");
    const counts = model.get("counts") || {};
    const order = [["completed", "done"], ["in_progress", "running"], ["in_queue", "queued"], ["submitting", "sending"], ["waiting", "waiting (not sent)"], ["failed", "failed"], ["cancelled", "cancelled"]];
    const total = cells().length;
    progress.textContent = `${counts.completed || 0}/${total} done` + order.slice(1).filter(([k]) => counts[k]).map(([k, label]) => ` · ${counts[k]} ${label}`).join("");
    const c = model.get("cost");
    cost.textContent = typeof c === "number" ? `$${c.toFixed(2)}` : "";
    notice.textContent = asText(model.get("notice"));
    notice.hidden = !notice.textContent;
    const open = cells().some((x) => !TERMINAL_STATUSES.includes(x.status));
    cancelAll.disabled = !open;
    common.replaceChildren(...definitions(h, asList(model.get("common")).map((i) => [i.label, i.value])));
    common.hidden = !common.childElementCount;
    const now = Date.now();
    let ticking = false;
    for (const cell of cells()) {
      const entry = cards.get(cell.index);
      if (entry && entry.state !== cell) ticking = fillCard(entry, cell, now) || ticking;
      else if (entry) ticking = tick(entry, now) || ticking;
    }
    clock.set(ticking);
    if (viewing >= 0) fillViewer();
    updateCompareButton();
  }

  function updateCompareButton() {
    compareBtn.disabled = selected.size < 2 || selected.size > 4;
    compareBtn.textContent = selected.size ? `Compare (${selected.size})` : "Compare";
  }

  // --- the viewer and compare panels ---------------------------------------------------------------------
  function closePanel() {
    if (panelCleanup) panelCleanup();
    panelCleanup = null;
    viewing = -1;
    panel.hidden = true;
    panel.className = "rcnb-sweep-panel"; // no longer a viewer or a compare
    panel.replaceChildren();
  }

  function openViewer(index) {
    closePanel();
    viewing = index;
    panel.hidden = false;
    panel.className = "rcnb-sweep-panel rcnb-viewer";
    panel.setAttribute("tabindex", "0");
    const onKey = (e) => {
      const { cols } = layout(asList(model.get("axes")));
      const n = cells().length;
      const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols };
      if (e.key === "Escape") {
        closePanel();
        return;
      }
      if (!(e.key in moves)) return;
      e.preventDefault();
      const next = viewing + moves[e.key];
      if (next >= 0 && next < n) {
        viewing = next;
        fillViewer();
      }
    };
    panel.addEventListener("keydown", onKey);
    panelCleanup = () => panel.removeEventListener("keydown", onKey);
    fillViewer();
    panel.focus();
  }

  function fillViewer() {
    const c = cellAt(viewing);
    if (!c) return;
    const first = asList(c.outputs)[0];
    const media = mediaNode(h, first, "rcnb-viewer-media", { alt: asText(first?.name), controls: true }) ??
      h("div", { class: "rcnb-thumb-empty", text: c.error ? asText(c.error) : badge(c.status).label });
    const b = badge(c.status);
    const close = h("button", { class: "rcnb-btn rcnb-close", type: "button", text: "Close", title: "Close (Esc)" });
    const load = h("button", { class: "rcnb-btn rcnb-load", type: "button", text: "Load into form" });
    const again = h("button", { class: "rcnb-btn rcnb-again", type: "button", text: "Run again" });
    const targets = asList(model.get("targets"));
    const target = h("select", { class: "rcnb-target", "aria-label": "model to use this output in" }, targets.map((t) => h("option", { value: asText(t.model_id), text: asText(t.display_name || t.model_id) })));
    const use = h("button", { class: "rcnb-btn rcnb-use", type: "button", text: "Use as input", disabled: !first || !targets.length });
    close.addEventListener("click", closePanel);
    load.addEventListener("click", () => send({ type: "load_into_form", index: c.index }));
    again.addEventListener("click", () => send({ type: "run_again", index: c.index }));
    use.addEventListener("click", () => send({ type: "use_as_input", index: c.index, model: target.value }));
    const facts = [`#${c.index + 1}`, c.reused ? `reused from ${asText(c.reused_from)}` : b.label];
    if (typeof c.cost === "number") facts.push(`$${c.cost.toFixed(3)}`);
    if (c.request_id) facts.push(asText(c.request_id));
    panel.replaceChildren(
      h("div", { class: "rcnb-header" }, h("span", { class: "rcnb-viewer-facts", text: facts.join(" · ") }), h("span", { class: "rcnb-spacer" }), load, target, use, again, close),
      h("div", { class: "rcnb-viewer-body" }, media, h("dl", { class: "rcnb-viewer-inputs" }, definitions(h, inputsOf(c.index).map((i) => [i.label, i.value])))),
      h("div", { class: "rcnb-note", text: "← → ↑ ↓ move between cells · Esc closes" }),
    );
  }

  function openCompare() {
    if (selected.size < 2) return;
    closePanel();
    panel.hidden = false;
    panel.className = "rcnb-sweep-panel rcnb-compare-panel";
    const items = [...selected].sort((a, b) => a - b).map((i) => cellAt(i)).filter(Boolean).map((c) => {
      const first = asList(c.outputs)[0] || {};
      return { title: `#${c.index + 1}`, url: first.url, kind: first.kind, inputs: inputsOf(c.index) };
    });
    const view = createCompare(doc, items);
    const close = h("button", { class: "rcnb-btn rcnb-close", type: "button", text: "Close" });
    close.addEventListener("click", closePanel);
    panel.append(h("div", { class: "rcnb-header" }, h("span", { class: "rcnb-spacer" }), close), view.el);
    panelCleanup = () => view.destroy();
  }

  for (const t of SWEEPVIEW_TRAITS) bag.model(`change:${t}`, refresh);
  bag.model("msg:custom", cellItems.onMessage);
  refresh();

  return () => {
    closePanel();
    bag.dispose();
    clock.stop();
    root.remove();
  };
}

export default { render };
