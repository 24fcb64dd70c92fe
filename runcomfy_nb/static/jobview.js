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
var TICK_MS = 250;
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
function statusInfo(status) {
  const s = typeof status === "string" ? status : status == null ? "" : String(status);
  if (Object.prototype.hasOwnProperty.call(STATUS_LABELS, s)) {
    return { label: STATUS_LABELS[s], cls: `rcnb-status-${s}`, known: true };
  }
  return { label: s || "unknown", cls: "rcnb-status-other", known: false };
}
function queueText(ahead) {
  if (typeof ahead !== "number" || !Number.isFinite(ahead) || ahead < 0) return "";
  const n = Math.floor(ahead);
  return n === 0 ? "next in line" : `position ${n + 1}`;
}
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
var isNum = (v) => typeof v === "number" && Number.isFinite(v);
var formatCost = (usd) => `$${usd.toFixed(usd >= 1 ? 2 : 3)}`;
function formatElapsed(ms) {
  if (!isNum(ms)) return "";
  const t = Math.max(0, ms) / 1e3;
  if (t < 60) return `${t.toFixed(1)} s`;
  const s = Math.floor(t);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor(s % 3600 / 60)).padStart(2, "0")}m`;
}
function elapsedInfo(s, now) {
  const sub = s.submitted_at;
  const fin = s.finished_at;
  const done = isNum(fin) || TERMINAL_STATUSES.includes(
    /** @type {string} */
    s.status
  );
  if (!isNum(sub)) return { text: "", title: "", ticking: false };
  if (done && !isNum(fin)) return { text: "", title: "", ticking: false };
  const end = done ? (
    /** @type {number} */
    fin
  ) : now;
  let title = "";
  if (isNum(s.started_at)) {
    const st = (
      /** @type {number} */
      s.started_at
    );
    title = `queued ${formatElapsed(st - sub)} · running ${formatElapsed(end - st)}`;
  }
  return { text: formatElapsed(end - sub), title, ticking: !done };
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
function ticker(fn, ms) {
  let id = null;
  let stopped = false;
  return {
    /** @param {boolean} active */
    set(active) {
      if (active && id == null && !stopped) id = setInterval(fn, ms);
      else if (!active && id != null) {
        clearInterval(id);
        id = null;
      }
    },
    get running() {
      return id != null;
    },
    stop() {
      stopped = true;
      this.set(false);
    }
  };
}
var asList = (v) => Array.isArray(v) ? v : [];
var asText = (v) => v == null ? "" : typeof v === "string" ? v : String(v);

// js/jobcard.js
function createJobCard(doc, opts = {}) {
  const h = hyper(doc);
  const undo = [];
  const listen = (t, type, fn) => {
    t.addEventListener(type, fn);
    undo.push(() => t.removeEventListener(type, fn));
  };
  const title = h("span", { class: "rcnb-title" });
  const subtitle = h("code", { class: "rcnb-model-id" });
  const reqId = h("code", { class: "rcnb-reqid", title: "request_id" });
  const simBadge = h("span", { class: "rcnb-badge rcnb-sim", text: "simulator", title: "talking to the offline simulator, not the real API" });
  const badge = h("span", { class: "rcnb-badge rcnb-status" });
  const queue = h("span", { class: "rcnb-queue" });
  const elapsed = h("span", { class: "rcnb-elapsed" });
  const seed = h("span", { class: "rcnb-seed", title: "the seed sent with this run" });
  const cost = h("span", { class: "rcnb-cost", title: "what this run cost (USD)" });
  const header = h(
    "div",
    { class: "rcnb-header" },
    opts.title ? h("span", { class: "rcnb-titles" }, title, subtitle) : null,
    reqId,
    h("span", { class: "rcnb-spacer" }),
    simBadge,
    badge,
    queue,
    elapsed,
    seed,
    cost
  );
  const inputs = h("dl", { class: "rcnb-inputs" });
  const error = h("pre", { class: "rcnb-error", role: "alert" });
  const results = h("div", { class: "rcnb-outputs" });
  const cancelBtn = h("button", { class: "rcnb-btn rcnb-cancel", type: "button", text: "Cancel" });
  const cancelNote = h("span", { class: "rcnb-cancel-note" });
  const saveBtn = opts.onSave ? h("button", { class: "rcnb-btn rcnb-save", type: "button", text: "Save" }) : null;
  const loadBtn = opts.onLoad ? h("button", { class: "rcnb-btn rcnb-load", type: "button", text: "Load inputs", title: "copy this run's inputs into the form" }) : null;
  const reusedNote = h("span", { class: "rcnb-reused", title: "an earlier run with the very same inputs: nothing was sent or paid" });
  const againBtn = opts.onRunAgain ? h("button", { class: "rcnb-btn rcnb-run-again", type: "button", text: "Run again", title: "send these inputs again (paid again)" }) : null;
  const notice = h("span", { class: "rcnb-notice", role: "status" });
  const footer = h("div", { class: "rcnb-footer" }, cancelBtn, cancelNote, saveBtn, loadBtn, reusedNote, againBtn, notice);
  const lbImg = h("img", { class: "rcnb-lightbox-img", alt: "" });
  const lbOpen = h("a", { class: "rcnb-lightbox-open", target: "_blank", rel: "noopener noreferrer" });
  const lightbox = h("div", { class: "rcnb-lightbox", tabindex: "-1", role: "dialog", "aria-label": "image preview" }, lbImg, lbOpen);
  const lightboxLayer = h("div", { class: "rcnb-root rcnb-lightbox-layer" }, lightbox);
  const root = h("div", { class: "rcnb-card" }, header, inputs, error, results, footer);
  let state = {};
  let cancelling = false;
  let cancelKey = "";
  const items = /* @__PURE__ */ new Map();
  const stateKey = (s) => `${s.status}|${!!s.cancellable}|${s.cancel_note || ""}`;
  listen(cancelBtn, "click", () => {
    if (cancelling || !state.cancellable) return;
    cancelling = true;
    cancelKey = stateKey(state);
    renderButtons();
    opts.onCancel?.();
  });
  if (saveBtn) listen(saveBtn, "click", () => opts.onSave?.());
  if (loadBtn) listen(loadBtn, "click", () => opts.onLoad?.());
  let againSent = false;
  if (againBtn)
    listen(againBtn, "click", () => {
      if (againSent || !state.reused) return;
      againSent = true;
      renderButtons();
      opts.onRunAgain?.();
    });
  const closeLightbox = () => {
    lightboxLayer.remove();
    lbImg.removeAttribute("src");
    lbOpen.removeAttribute("href");
  };
  listen(lightbox, "click", (e) => {
    if (e.target !== lbOpen) closeLightbox();
  });
  listen(lightbox, "keydown", (e) => {
    if (
      /** @type {KeyboardEvent} */
      e.key === "Escape"
    ) closeLightbox();
  });
  const openLightbox = (url, name) => {
    if (!setSafeUrl(lbImg, "src", url)) return;
    lbImg.setAttribute("alt", name);
    setSafeUrl(lbOpen, "href", url);
    if (/^data:/i.test(url)) {
      lbOpen.setAttribute("download", name || "image");
      lbOpen.textContent = "download";
      lbOpen.removeAttribute("target");
    } else {
      lbOpen.removeAttribute("download");
      lbOpen.setAttribute("target", "_blank");
      lbOpen.textContent = "open original ↗";
    }
    (doc.body || doc.documentElement).append(lightboxLayer);
    lightbox.focus?.();
  };
  const buildItem = (out, i) => {
    const url = safeUrl(out.url);
    const name = asText(out.name) || `output ${i + 1}`;
    const kind = out.kind === "image" || out.kind === "video" ? out.kind : "file";
    const cap = h("figcaption", { class: "rcnb-caption", text: name, title: name });
    if (url == null) {
      return h(
        "figure",
        { class: "rcnb-output rcnb-output-unsafe" },
        h("span", { class: "rcnb-unsafe", text: `not shown (unsupported URL): ${asText(out.url)}` }),
        cap
      );
    }
    const thumb = out.thumb && typeof out.thumb === "object" && safeUrl(out.thumb.src) ? out.thumb.src : null;
    if (kind === "image") {
      const img = h("img", { class: "rcnb-media", alt: name, loading: "lazy", title: "click to enlarge" });
      setSafeUrl(img, "src", url);
      if (thumb) listen(img, "error", () => {
        if (img.getAttribute("src") !== thumb) setSafeUrl(img, "src", thumb);
      });
      listen(img, "click", () => openLightbox(url, name));
      return h("figure", { class: "rcnb-output rcnb-output-image" }, img, cap);
    }
    if (kind === "video") {
      const video = h("video", { class: "rcnb-media", controls: true, preload: "metadata", playsinline: true });
      setSafeUrl(video, "src", url);
      if (thumb) video.setAttribute("poster", thumb);
      const figure = h("figure", { class: "rcnb-output rcnb-output-video" }, video, cap);
      if (thumb) {
        listen(video, "error", () => {
          const still = h("img", { class: "rcnb-media rcnb-poster", alt: name });
          setSafeUrl(still, "src", thumb);
          video.replaceWith(still);
        });
      }
      return figure;
    }
    const a = h("a", { class: "rcnb-file", target: "_blank", rel: "noopener noreferrer", text: name });
    setSafeUrl(a, "href", url);
    if (/^data:/i.test(url)) {
      a.removeAttribute("target");
      a.setAttribute("download", name);
    }
    return h("figure", { class: "rcnb-output rcnb-output-file" }, a, asText(out.mime) ? h("span", { class: "rcnb-mime", text: asText(out.mime) }) : null);
  };
  const renderOutputs = () => {
    const outs = asList(state.outputs).filter((o) => o && typeof o === "object");
    const seen = /* @__PURE__ */ new Set();
    const order = [];
    outs.forEach((o, i) => {
      let key = `${o.kind}\0${o.url}\0${o.name}`;
      while (seen.has(key)) key += "\0";
      seen.add(key);
      let item = items.get(key);
      if (!item) {
        item = buildItem(o, i);
        items.set(key, item);
      }
      order.push(item);
    });
    for (const [key, item] of items) {
      if (!seen.has(key)) {
        item.remove();
        items.delete(key);
      }
    }
    order.forEach((item, i) => {
      if (results.children[i] !== item) results.insertBefore(item, results.children[i] || null);
    });
    results.classList.toggle("rcnb-gallery", order.length > 1);
    results.hidden = order.length === 0;
  };
  const renderInputs = () => {
    const rows = asList(state.inputs_summary).filter((r) => r && typeof r === "object");
    inputs.replaceChildren(
      ...rows.flatMap((r) => {
        const value = asText(r.value);
        return [h("dt", { text: asText(r.label) }), h("dd", { text: value, title: value })];
      })
    );
    inputs.hidden = rows.length === 0;
  };
  const renderButtons = () => {
    const s = state;
    if (cancelling && stateKey(s) !== cancelKey) cancelling = false;
    cancelBtn.disabled = cancelling || !s.cancellable;
    cancelBtn.textContent = cancelling ? "cancelling…" : "Cancel";
    cancelBtn.hidden = !s.cancellable && TERMINAL_STATUSES.includes(
      /** @type {string} */
      s.status
    );
    cancelNote.textContent = asText(s.cancel_note);
    cancelNote.hidden = !cancelNote.textContent;
    if (saveBtn) {
      const saveable = s.status === "completed" && asList(s.outputs).length > 0;
      saveBtn.disabled = !saveable;
      saveBtn.hidden = !saveable && TERMINAL_STATUSES.includes(
        /** @type {string} */
        s.status
      );
    }
    reusedNote.textContent = s.reused ? `reused from ${asText(s.reused_from) || "earlier"}` : "";
    reusedNote.hidden = !s.reused;
    if (againBtn) {
      againBtn.hidden = !s.reused;
      againBtn.disabled = againSent;
    }
    notice.textContent = asText(s.notice);
    notice.hidden = !notice.textContent;
  };
  const tick = (now) => {
    const e = elapsedInfo(state, now);
    elapsed.textContent = e.text;
    if (e.title) elapsed.setAttribute("title", e.title);
    else elapsed.removeAttribute("title");
    return e.ticking;
  };
  return {
    el: root,
    /**
     * Apply a full state snapshot. Returns whether the elapsed counter should tick.
     * @param {JobState} next
     * @param {number} now
     */
    update(next, now) {
      if (state.request_id !== next?.request_id || state.reused !== next?.reused) againSent = false;
      state = next || {};
      const s = state;
      const name = asText(s.display_name) || asText(s.model_key);
      title.textContent = name;
      subtitle.textContent = asText(s.display_name) && asText(s.model_key) !== name ? asText(s.model_key) : "";
      subtitle.hidden = !subtitle.textContent;
      reqId.textContent = asText(s.request_id);
      reqId.hidden = !reqId.textContent;
      simBadge.hidden = !s.simulator;
      const st = statusInfo(s.status);
      badge.textContent = st.label;
      badge.className = `rcnb-badge rcnb-status ${st.cls}`;
      root.dataset.status = st.known ? (
        /** @type {string} */
        s.status
      ) : "other";
      const q = s.status === "in_queue" ? queueText(s.queue_position) : "";
      queue.textContent = q;
      queue.hidden = !q;
      if (q) queue.setAttribute("title", `${s.queue_position} job(s) ahead`);
      seed.textContent = isNum(s.seed) ? `seed ${s.seed}` : "";
      seed.hidden = !seed.textContent;
      cost.textContent = isNum(s.cost) ? formatCost(
        /** @type {number} */
        s.cost
      ) : "";
      cost.hidden = !cost.textContent;
      error.textContent = asText(s.error);
      error.hidden = !error.textContent;
      renderInputs();
      renderOutputs();
      renderButtons();
      return tick(now);
    },
    tick,
    destroy() {
      closeLightbox();
      while (undo.length) undo.pop()();
      items.clear();
      root.remove();
    }
  };
}

// js/jobview.js
var JOBVIEW_TRAITS = Object.freeze([
  "model_key",
  "display_name",
  "request_id",
  "inputs_summary",
  "status",
  "queue_position",
  "submitted_at",
  "started_at",
  "finished_at",
  "outputs",
  "error",
  "cancellable",
  "cancel_note",
  "simulator",
  "notice",
  "cost",
  "seed",
  "reused",
  "reused_from"
]);
function render({ model, el }) {
  const doc = el.ownerDocument;
  const bag = listenerBag(model);
  const showCopy = hideStaticCopy(el, model.get("copy_id"));
  const card = createJobCard(doc, {
    title: true,
    onCancel: () => model.send({ type: "cancel" }),
    onSave: () => model.send({ type: "save" }),
    onRunAgain: () => model.send({ type: "run_again" })
  });
  const root = doc.createElement("div");
  root.className = "rcnb-root rcnb-jobview";
  root.append(card.el);
  el.append(root);
  const clock = ticker(() => clock.set(card.tick(Date.now())), TICK_MS);
  const refresh = () => {
    const state = {};
    for (const t of JOBVIEW_TRAITS) state[t] = model.get(t);
    clock.set(card.update(state, Date.now()));
  };
  for (const t of JOBVIEW_TRAITS) bag.model(`change:${t}`, refresh);
  refresh();
  return () => {
    showCopy();
    bag.dispose();
    clock.stop();
    card.destroy();
    root.remove();
  };
}
var jobview_default = { render };
export {
  JOBVIEW_TRAITS,
  jobview_default as default
};
