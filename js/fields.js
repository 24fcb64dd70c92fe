// Form controls, one builder per FieldSpec kind. Each builder returns a Control;
// the form owns the values dict, debouncing and error display.

import { asText, formatBytes, hyper, isNum, safeUrl, setSafeUrl } from "./shared.js";

/**
 * @typedef {{
 *   key: string, label?: string, kind: string, description?: string, required?: boolean,
 *   default?: any, choices?: any[], minimum?: number, maximum?: number, max_length?: number,
 *   media?: "image"|"video"|"audio", multiline?: boolean, example?: any
 * }} FieldSpec
 *
 * @typedef {{
 *   doc: Document,
 *   id: string,                                        // DOM id for the main input (label target)
 *   write: (value: any, opts?: {debounce?: boolean}) => void,
 *   setLocalError: (message: string | null) => void,   // client-side problem that blocks Submit
 *   listen: (t: EventTarget, type: string, fn: EventListener) => void,
 *   isDisposed: () => boolean,
 *   seedMode?: {get: () => string, set: (mode: string) => void}, // a seed's control after generate
 * }} FieldContext
 *
 * @typedef {{
 *   el: HTMLElement,          // the control (appended under the label)
 *   input: HTMLElement,       // the element the label points at
 *   set: (value: any) => void, // show a value that came from Python (no write-back)
 *   setMode?: (mode: string) => void // a seed control: show the mode Python has
 * }} Control
 */

/** Field kinds with a dedicated control. Anything else falls back to text or json. */
export const FIELD_KINDS = Object.freeze(["text", "enum", "integer", "number", "seed", "boolean", "json", "media"]);

export const SEED_MAX = 2147483647;

/** ComfyUI's "control after generate": what happens to a seed after each submit (runcomfy_nb/seeds.py). */
export const SEED_MODES = Object.freeze(["fixed", "increment", "randomize"]);

/**
 * Slider step for a float range: a power of ten near (max − min) / 100, e.g. 0..1 → 0.01, 1..15 → 0.1.
 * @param {number} min @param {number} max
 */
export function niceStep(min, max) {
  const raw = (max - min) / 100;
  if (!(raw > 0) || !Number.isFinite(raw)) return 0.01;
  return Number((10 ** Math.floor(Math.log10(raw))).toPrecision(1));
}

/** Length as JSON Schema counts it (code points). @param {string} s */
export const codePoints = (s) => [...s].length;

/**
 * Which control a field gets: its kind if known, else text for strings and json for anything else.
 * @param {FieldSpec} f @param {any} value
 */
export function controlKind(f, value) {
  if (FIELD_KINDS.includes(f.kind)) return f.kind;
  return value == null || typeof value === "string" ? "text" : "json";
}

/**
 * @param {FieldContext} ctx
 * @param {FieldSpec} f
 * @param {any} value
 * @returns {Control}
 */
export function buildControl(ctx, f, value) {
  const kind = controlKind(f, value);
  const c = BUILDERS[kind](ctx, f);
  c.el.classList.add("rcnb-control", `rcnb-control-${kind}`);
  c.el.dataset.kind = kind;
  c.set(value);
  return c;
}

