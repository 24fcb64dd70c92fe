// Built from js/ by `npm run build` (esbuild). Do not edit: edit js/ and rebuild.

// js/copy_guard.js
var COPY_ID = /^[A-Za-z0-9_-]{1,64}$/;
function hideStaticCopy(el, copyId) {
  if (typeof copyId !== "string" || !COPY_ID.test(copyId)) return () => {
  };
  const doc = el.ownerDocument;
  const root = el.getRootNode();
  const targets = [doc.head || doc.documentElement];
  if (root && root.nodeType === 11) targets.push(root);
  const styles = targets.map((target) => {
    const style = doc.createElement("style");
    style.dataset.rcnbCopyGuard = copyId;
    style.textContent = `[data-rcnb-copy="${copyId}"]{display:none !important}`;
    target.appendChild(style);
    return style;
  });
  return () => {
    for (const style of styles) style.remove();
  };
}

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
function debouncer(ms) {
  let id = null;
  let pending = null;
  const flush = () => {
    if (id != null) clearTimeout(id);
    id = null;
    const fn = pending;
    pending = null;
    if (fn) fn();
  };
  return {
    /** @param {() => void} fn */
    run(fn) {
      pending = fn;
      if (id != null) clearTimeout(id);
      id = setTimeout(flush, ms);
    },
    flush,
    cancel() {
      if (id != null) clearTimeout(id);
      id = null;
      pending = null;
    },
    get pending() {
      return pending != null;
    }
  };
}
var asList = (v) => Array.isArray(v) ? v : [];
var asText = (v) => v == null ? "" : typeof v === "string" ? v : String(v);

// js/media.js
function definitions(h, pairs) {
  return pairs.flatMap(([label, value, cls]) => [h("dt", { text: asText(label) }), h("dd", { class: cls, text: asText(value) })]);
}

// js/gallery.js
var GALLERY_ACTIONS = Object.freeze([
  ["load", "Load into form"],
  ["use_as_input", "Use as input"],
  ["save", "Save"],
  ["run_again", "Run again"],
  ["cancel", "Cancel"]
]);
var isObj = (v) => v != null && typeof v === "object" && !Array.isArray(v);
function thumbOf(output) {
  const thumb = isObj(output?.thumb) ? output.thumb : isObj(output?.poster) ? output.poster : null;
  return thumb && typeof thumb.src === "string" ? thumb.src : null;
}
function durationText(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return "";
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;
}
function actionsFor(item) {
  const outputs = asList(item?.outputs);
  const completed = asText(item?.summary?.status) === "completed";
  return {
    load: isObj(item?.inputs),
    use_as_input: completed && outputs.some((o) => o?.kind === "image"),
    save: completed && outputs.length > 0,
    run_again: isObj(item?.inputs),
    cancel: item?.cancellable === true
  };
}
function createGallery(doc, { onAction, actions = GALLERY_ACTIONS.map(([type]) => type) }) {
  const h = hyper(doc);
  const listeners = [];
  const listen = (node, type, fn) => {
    node.addEventListener(type, fn);
    listeners.push([node, type, fn]);
  };
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
    const button = h("button", {
      class: "rcnb-gallery-tile",
      type: "button",
      "data-id": asText(item.local_id),
      "data-status": asText(item.summary?.status),
      title: asText(item.summary?.prompt)
    });
    const img = h("img", { class: "rcnb-gallery-thumb", alt: asText(item.summary?.prompt), loading: "lazy" });
    if (setSafeUrl(img, "src", thumbOf(output) ?? (output?.kind === "image" ? output?.url : null))) button.append(img);
    else button.append(h("span", { class: "rcnb-gallery-nothumb", text: !asText(item.badge) && asText(item.summary?.status).replace("_", " ") || "…" }));
    const badges = [];
    if (output?.kind === "video") badges.push(`▶ ${durationText(output.duration)}`.trim());
    if (asList(item.outputs).length > 1) badges.push(`×${asList(item.outputs).length}`);
    if (badges.length) button.append(h("span", { class: "rcnb-gallery-badge", text: badges.join(" ") }));
    if (asText(item.badge)) button.append(h("span", { class: "rcnb-gallery-status", text: asText(item.badge) }));
    listen(button, "click", () => open(asText(item.local_id)));
    const cell = h("div", { class: "rcnb-gallery-cell", role: "listitem", "data-id": asText(item.local_id) }, button);
    if (item.cancellable === true && actions.includes("cancel")) {
      const cancel = h("button", { type: "button", class: "rcnb-gallery-tile-cancel", text: "Cancel" });
      listen(cancel, "click", () => {
        cancel.disabled = true;
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
    const fallback = thumbOf(output);
    const full = output?.kind === "image" ? output.url : null;
    if (setSafeUrl(picture, "src", full ?? fallback)) {
      if (full && fallback) listen(picture, "error", () => setSafeUrl(picture, "src", fallback));
      viewer.append(picture);
    }
    if (outputs.length > 1) {
      const pager = h("div", { class: "rcnb-gallery-pager" });
      outputs.forEach((_, index) => {
        const b = h("button", {
          type: "button",
          class: "rcnb-gallery-page",
          text: String(index + 1),
          "aria-pressed": String(index === state.outputIndex)
        });
        listen(b, "click", () => {
          state.outputIndex = index;
          renderViewer();
        });
        pager.append(b);
      });
      viewer.append(pager);
    }
    const s = isObj(item.summary) ? item.summary : {};
    viewer.append(h("div", {
      class: "rcnb-gallery-meta",
      text: [s.when, asText(item.model_id), s.status, s.time, s.seed, s.cost, item.note].filter(Boolean).map(asText).join(" · ")
    }));
    if (asText(item.error)) viewer.append(h("pre", { class: "rcnb-gallery-error", text: asText(item.error) }));
    const inputs = Object.entries(isObj(item.inputs) ? item.inputs : {}).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]);
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
    dropInside(grid);
    state.items = asList(items).filter(isObj);
    grid.replaceChildren(...state.items.map(tile));
    empty.hidden = state.items.length > 0;
    if (state.openId && !state.items.some((i) => asText(i.local_id) === state.openId)) state.openId = null;
    const shown = JSON.stringify(state.items.find((i) => asText(i.local_id) === state.openId) ?? null);
    if (shown !== state.shown) renderViewer();
    for (const t of grid.querySelectorAll(".rcnb-gallery-tile")) t.classList.toggle("rcnb-gallery-open", t.dataset.id === state.openId);
  }
  function updateItem(item) {
    const id = asText(item?.local_id);
    const at = state.items.findIndex((i) => asText(i.local_id) === id);
    const old = [...grid.children].find((c) => (
      /** @type {HTMLElement} */
      c.dataset.id === id
    ));
    if (at < 0 || !old || !isObj(item)) return false;
    state.items[at] = item;
    dropInside(old);
    const cell = tile(item);
    old.replaceWith(cell);
    cell.querySelector(".rcnb-gallery-tile")?.classList.toggle("rcnb-gallery-open", id === state.openId);
    if (id === state.openId && JSON.stringify(item) !== state.shown) renderViewer();
    return true;
  }
  listen(viewer, "keydown", (event) => {
    if (event.key === "Escape") close();
  });
  function destroy() {
    for (const [node, type, fn] of listeners) node.removeEventListener(type, fn);
    listeners.length = 0;
    el.remove();
  }
  return { el, update, updateItem, open, close, destroy, listenerCount: () => listeners.length };
}

