// The job card: one job's header, inputs summary, results and buttons.
// Used as-is by JobView and for every run in ModelForm's history, so both look and behave alike.

import {
  asList,
  asText,
  elapsedInfo,
  formatCost,
  hyper,
  isNum,
  queueText,
  safeUrl,
  setSafeUrl,
  statusInfo,
  TERMINAL_STATUSES,
} from "./shared.js";

/**
 * @typedef {{url: string, kind: string, mime?: string, name?: string, thumb?: {src?: string}}} OutputSpec
 * @typedef {{
 *   model_key?: string, display_name?: string, request_id?: string,
 *   inputs_summary?: Array<{label: string, value: string}>,
 *   status?: string, queue_position?: number|null,
 *   submitted_at?: number|null, started_at?: number|null, finished_at?: number|null,
 *   outputs?: OutputSpec[], error?: string, cancellable?: boolean, cancel_note?: string,
 *   simulator?: boolean, notice?: string,
 *   cost?: number|null, seed?: number|null, reused?: boolean, reused_from?: string
 * }} JobState
 * @typedef {{
 *   title?: boolean,          // show display_name/model_key (JobView) or not (history rows)
 *   onCancel?: () => void,
 *   onSave?: () => void,      // adds a Save button
 *   onLoad?: () => void,      // adds a "Load inputs" button
 *   onRunAgain?: () => void,  // adds "Run again" to a reused job (sends its inputs again, fresh)
 * }} CardOptions
 */

/**
 * Build a job card. The card owns no timers; call `tick(now)` to refresh the elapsed text.
 * @param {Document} doc
 * @param {CardOptions} opts
 */
