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
function formatBytes(n) {
  if (!isNum(n) || n < 0) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
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

// js/fields.js
var FIELD_KINDS = Object.freeze(["text", "enum", "integer", "number", "seed", "boolean", "json", "media"]);
var SEED_MAX = 2147483647;
var SEED_MODES = Object.freeze(["fixed", "increment", "randomize"]);
function niceStep(min, max) {
  const raw = (max - min) / 100;
  if (!(raw > 0) || !Number.isFinite(raw)) return 0.01;
  return Number((10 ** Math.floor(Math.log10(raw))).toPrecision(1));
}
var codePoints = (s) => [...s].length;
function controlKind(f, value) {
  if (FIELD_KINDS.includes(f.kind)) return f.kind;
  return value == null || typeof value === "string" ? "text" : "json";
}
function buildControl(ctx, f, value) {
  const kind = controlKind(f, value);
  const c = BUILDERS[kind](ctx, f);
  c.el.classList.add("rcnb-control", `rcnb-control-${kind}`);
  c.el.dataset.kind = kind;
  c.set(value);
  return c;
}
var BUILDERS = Object.freeze({
  text(ctx, f) {
    const h = hyper(ctx.doc);
    const input = f.multiline ? h("textarea", { class: "rcnb-input", id: ctx.id, rows: "3", spellcheck: "true" }) : h("input", { class: "rcnb-input", id: ctx.id, type: "text" });
    if (f.example != null) input.placeholder = asText(f.example);
    const max = isNum(f.max_length) ? (
      /** @type {number} */
      f.max_length
    ) : null;
    const counter = max != null ? h("span", { class: "rcnb-counter", "aria-live": "polite" }) : null;
    const el = h("div", {}, input, counter);
    const input_ = (
      /** @type {HTMLInputElement} */
      input
    );
    const count = () => {
      if (!counter) return;
      const n = codePoints(input_.value);
      counter.textContent = `${n} / ${max}`;
      counter.classList.toggle("rcnb-over", n > /** @type {number} */
      max);
    };
    ctx.listen(input, "input", () => {
      count();
      ctx.write(input_.value, { debounce: true });
    });
    return {
      el,
      input,
      set(v) {
        const s = asText(v);
        if (input_.value !== s) input_.value = s;
        count();
      }
    };
  },
  enum(ctx, f) {
    const h = hyper(ctx.doc);
    const choices = Array.isArray(f.choices) ? f.choices : [];
    const select = (
      /** @type {HTMLSelectElement} */
      h("select", { class: "rcnb-input", id: ctx.id })
    );
    const blank = h("option", { value: "", text: f.required ? "— choose —" : "— unset —" });
    select.append(blank, ...choices.map((c, i) => h("option", { value: String(i), text: asText(c) })));
    const indexOf = (v) => {
      const i = choices.findIndex((c) => c === v);
      return i >= 0 ? i : v == null ? -1 : choices.findIndex((c) => String(c) === String(v));
    };
    ctx.listen(select, "change", () => {
      ctx.write(select.value === "" ? null : choices[Number(select.value)]);
    });
    return {
      el: h("div", {}, select),
      input: select,
      set(v) {
        const i = indexOf(v);
        blank.hidden = !!f.required && i >= 0;
        const want = i >= 0 ? String(i) : "";
        if (select.value !== want) select.value = want;
      }
    };
  },
  integer: (ctx, f) => numberControl(ctx, f, true),
  number: (ctx, f) => numberControl(ctx, f, false),
  seed(ctx, f) {
    const h = hyper(ctx.doc);
    const box = (
      /** @type {HTMLInputElement} */
      h("input", { class: "rcnb-input rcnb-number", id: ctx.id, type: "number", step: "1" })
    );
    const min = isNum(f.minimum) ? (
      /** @type {number} */
      f.minimum
    ) : 0;
    const max = isNum(f.maximum) ? (
      /** @type {number} */
      f.maximum
    ) : SEED_MAX;
    box.min = String(min);
    box.max = String(max);
    box.placeholder = "unset";
    const dice = h("button", { class: "rcnb-btn rcnb-dice", type: "button", title: "randomise", "aria-label": "randomise", text: "⚄ random" });
    const onBox = () => {
      const r = parseNumber(box.value, true);
      ctx.setLocalError(r.error);
      if (!r.error) ctx.write(r.value, { debounce: true });
    };
    ctx.listen(box, "input", onBox);
    ctx.listen(dice, "click", () => {
      const v = min + Math.floor(Math.random() * (max - min + 1));
      box.value = String(v);
      ctx.setLocalError(null);
      ctx.write(v);
    });
    const mode = (
      /** @type {HTMLSelectElement} */
      h(
        "select",
        { class: "rcnb-input rcnb-seed-mode", title: "control after generate: what the seed does after each submit", "aria-label": "control after generate" },
        ...SEED_MODES.map((m) => h("option", { value: m, text: m === "fixed" ? "fixed" : `${m} after run` }))
      )
    );
    const setMode = (m) => {
      const want = SEED_MODES.includes(m) ? m : "fixed";
      if (mode.value !== want) mode.value = want;
    };
    if (ctx.seedMode) {
      const seedMode = ctx.seedMode;
      setMode(seedMode.get());
      ctx.listen(mode, "change", () => seedMode.set(mode.value));
    }
    return {
      el: h("div", { class: "rcnb-row" }, box, dice, ctx.seedMode ? mode : null),
      input: box,
      set: (v) => setNumberBox(box, v),
      setMode
    };
  },
  boolean(ctx) {
    const h = hyper(ctx.doc);
    const box = (
      /** @type {HTMLInputElement} */
      h("input", { class: "rcnb-checkbox", id: ctx.id, type: "checkbox" })
    );
    ctx.listen(box, "change", () => ctx.write(box.checked));
    return {
      el: h("div", {}, box),
      input: box,
      set(v) {
        box.checked = v === true;
      }
    };
  },
  json(ctx) {
    const h = hyper(ctx.doc);
    const area = (
      /** @type {HTMLTextAreaElement} */
      h("textarea", { class: "rcnb-input rcnb-json", id: ctx.id, rows: "3", spellcheck: "false", placeholder: "{ }" })
    );
    ctx.listen(area, "input", () => {
      const text = area.value.trim();
      if (!text) {
        ctx.setLocalError(null);
        ctx.write(null, { debounce: true });
        return;
      }
      try {
        const parsed = JSON.parse(text);
        ctx.setLocalError(null);
        ctx.write(parsed, { debounce: true });
      } catch (e) {
        ctx.setLocalError(`invalid JSON: ${/** @type {Error} */
        e.message}`);
      }
    });
    return {
      el: h("div", {}, area),
      input: area,
      set(v) {
        let same = false;
        try {
          same = area.value.trim() !== "" && JSON.stringify(JSON.parse(area.value)) === JSON.stringify(v);
        } catch {
        }
        if (v == null) {
          if (area.value !== "") area.value = "";
        } else if (!same) area.value = JSON.stringify(v, null, 2);
      }
    };
  },
  media(ctx, f) {
    const h = hyper(ctx.doc);
    const media = f.media === "video" || f.media === "audio" ? f.media : "image";
    const url = (
      /** @type {HTMLInputElement} */
      h("input", {
        class: "rcnb-input rcnb-url",
        id: ctx.id,
        type: "text",
        placeholder: f.example != null ? `https://… or choose a file (e.g. ${asText(f.example)})` : "https://… or choose a file",
        spellcheck: "false"
      })
    );
    const file = (
      /** @type {HTMLInputElement} */
      h("input", { class: "rcnb-file-input", type: "file", accept: `${media}/*`, "aria-label": `choose ${media} file` })
    );
    const chipText = h("span", { class: "rcnb-chip-text" });
    const clear = h("button", { class: "rcnb-btn rcnb-chip-clear", type: "button", title: "remove", "aria-label": "remove", text: "✕" });
    const chip = h("span", { class: "rcnb-chip", hidden: true }, chipText, clear);
    const preview = h("div", { class: "rcnb-preview", hidden: true });
    let picked = { uri: "", label: "" };
    let shownUrl = "";
    const show = (v) => {
      const s = asText(v);
      const isData = /^data:/i.test(s);
      chip.hidden = !isData;
      url.hidden = isData;
      if (isData) {
        chipText.textContent = s === picked.uri ? picked.label : describeDataUri(s);
        if (url.value !== "") url.value = "";
      } else if (url.value !== s) url.value = s;
      const safe = safeUrl(s);
      if ((safe || "") === shownUrl) return;
      shownUrl = safe || "";
      preview.replaceChildren();
      preview.hidden = !safe;
      if (!safe) return;
      const m = h(media === "image" ? "img" : media, {
        class: "rcnb-preview-media",
        alt: media === "image" ? "preview" : null,
        controls: media !== "image",
        preload: media !== "image" ? "metadata" : null
      });
      setSafeUrl(m, "src", safe);
      preview.append(m);
    };
    ctx.listen(url, "input", () => {
      show(url.value);
      ctx.write(url.value.trim() === "" ? null : url.value.trim(), { debounce: true });
    });
    ctx.listen(clear, "click", () => {
      picked = { uri: "", label: "" };
      show("");
      ctx.write(null);
    });
    ctx.listen(file, "change", () => {
      const chosen = file.files && file.files[0];
      if (!chosen) return;
      const Reader = ctx.doc.defaultView?.FileReader ?? globalThis.FileReader;
      const reader = new Reader();
      reader.onload = () => {
        if (ctx.isDisposed()) return;
        const uri = String(reader.result || "");
        picked = { uri, label: `${chosen.name} (${formatBytes(chosen.size)})` };
        show(uri);
        ctx.write(uri);
      };
      reader.onerror = () => {
        if (!ctx.isDisposed()) ctx.setLocalError(`could not read ${chosen.name}`);
      };
      ctx.setLocalError(null);
      reader.readAsDataURL(chosen);
      file.value = "";
    });
    return { el: h("div", {}, h("div", { class: "rcnb-row" }, url, chip, file), preview), input: url, set: show };
  }
});
function numberControl(ctx, f, integer) {
  const h = hyper(ctx.doc);
  const box = (
    /** @type {HTMLInputElement} */
    h("input", { class: "rcnb-input rcnb-number", id: ctx.id, type: "number" })
  );
  const bounded = isNum(f.minimum) && isNum(f.maximum) && /** @type {number} */
  f.maximum > /** @type {number} */
  f.minimum;
  const step = integer ? 1 : bounded ? niceStep(
    /** @type {number} */
    f.minimum,
    /** @type {number} */
    f.maximum
  ) : null;
  box.step = integer ? "1" : "any";
  if (isNum(f.minimum)) box.min = String(f.minimum);
  if (isNum(f.maximum)) box.max = String(f.maximum);
  box.placeholder = "unset";
  let slider = null;
  if (bounded) {
    slider = /** @type {HTMLInputElement} */
    h("input", { class: "rcnb-slider", type: "range", min: String(f.minimum), max: String(f.maximum), step: String(step), "aria-label": asText(f.label || f.key) });
    const s = slider;
    ctx.listen(s, "input", () => {
      const v = integer ? Math.round(Number(s.value)) : Number(s.value);
      box.value = String(v);
      ctx.setLocalError(null);
      ctx.write(v, { debounce: true });
    });
  }
  ctx.listen(box, "input", () => {
    const r = parseNumber(box.value, integer);
    ctx.setLocalError(r.error);
    if (r.error) return;
    if (slider && r.value != null) slider.value = String(r.value);
    ctx.write(r.value, { debounce: true });
  });
  return {
    el: h("div", { class: "rcnb-row" }, slider, box),
    input: box,
    set(v) {
      setNumberBox(box, v);
      if (slider && isNum(v)) slider.value = String(v);
    }
  };
}
function parseNumber(text, integer) {
  const s = text.trim();
  if (s === "") return { value: null, error: null };
  const n = Number(s);
  if (!Number.isFinite(n)) return { value: null, error: "not a number" };
  if (integer && !Number.isInteger(n)) return { value: null, error: "must be a whole number" };
  return { value: n, error: null };
}
function setNumberBox(box, v) {
  const cur = box.value.trim() === "" ? null : Number(box.value);
  const want = isNum(v) ? v : null;
  if (cur === want) return;
  box.value = want == null ? "" : String(want);
}
function describeDataUri(uri) {
  const m = /^data:([^;,]*)/i.exec(uri);
  const comma = uri.indexOf(",");
  const payload = comma >= 0 ? uri.length - comma - 1 : 0;
  const bytes = /;base64,/i.test(uri.slice(0, comma + 1)) ? Math.floor(payload * 3 / 4) : payload;
  return `${m && m[1] || "data"} · ${formatBytes(bytes)}`;
}

// js/gallery.js
var GALLERY_ACTIONS = Object.freeze([
  ["load", "Load into form"],
  ["use_as_input", "Use as input"],
  ["save", "Save"],
  ["run_again", "Run again"]
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
    run_again: isObj(item?.inputs)
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
  const state = { items: [], openId: null, outputIndex: 0 };
  function tile(item) {
    const output = asList(item.outputs)[0];
    const button = h("button", {
      class: "rcnb-gallery-tile",
      type: "button",
      role: "listitem",
      "data-id": asText(item.local_id),
      "data-status": asText(item.summary?.status),
      title: asText(item.summary?.prompt)
    });
    const img = h("img", { class: "rcnb-gallery-thumb", alt: asText(item.summary?.prompt), loading: "lazy" });
    if (setSafeUrl(img, "src", thumbOf(output) ?? (output?.kind === "image" ? output?.url : null))) button.append(img);
    else button.append(h("span", { class: "rcnb-gallery-nothumb", text: asText(item.summary?.status).replace("_", " ") || "…" }));
    const badges = [];
    if (output?.kind === "video") badges.push(`▶ ${durationText(output.duration)}`.trim());
    if (asList(item.outputs).length > 1) badges.push(`×${asList(item.outputs).length}`);
    if (badges.length) button.append(h("span", { class: "rcnb-gallery-badge", text: badges.join(" ") }));
    listen(button, "click", () => open(asText(item.local_id)));
    return button;
  }
  function renderViewer() {
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
      text: [s.when, asText(item.model_id), s.status, s.time, s.cost].filter(Boolean).map(asText).join(" · ")
    }));
    const rows = h("dl", { class: "rcnb-gallery-inputs" });
    for (const [key, value] of Object.entries(isObj(item.inputs) ? item.inputs : {})) {
      rows.append(h("dt", { text: key }), h("dd", { text: typeof value === "string" ? value : JSON.stringify(value) }));
    }
    for (const [key, media] of Object.entries(isObj(item.inline_media) ? item.inline_media : {})) {
      const size = typeof media?.bytes === "number" ? `, ${Math.max(1, Math.round(media.bytes / 1024))} KiB` : "";
      rows.append(h("dt", { text: key }), h("dd", { class: "rcnb-gallery-inline", text: `inline ${asText(media?.mime)}${size} (not kept: choose it again)` }));
    }
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
    for (const t of grid.children) t.classList.toggle("rcnb-gallery-open", t.dataset.id === localId);
  }
  function close() {
    state.openId = null;
    renderViewer();
    for (const t of grid.children) t.classList.remove("rcnb-gallery-open");
  }
  function update(items) {
    dropInside(grid);
    state.items = asList(items).filter(isObj);
    grid.replaceChildren(...state.items.map(tile));
    empty.hidden = state.items.length > 0;
    if (state.openId && !state.items.some((i) => asText(i.local_id) === state.openId)) state.openId = null;
    renderViewer();
  }
  listen(viewer, "keydown", (event) => {
    if (event.key === "Escape") close();
  });
  function destroy() {
    for (const [node, type, fn] of listeners) node.removeEventListener(type, fn);
    listeners.length = 0;
    el.remove();
  }
  return { el, update, open, close, destroy, listenerCount: () => listeners.length };
}

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