// js/history.js
var FILTER_DEBOUNCE_MS = 300;
function render({ model, el }) {
  const doc = el.ownerDocument;
  const h = hyper(doc);
  const bag = listenerBag(model);
  const typing = debouncer(FILTER_DEBOUNCE_MS);
  const showCopy = hideStaticCopy(el, model.get("copy_id"));
  const gallery = createGallery(doc, {
    onAction: (type, item, outputIndex) => model.send({ type, local_id: asText(item?.local_id), output_index: outputIndex })
  });
  const modelBox = h("input", { class: "rcnb-history-model", type: "search", placeholder: "model", "aria-label": "model" });
  const textBox = h("input", { class: "rcnb-history-text", type: "search", placeholder: "prompt or request id", "aria-label": "text" });
  const prev = h("button", { class: "rcnb-history-prev", type: "button", text: "‹ newer" });
  const next = h("button", { class: "rcnb-history-next", type: "button", text: "older ›" });
  const where = h("span", { class: "rcnb-history-where" });
  const bar = h("div", { class: "rcnb-history-bar" }, modelBox, textBox, prev, where, next);
  const notice = h("div", { class: "rcnb-notice rcnb-history-notice" });
  const root = h("div", { class: "rcnb-root rcnb-historyview" }, bar, gallery.el, notice);
  el.append(root);
  const sendFilters = () => {
    model.set("model_filter", modelBox.value);
    model.set("text_filter", textBox.value);
    model.save_changes();
  };
  const goTo = (page) => {
    model.set("page", page);
    model.save_changes();
  };
  bag.dom(modelBox, "input", () => typing.run(sendFilters));
  bag.dom(textBox, "input", () => typing.run(sendFilters));
  bag.dom(prev, "click", () => goTo(Math.max(0, (model.get("page") | 0) - 1)));
  bag.dom(next, "click", () => goTo((model.get("page") | 0) + 1));
  const refresh = () => {
    const page = model.get("page") | 0;
    const pages = Math.max(1, model.get("pages") | 0);
    bar.hidden = Boolean(model.get("compact"));
    if (doc.activeElement !== modelBox) modelBox.value = asText(model.get("model_filter"));
    if (doc.activeElement !== textBox) textBox.value = asText(model.get("text_filter"));
    prev.disabled = page <= 0;
    next.disabled = page >= pages - 1;
    where.textContent = `page ${page + 1} of ${pages} · ${model.get("total") | 0} runs`;
    notice.textContent = asText(model.get("notice"));
    notice.hidden = !notice.textContent;
  };
  bag.model("change:items", () => gallery.update(model.get("items")));
  for (const t of ["page", "pages", "total", "model_filter", "text_filter", "notice", "compact"]) bag.model(`change:${t}`, refresh);
  gallery.update(model.get("items"));
  refresh();
  return () => {
    showCopy();
    typing.cancel();
    bag.dispose();
    gallery.destroy();
    root.remove();
  };
}
var history_default = { render };
export {
  FILTER_DEBOUNCE_MS,
  history_default as default
};