export function createJobCard(doc, opts = {}) {
  const h = hyper(doc);
  /** @type {Array<() => void>} */
  const undo = [];
  /** @param {EventTarget} t @param {string} type @param {EventListener} fn */
  const listen = (t, type, fn) => {
    t.addEventListener(type, fn);
    undo.push(() => t.removeEventListener(type, fn));
  };

  // --- header
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
    cost,
  );

  // --- body
  const inputs = h("dl", { class: "rcnb-inputs" });
  const error = h("pre", { class: "rcnb-error", role: "alert" });
  const results = h("div", { class: "rcnb-outputs" });

  // --- footer
  const cancelBtn = h("button", { class: "rcnb-btn rcnb-cancel", type: "button", text: "Cancel" });
  const cancelNote = h("span", { class: "rcnb-cancel-note" });
  const saveBtn = opts.onSave ? h("button", { class: "rcnb-btn rcnb-save", type: "button", text: "Save" }) : null;
  const loadBtn = opts.onLoad ? h("button", { class: "rcnb-btn rcnb-load", type: "button", text: "Load inputs", title: "copy this run's inputs into the form" }) : null;
  const reusedNote = h("span", { class: "rcnb-reused", title: "an earlier run with the very same inputs: nothing was sent or paid" });
  const againBtn = opts.onRunAgain ? h("button", { class: "rcnb-btn rcnb-run-again", type: "button", text: "Run again", title: "send these inputs again (paid again)" }) : null;
  const notice = h("span", { class: "rcnb-notice", role: "status" });
  const footer = h("div", { class: "rcnb-footer" }, cancelBtn, cancelNote, saveBtn, loadBtn, reusedNote, againBtn, notice);

  // --- lightbox (one per card; closed by click or Escape). While open it lives in its own .rcnb-root
  // under <body>, so no clipping or stacking context of the notebook's output area can cut it off.
  const lbImg = h("img", { class: "rcnb-lightbox-img", alt: "" });
  const lbOpen = h("a", { class: "rcnb-lightbox-open", target: "_blank", rel: "noopener noreferrer" });
  const lightbox = h("div", { class: "rcnb-lightbox", tabindex: "-1", role: "dialog", "aria-label": "image preview" }, lbImg, lbOpen);
  const lightboxLayer = h("div", { class: "rcnb-root rcnb-lightbox-layer" }, lightbox);

  const root = h("div", { class: "rcnb-card" }, header, inputs, error, results, footer);

  /** @type {JobState} */
  let state = {};
  let cancelling = false;
  let cancelKey = "";
  /** @type {Map<string, HTMLElement>} output key → item element, so unchanged videos are not recreated */
  const items = new Map();

  const stateKey = (/** @type {JobState} */ s) => `${s.status}|${!!s.cancellable}|${s.cancel_note || ""}`;

  listen(cancelBtn, "click", () => {
    if (cancelling || !state.cancellable) return;
    cancelling = true;
    cancelKey = stateKey(state);
    renderButtons();
    opts.onCancel?.();
  });
  if (saveBtn) listen(saveBtn, "click", () => opts.onSave?.());
  if (loadBtn) listen(loadBtn, "click", () => opts.onLoad?.());
  let againSent = false; // one click, one new run: the button stays off until the card shows another job
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
    if (/** @type {KeyboardEvent} */ (e).key === "Escape") closeLightbox();
  });
  /** @param {string} url @param {string} name */
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

  /**
   * One output → one element (img / video / link / plain text when the URL is unsafe).
   * @param {OutputSpec} out
   * @param {number} i
   */
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
        cap,
      );
    }
    // the embedded thumbnail (a video's poster frame) stands in when the URL has expired or is unreachable
    const thumb = out.thumb && typeof out.thumb === "object" && safeUrl(out.thumb.src) ? out.thumb.src : null;
    if (kind === "image") {
      const img = h("img", { class: "rcnb-media", alt: name, loading: "lazy", title: "click to enlarge" });
      setSafeUrl(img, "src", url);
      if (thumb) listen(img, "error", () => { if (img.getAttribute("src") !== thumb) setSafeUrl(img, "src", thumb); });
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
    const seen = new Set();
    /** @type {HTMLElement[]} */
    const order = [];
    outs.forEach((o, i) => {
      let key = `${o.kind}\u0000${o.url}\u0000${o.name}`;
      while (seen.has(key)) key += "\u0000"; // duplicates get their own element
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
    // Re-insert only what is out of place (moving a playing <video> needlessly would be rude).
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
      }),
    );
    inputs.hidden = rows.length === 0;
  };

  const renderButtons = () => {
    const s = state;
    if (cancelling && stateKey(s) !== cancelKey) cancelling = false;
    cancelBtn.disabled = cancelling || !s.cancellable;
    cancelBtn.textContent = cancelling ? "cancelling…" : "Cancel";
    // Nothing to cancel any more: hide the button rather than show a dead one.
    cancelBtn.hidden = !s.cancellable && TERMINAL_STATUSES.includes(/** @type {string} */ (s.status));
    cancelNote.textContent = asText(s.cancel_note);
    cancelNote.hidden = !cancelNote.textContent;
    if (saveBtn) {
      const saveable = s.status === "completed" && asList(s.outputs).length > 0;
      saveBtn.disabled = !saveable;
      // A job that ended with nothing to save (cancelled, failed) shows no dead Save button.
      saveBtn.hidden = !saveable && TERMINAL_STATUSES.includes(/** @type {string} */ (s.status));
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

  /** @param {number} now */
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
      root.dataset.status = st.known ? /** @type {string} */ (s.status) : "other";
      const q = s.status === "in_queue" ? queueText(s.queue_position) : "";
      queue.textContent = q;
      queue.hidden = !q;
      if (q) queue.setAttribute("title", `${s.queue_position} job(s) ahead`);
      seed.textContent = isNum(s.seed) ? `seed ${s.seed}` : "";
      seed.hidden = !seed.textContent;
      cost.textContent = isNum(s.cost) ? formatCost(/** @type {number} */ (s.cost)) : "";
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
      while (undo.length) /** @type {() => void} */ (undo.pop())();
      items.clear();
      root.remove();
    },
  };
}