// js/form.js
var TYPING_DEBOUNCE_MS = 200;
function render({ model, el }) {
  const doc = el.ownerDocument;
  const h = hyper(doc);
  const bag = listenerBag(model);
  const typing = debouncer(TYPING_DEBOUNCE_MS);
  const uid = `rcnb-${Math.random().toString(36).slice(2, 10)}`;
  let disposed = false;
  const showCopy = hideStaticCopy(el, model.get("copy_id"));
  const title = h("span", { class: "rcnb-title" });
  const modelId = h("code", { class: "rcnb-model-id" });
  const simBadge = h("span", { class: "rcnb-badge rcnb-sim", text: "simulator", title: "talking to the offline simulator, not the real API" });
  const formError = h("div", { class: "rcnb-form-error", role: "alert", hidden: true });
  const fieldsBox = h("div", { class: "rcnb-fields" });
  const submitBtn = (
    /** @type {HTMLButtonElement} */
    h("button", { class: "rcnb-btn rcnb-primary rcnb-submit", type: "button", text: "Submit" })
  );
  const resetBtn = h("button", { class: "rcnb-btn rcnb-reset", type: "button", text: "Reset", title: "back to the model's defaults" });
  const busyText = h("span", { class: "rcnb-busy", role: "status", hidden: true }, h("span", { class: "rcnb-spinner", "aria-hidden": "true" }), "submitting…");
  const historyList = h("div", { class: "rcnb-history-list" });
  const historyBox = h("section", { class: "rcnb-history", hidden: true }, h("div", { class: "rcnb-history-title", text: "Runs" }), historyList);
  const earlier = createGallery(doc, {
    actions: ["load", "save", "run_again"],
    onAction: (type, item, outputIndex) => model.send({ type: `earlier_${type}`, local_id: asText(item?.local_id), output_index: outputIndex })
  });
  const earlierBox = h("section", { class: "rcnb-earlier", hidden: true }, h("div", { class: "rcnb-history-title", text: "Earlier runs" }), earlier.el);
  const renderEarlier = () => {
    earlier.update(model.get("earlier"));
    earlierBox.hidden = asList(model.get("earlier")).length === 0;
  };
  const root = h(
    "div",
    { class: "rcnb-root rcnb-form" },
    h("div", { class: "rcnb-header" }, h("span", { class: "rcnb-titles" }, title, modelId), h("span", { class: "rcnb-spacer" }), simBadge),
    formError,
    fieldsBox,
    h("div", { class: "rcnb-actions" }, submitBtn, resetBtn, busyText),
    historyBox,
    earlierBox
  );
  el.append(root);
  let current = { ...model.get("values") || {} };
  const dirty = /* @__PURE__ */ new Set();
  const localErrors = /* @__PURE__ */ new Map();
  const touched = /* @__PURE__ */ new Set();
  let submitted = false;
  let rows = /* @__PURE__ */ new Map();
  let fieldBag = listenerBag(model);
  const push = () => {
    if (disposed) return;
    dirty.clear();
    model.set("values", { ...current });
    model.save_changes();
  };
  const write = (key, value, opts = {}) => {
    if (disposed) return;
    current = { ...current, [key]: value };
    dirty.add(key);
    if (!touched.has(key)) {
      touched.add(key);
      renderErrors();
    }
    if (opts.debounce) typing.run(push);
    else {
      typing.cancel();
      push();
    }
  };
  const buildFields = () => {
    fieldBag.dispose();
    fieldBag = listenerBag(model);
    typing.cancel();
    dirty.clear();
    localErrors.clear();
    current = { ...model.get("values") || {} };
    const next = /* @__PURE__ */ new Map();
    asList(model.get("fields")).forEach((f, i) => {
      if (!f || typeof f !== "object" || typeof f.key !== "string" || next.has(f.key)) return;
      const key = f.key;
      const id = `${uid}-f${i}`;
      const error = h("div", { class: "rcnb-field-error", role: "alert", hidden: true });
      const control = buildControl(
        {
          doc,
          id,
          write: (v, o) => write(key, v, o),
          setLocalError: (msg) => {
            if (msg) localErrors.set(key, msg);
            else localErrors.delete(key);
            renderErrors();
          },
          listen: fieldBag.dom,
          isDisposed: () => disposed,
          seedMode: {
            get: () => asText((model.get("seed_modes") || {})[key]),
            set: (mode) => {
              if (disposed) return;
              model.set("seed_modes", { ...model.get("seed_modes") || {}, [key]: mode });
              model.save_changes();
            }
          }
        },
        f,
        current[key]
      );
      const label = h(
        "label",
        { class: "rcnb-label", for: id },
        asText(f.label) || key,
        f.required ? h("span", { class: "rcnb-required", title: "required", text: " *" }) : null,
        asText(f.label) && asText(f.label) !== key ? h("code", { class: "rcnb-key", title: "the input's name in the API, the magic and errors", text: key }) : null
      );
      const hint = asText(f.description) ? h("div", { class: "rcnb-hint", text: asText(f.description) }) : null;
      const row = h("div", { class: "rcnb-field", "data-key": key, "data-kind": control.el.dataset.kind }, label, control.el, hint, error);
      fieldBag.dom(row, "focusout", (e) => {
        const next2 = (
          /** @type {Node | null} */
          e.relatedTarget
        );
        if (!(next2 && row.contains(next2)) && !touched.has(key)) {
          touched.add(key);
          renderErrors();
        }
      });
      next.set(key, { row, control, error });
    });
    rows = next;
    fieldsBox.replaceChildren(...[...rows.values()].map((r) => r.row));
    renderErrors();
  };
  const onValues = () => {
    const incoming = { ...model.get("values") || {} };
    for (const [key, r] of rows) {
      if (dirty.has(key)) continue;
      if (JSON.stringify(incoming[key]) !== JSON.stringify(current[key])) {
        localErrors.delete(key);
        r.control.set(incoming[key]);
      }
    }
    for (const key of dirty) incoming[key] = current[key];
    current = incoming;
    renderErrors();
  };
  const resync = () => {
    typing.cancel();
    dirty.clear();
    localErrors.clear();
    touched.clear();
    submitted = false;
    current = { ...model.get("values") || {} };
    for (const [key, r] of rows) r.control.set(current[key]);
    renderErrors();
  };
  let shownPython = 0;
  const renderErrors = () => {
    const errors = (
      /** @type {Record<string, any>} */
      model.get("errors") || {}
    );
    const formWide = [];
    if (asText(errors._form)) formWide.push(asText(errors._form));
    for (const [key, msg] of Object.entries(errors)) {
      if (key !== "_form" && !rows.has(key) && submitted) formWide.push(`${key}: ${asText(msg)}`);
    }
    formError.textContent = formWide.join("\n");
    formError.hidden = formWide.length === 0;
    shownPython = formWide.length - (asText(errors._form) ? 1 : 0);
    for (const [key, r] of rows) {
      const visible = submitted || touched.has(key);
      const msgs = [localErrors.get(key), visible ? asText(errors[key]) : ""].filter(Boolean);
      r.error.textContent = msgs.join(" · ");
      r.error.hidden = msgs.length === 0;
      r.row.classList.toggle("rcnb-invalid", msgs.length > 0);
      if (visible && asText(errors[key])) shownPython += 1;
    }
    renderSubmit();
  };
  const renderSubmit = () => {
    const busy = !!model.get("busy");
    const blocked = localErrors.size > 0 || shownPython > 0;
    submitBtn.disabled = busy || blocked;
    submitBtn.title = blocked ? "fix the fields marked in red first" : "";
    busyText.hidden = !busy;
  };
  const renderHeader = () => {
    const name = asText(model.get("display_name")) || asText(model.get("model_key"));
    title.textContent = name;
    modelId.textContent = asText(model.get("model_key")) !== name ? asText(model.get("model_key")) : "";
    modelId.hidden = !modelId.textContent;
    simBadge.hidden = !model.get("simulator");
  };
  let cards = /* @__PURE__ */ new Map();
  const clock = ticker(() => {
    const now = Date.now();
    let any = false;
    for (const c of cards.values()) any = c.card.tick(now) || any;
    clock.set(any);
  }, TICK_MS);
  const renderHistory = () => {
    const runs = asList(model.get("history"));
    const now = Date.now();
    const next = /* @__PURE__ */ new Map();
    let ticking = false;
    runs.forEach((run, i) => {
      if (!run || typeof run !== "object") return;
      let key = asText(run.local_id) || `#${i}`;
      while (next.has(key)) key += "'";
      let entry = cards.get(key);
      if (!entry) {
        const e = { card: (
          /** @type {any} */
          null
        ), index: i, run };
        e.card = createJobCard(doc, {
          title: false,
          onCancel: () => model.send({ type: "cancel", local_id: asText(e.run.local_id) }),
          onLoad: () => {
            resync();
            model.send({ type: "load", local_id: asText(e.run.local_id) });
          },
          onRunAgain: () => model.send({ type: "run_again", local_id: asText(e.run.local_id) })
        });
        entry = e;
      }
      entry.index = i;
      entry.run = run;
      ticking = entry.card.update({ ...run, simulator: false, notice: "" }, now) || ticking;
      next.set(key, entry);
    });
    for (const [key, entry] of cards) if (!next.has(key)) entry.card.destroy();
    cards = next;
    [...cards.values()].forEach((entry, i) => {
      if (historyList.children[i] !== entry.card.el) historyList.insertBefore(entry.card.el, historyList.children[i] || null);
    });
    historyBox.hidden = cards.size === 0;
    clock.set(ticking);
  };
  bag.dom(submitBtn, "click", () => {
    typing.flush();
    if (submitBtn.disabled) return;
    submitted = true;
    renderErrors();
    if (localErrors.size > 0) return;
    model.send({ type: "submit" });
  });
  bag.dom(resetBtn, "click", () => {
    resync();
    model.send({ type: "reset" });
  });
  bag.model("change:fields", buildFields);
  bag.model("change:values", onValues);
  bag.model("change:errors", renderErrors);
  bag.model("change:busy", renderSubmit);
  bag.model("change:history", renderHistory);
  bag.model("change:earlier", renderEarlier);
  bag.model("change:seed_modes", () => {
    const modes = model.get("seed_modes") || {};
    for (const [key, r] of rows) r.control.setMode?.(asText(modes[key]));
  });
  for (const t of ["model_key", "display_name", "simulator"]) bag.model(`change:${t}`, renderHeader);
  renderHeader();
  buildFields();
  renderHistory();
  renderEarlier();
  return () => {
    disposed = true;
    showCopy();
    earlier.destroy();
    typing.cancel();
    bag.dispose();
    fieldBag.dispose();
    clock.stop();
    for (const entry of cards.values()) entry.card.destroy();
    cards.clear();
    root.remove();
  };
}
var form_default = { render };
export {
  TYPING_DEBOUNCE_MS,
  form_default as default
};