/** @type {Record<string, (ctx: FieldContext, f: FieldSpec) => Control>} */
const BUILDERS = Object.freeze({
  text(ctx, f) {
    const h = hyper(ctx.doc);
    const input = f.multiline
      ? h("textarea", { class: "rcnb-input", id: ctx.id, rows: "3", spellcheck: "true" })
      : h("input", { class: "rcnb-input", id: ctx.id, type: "text" });
    // The schema's example is a hint, never a value: it is not sent unless typed.
    if (f.example != null) /** @type {HTMLInputElement} */ (input).placeholder = asText(f.example);
    const max = isNum(f.max_length) ? /** @type {number} */ (f.max_length) : null;
    const counter = max != null ? h("span", { class: "rcnb-counter", "aria-live": "polite" }) : null;
    const el = h("div", {}, input, counter);
    const input_ = /** @type {HTMLInputElement} */ (input);
    const count = () => {
      if (!counter) return;
      const n = codePoints(input_.value);
      counter.textContent = `${n} / ${max}`;
      counter.classList.toggle("rcnb-over", n > /** @type {number} */ (max));
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
      },
    };
  },

  enum(ctx, f) {
    const h = hyper(ctx.doc);
    const choices = Array.isArray(f.choices) ? f.choices : [];
    const select = /** @type {HTMLSelectElement} */ (h("select", { class: "rcnb-input", id: ctx.id }));
    const blank = h("option", { value: "", text: f.required ? "— choose —" : "— unset —" });
    select.append(blank, ...choices.map((c, i) => h("option", { value: String(i), text: asText(c) })));
    /** @param {any} v */
    const indexOf = (v) => {
      const i = choices.findIndex((c) => c === v);
      return i >= 0 ? i : v == null ? -1 : choices.findIndex((c) => String(c) === String(v));
    };
    ctx.listen(select, "change", () => {
      // Write the choice itself (string or int), not the option's string value.
      ctx.write(select.value === "" ? null : choices[Number(select.value)]);
    });
    return {
      el: h("div", {}, select),
      input: select,
      set(v) {
        const i = indexOf(v);
        // The blank option exists only when it means something (unset allowed, or nothing chosen yet).
        blank.hidden = !!f.required && i >= 0;
        const want = i >= 0 ? String(i) : "";
        if (select.value !== want) select.value = want;
      },
    };
  },

  integer: (ctx, f) => numberControl(ctx, f, true),
  number: (ctx, f) => numberControl(ctx, f, false),

  seed(ctx, f) {
    const h = hyper(ctx.doc);
    const box = /** @type {HTMLInputElement} */ (h("input", { class: "rcnb-input rcnb-number", id: ctx.id, type: "number", step: "1" }));
    const min = isNum(f.minimum) ? /** @type {number} */ (f.minimum) : 0;
    const max = isNum(f.maximum) ? /** @type {number} */ (f.maximum) : SEED_MAX;
    box.min = String(min);
    box.max = String(max);
    box.placeholder = "unset";
    const dice = h("button", { class: "rcnb-btn rcnb-dice", type: "button", title: "randomise", "aria-label": "randomise", text: "⚄ random" }); // U+2684: in common text fonts (DejaVu…), unlike 🎲, which needs an emoji font
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
    const mode = /** @type {HTMLSelectElement} */ (
      h("select", { class: "rcnb-input rcnb-seed-mode", title: "control after generate: what the seed does after each submit", "aria-label": "control after generate" },
        ...SEED_MODES.map((m) => h("option", { value: m, text: m === "fixed" ? "fixed" : `${m} after run` })))
    );
    const setMode = (/** @type {string} */ m) => {
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
      setMode,
    };
  },

  boolean(ctx) {
    const h = hyper(ctx.doc);
    const box = /** @type {HTMLInputElement} */ (h("input", { class: "rcnb-checkbox", id: ctx.id, type: "checkbox" }));
    ctx.listen(box, "change", () => ctx.write(box.checked));
    return {
      el: h("div", {}, box),
      input: box,
      set(v) {
        box.checked = v === true;
      },
    };
  },

  json(ctx) {
    const h = hyper(ctx.doc);
    const area = /** @type {HTMLTextAreaElement} */ (
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
        ctx.setLocalError(`invalid JSON: ${/** @type {Error} */ (e).message}`);
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
          /* shown text is not JSON: replace it */
        }
        if (v == null) {
          if (area.value !== "") area.value = "";
        } else if (!same) area.value = JSON.stringify(v, null, 2);
      },
    };
  },

  media(ctx, f) {
    const h = hyper(ctx.doc);
    const media = f.media === "video" || f.media === "audio" ? f.media : "image";
    const url = /** @type {HTMLInputElement} */ (
      h("input", {
        class: "rcnb-input rcnb-url",
        id: ctx.id,
        type: "text",
        placeholder: f.example != null ? `https://… or choose a file (e.g. ${asText(f.example)})` : "https://… or choose a file",
        spellcheck: "false",
      })
    );
    const file = /** @type {HTMLInputElement} */ (h("input", { class: "rcnb-file-input", type: "file", accept: `${media}/*`, "aria-label": `choose ${media} file` }));
    const chipText = h("span", { class: "rcnb-chip-text" });
    const clear = h("button", { class: "rcnb-btn rcnb-chip-clear", type: "button", title: "remove", "aria-label": "remove", text: "✕" });
    const chip = h("span", { class: "rcnb-chip", hidden: true }, chipText, clear);
    const preview = h("div", { class: "rcnb-preview", hidden: true });
    /** The file name + size of the data: URI this control produced (so we can show it instead of the URI). */
    let picked = { uri: "", label: "" };
    let shownUrl = "";

    /** @param {any} v */
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
        preload: media !== "image" ? "metadata" : null,
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
      file.value = ""; // picking the same file again still fires "change"
    });
    return { el: h("div", {}, h("div", { class: "rcnb-row" }, url, chip, file), preview), input: url, set: show };
  },
});

