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
var isNum = (v) => typeof v === "number" && Number.isFinite(v);
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

// js/list_items.js
var revOf = (entry) => entry && typeof entry.rev === "number" ? entry.rev : -1;
function listItems(model, trait, keyOf, onItem) {
  const newest = /* @__PURE__ */ new Map();
  const find = (list, key, hint) => Number.isInteger(hint) && list[hint] && keyOf(list[hint]) === key ? hint : list.findIndex((e) => e != null && keyOf(e) === key);
  function onMessage(content) {
    if (!content || content.type !== "item" || content.trait !== trait) return;
    const item = content.item;
    if (!item || typeof item !== "object") return;
    const key = keyOf(item);
    if (revOf(item) > revOf(newest.get(key))) newest.set(key, item);
    const list = asList(model.get(trait));
    const at = find(list, key, content.index);
    if (at < 0) return;
    if (revOf(item) > revOf(list[at])) list[at] = item;
    if (revOf(list[at]) === revOf(item)) onItem(at, list[at]);
  }
  function merge() {
    const list = asList(model.get(trait));
    for (const [key, item] of newest) {
      const at = find(list, key, null);
      if (at < 0) continue;
      if (revOf(list[at]) >= revOf(item) && list[at] !== item) newest.delete(key);
      else list[at] = item;
    }
  }
  return { onMessage, merge };
}

// js/form.js
var TYPING_DEBOUNCE_MS = 200;
var STATUS_BADGE = { submitting: "submitting…", in_queue: "queued", in_progress: "in progress", failed: "failed", cancelled: "cancelled" };
function runItem(run) {
  const status = asText(run.status);
  const ahead = typeof run.queue_position === "number" ? run.queue_position : null;
  let badge = asText(
    /** @type {any} */
    STATUS_BADGE[status]
  );
  if (status === "in_queue" && ahead !== null) badge += ahead === 0 ? " · next" : ` · #${ahead + 1}`;
  const seed = run.seed == null || run.seed === "" ? "" : `seed ${asText(run.seed)}`;
  const cost = typeof run.cost === "number" && Number.isFinite(run.cost) ? `$${run.cost.toFixed(3)}` : "";
  const start = typeof run.submitted_at === "number" ? run.submitted_at : null;
  const end = typeof run.finished_at === "number" ? run.finished_at : null;
  const time = start !== null && end !== null && end >= start ? `${((end - start) / 1e3).toFixed(1)} s` : "";
  const inputs = {};
  for (const row of asList(run.inputs_summary)) if (row && typeof row === "object") inputs[asText(row.label)] = asText(row.value);
  return {
    local_id: asText(run.local_id) || asText(run.request_id),
    request_id: asText(run.request_id),
    model_id: asText(run.request_id),
    // the viewer's meta line names the request (the model is the form's)
    summary: {
      prompt: asText(inputs.Prompt ?? inputs.prompt),
      status: status.replace("_", " "),
      time,
      seed,
      cost,
      when: start === null ? "" : new Date(start).toTimeString().slice(0, 5)
    },
    outputs: asList(run.outputs),
    inputs,
    badge,
    caption: [seed, cost, run.reused ? "reused" : ""].filter(Boolean).join(" · "),
    note: run.reused ? `reused from ${asText(run.reused_from) || "earlier"}` : "",
    error: asText(run.error),
    cancellable: run.cancellable === true
    // Python knows when the API still takes a cancel
  };
}
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
  const hasImageField = () => asList(model.get("fields")).some((f) => f?.kind === "media" && f?.media === "image");
  const runs = createGallery(doc, {
    actions: ["load", "run_again", "cancel", ...hasImageField() ? ["use_as_input"] : []],
    onAction: (type, item, outputIndex) => {
      if (type === "load") resync();
      const message = { type, local_id: asText(item?.local_id) };
      model.send(type === "use_as_input" ? { ...message, output_index: outputIndex } : message);
    }
  });
  const historyBox = h("section", { class: "rcnb-history", hidden: true }, h("div", { class: "rcnb-history-title", text: "Runs" }), runs.el);
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
  const historyItems = listItems(model, "history", (run) => asText(run?.local_id), (_index, run) => {
    if (!runs.updateItem(runItem(run))) renderHistory();
  });
  const renderHistory = () => {
    historyItems.merge();
    const items = asList(model.get("history")).filter((run) => run && typeof run === "object").map(runItem);
    runs.update(items);
    historyBox.hidden = items.length === 0;
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
  bag.model("msg:custom", historyItems.onMessage);
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
    runs.destroy();
    root.remove();
  };
}
var form_default = { render };
export {
  TYPING_DEBOUNCE_MS,
  form_default as default,
  runItem
};