/**
 * Number box, plus a synced range slider when both bounds are known.
 * @param {FieldContext} ctx @param {FieldSpec} f @param {boolean} integer
 * @returns {Control}
 */
function numberControl(ctx, f, integer) {
  const h = hyper(ctx.doc);
  const box = /** @type {HTMLInputElement} */ (h("input", { class: "rcnb-input rcnb-number", id: ctx.id, type: "number" }));
  const bounded = isNum(f.minimum) && isNum(f.maximum) && /** @type {number} */ (f.maximum) > /** @type {number} */ (f.minimum);
  const step = integer ? 1 : bounded ? niceStep(/** @type {number} */ (f.minimum), /** @type {number} */ (f.maximum)) : null;
  box.step = integer ? "1" : "any";
  if (isNum(f.minimum)) box.min = String(f.minimum);
  if (isNum(f.maximum)) box.max = String(f.maximum);
  box.placeholder = "unset";
  /** @type {HTMLInputElement | null} */
  let slider = null;
  if (bounded) {
    slider = /** @type {HTMLInputElement} */ (
      h("input", { class: "rcnb-slider", type: "range", min: String(f.minimum), max: String(f.maximum), step: String(step), "aria-label": asText(f.label || f.key) })
    );
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
    },
  };
}

/**
 * Parse a number box: "" → null (unset); integers must be whole.
 * @param {string} text @param {boolean} integer
 * @returns {{value: number|null, error: string|null}}
 */
export function parseNumber(text, integer) {
  const s = text.trim();
  if (s === "") return { value: null, error: null };
  const n = Number(s);
  if (!Number.isFinite(n)) return { value: null, error: "not a number" };
  if (integer && !Number.isInteger(n)) return { value: null, error: "must be a whole number" };
  return { value: n, error: null };
}

/** @param {HTMLInputElement} box @param {any} v */
function setNumberBox(box, v) {
  const cur = box.value.trim() === "" ? null : Number(box.value);
  const want = isNum(v) ? v : null;
  if (cur === want) return; // keeps the caret while typing "0.50" etc.
  box.value = want == null ? "" : String(want);
}

/** "image/png · 1.2 MB" for a data: URI we did not pick ourselves. @param {string} uri */
function describeDataUri(uri) {
  const m = /^data:([^;,]*)/i.exec(uri);
  const comma = uri.indexOf(",");
  const payload = comma >= 0 ? uri.length - comma - 1 : 0;
  const bytes = /;base64,/i.test(uri.slice(0, comma + 1)) ? Math.floor((payload * 3) / 4) : payload;
  return `${(m && m[1]) || "data"} · ${formatBytes(bytes)}`;
}
