// ModelForm: a form generated from a model's schema, plus the history of its runs (anywidget ESM entry point).
// Python is the single source of truth for validation: it reads `values` and answers with `errors`.
// A field's errors show once it was touched (edited or left) or after Submit, never on a form nobody typed in.

import { hideStaticCopy } from "./copy_guard.js";
import { buildControl } from "./fields.js";
import { createGallery } from "./gallery.js";
import { listItems } from "./list_items.js";
import { asList, asText, debouncer, hyper, listenerBag } from "./shared.js";

/** Typing in text-like boxes is sent this long after the last keystroke (Submit flushes it at once). */
export const TYPING_DEBOUNCE_MS = 200;

/** What the badge on a run's tile says while it is not done (completed runs show their picture alone). */
const STATUS_BADGE = { submitting: "submitting…", in_queue: "queued", in_progress: "in progress", failed: "failed", cancelled: "cancelled" };

/**
 * A run of `history` (runcomfy_nb.widgets.job_state) as a gallery item: its badge, "seed · cost" caption,
 * reuse note, error text, and its inputs as the form labels them.
 * @param {any} run
 */
export function runItem(run) {
  const status = asText(run.status);
  const ahead = typeof run.queue_position === "number" ? run.queue_position : null;
  let badge = asText(/** @type {any} */ (STATUS_BADGE)[status]);
  if (status === "in_queue" && ahead !== null) badge += ahead === 0 ? " · next" : ` · #${ahead + 1}`;
  const seed = run.seed == null || run.seed === "" ? "" : `seed ${asText(run.seed)}`;
  const cost = typeof run.cost === "number" && Number.isFinite(run.cost) ? `$${run.cost.toFixed(3)}` : "";
  const start = typeof run.submitted_at === "number" ? run.submitted_at : null;
  const end = typeof run.finished_at === "number" ? run.finished_at : null;
  const time = start !== null && end !== null && end >= start ? `${((end - start) / 1000).toFixed(1)} s` : "";
  /** @type {Record<string, string>} */
  const inputs = {};
  for (const row of asList(run.inputs_summary)) if (row && typeof row === "object") inputs[asText(row.label)] = asText(row.value);
  return {
    local_id: asText(run.local_id) || asText(run.request_id),
    request_id: asText(run.request_id),
    model_id: asText(run.request_id), // the viewer's meta line names the request (the model is the form's)
    summary: { prompt: asText(inputs.Prompt ?? inputs.prompt), status: status.replace("_", " "), time, seed, cost,
               when: start === null ? "" : new Date(start).toTimeString().slice(0, 5) },
    outputs: asList(run.outputs),
    inputs,
    badge,
    caption: [seed, cost, run.reused ? "reused" : ""].filter(Boolean).join(" · "),
    note: run.reused ? `reused from ${asText(run.reused_from) || "earlier"}` : "",
    error: asText(run.error),
    cancellable: run.cancellable === true, // Python knows when the API still takes a cancel
  };
}

/**
 * @typedef {import("./fields.js").FieldSpec} FieldSpec
 * @typedef {import("./fields.js").Control} Control
 */

/**
 * @param {{model: any, el: HTMLElement}} ctx
 * @returns {() => void} cleanup
 */
function render({ model, el }) {
  const doc = el.ownerDocument;
  const h = hyper(doc);
  const bag = listenerBag(model);
  const typing = debouncer(TYPING_DEBOUNCE_MS);
  const uid = `rcnb-${Math.random().toString(36).slice(2, 10)}`; // ids unique per render, no module state
  let disposed = false;
  const showCopy = hideStaticCopy(el, model.get("copy_id")); // one card where the widget renders

  // ---------- skeleton
  const title = h("span", { class: "rcnb-title" });
  const modelId = h("code", { class: "rcnb-model-id" });
  const simBadge = h("span", { class: "rcnb-badge rcnb-sim", text: "simulator", title: "talking to the offline simulator, not the real API" });
  const formError = h("div", { class: "rcnb-form-error", role: "alert", hidden: true });
  const fieldsBox = h("div", { class: "rcnb-fields" });
  const submitBtn = /** @type {HTMLButtonElement} */ (h("button", { class: "rcnb-btn rcnb-primary rcnb-submit", type: "button", text: "Submit" }));
  const resetBtn = h("button", { class: "rcnb-btn rcnb-reset", type: "button", text: "Reset", title: "back to the model's defaults" });
  const busyText = h("span", { class: "rcnb-busy", role: "status", hidden: true }, h("span", { class: "rcnb-spinner", "aria-hidden": "true" }), "submitting…");
  // today's runs (live): the same compact gallery as the earlier ones; Use as input only where it can go
  const hasImageField = () => asList(model.get("fields")).some((f) => f?.kind === "media" && f?.media === "image");
  const runs = createGallery(doc, {
    actions: ["load", "run_again", "cancel", ...(hasImageField() ? ["use_as_input"] : [])],
    onAction: (type, item, outputIndex) => {
      if (type === "load") resync();
      const message = { type, local_id: asText(item?.local_id) };
      model.send(type === "use_as_input" ? { ...message, output_index: outputIndex } : message);
    },
  });
  const historyBox = h("section", { class: "rcnb-history", hidden: true }, h("div", { class: "rcnb-history-title", text: "Runs" }), runs.el);
  // earlier runs of this model (the journal: other forms, cells, kernels), as the compact gallery
  const earlier = createGallery(doc, {
    actions: ["load", "save", "run_again"],
    onAction: (type, item, outputIndex) => model.send({ type: `earlier_${type}`, local_id: asText(item?.local_id), output_index: outputIndex }),
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
    earlierBox,
  );
  el.append(root);

  // ---------- values: `current` is what we believe `values` is, including edits not yet pushed
  /** @type {Record<string, any>} */
  let current = { ...(model.get("values") || {}) };
  /** keys edited locally and not yet pushed (Python's echo must not overwrite them) */
  const dirty = new Set();
  /** @type {Map<string, string>} local, client-side problems (bad JSON, 3.5 in an integer box) */
  const localErrors = new Map();
  /** keys the person edited or left: their errors are shown */
  const touched = new Set();
  /** after a Submit click every error is shown */
  let submitted = false;
  /** @type {Map<string, {row: HTMLElement, control: Control, error: HTMLElement}>} */
  let rows = new Map();
  /** DOM listeners of the current controls (dropped when `fields` changes) */
  let fieldBag = listenerBag(model);

  const push = () => {
    if (disposed) return;
    dirty.clear();
    model.set("values", { ...current });
    model.save_changes();
  };
  /** @param {string} key @param {any} value @param {{debounce?: boolean}} [opts] */
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

  // ---------- fields
  const buildFields = () => {
    fieldBag.dispose();
    fieldBag = listenerBag(model);
    typing.cancel();
    dirty.clear();
    localErrors.clear();
    current = { ...(model.get("values") || {}) };
    /** @type {Map<string, {row: HTMLElement, control: Control, error: HTMLElement}>} */
    const next = new Map();
    asList(model.get("fields")).forEach((/** @type {FieldSpec} */ f, i) => {
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
              model.set("seed_modes", { ...(model.get("seed_modes") || {}), [key]: mode });
              model.save_changes();
            },
          },
        },
        f,
        current[key],
      );
      const label = h(
        "label",
        { class: "rcnb-label", for: id },
        asText(f.label) || key,
        f.required ? h("span", { class: "rcnb-required", title: "required", text: " *" }) : null,
        asText(f.label) && asText(f.label) !== key ? h("code", { class: "rcnb-key", title: "the input's name in the API, the magic and errors", text: key }) : null,
      );
      const hint = asText(f.description) ? h("div", { class: "rcnb-hint", text: asText(f.description) }) : null;
      const row = h("div", { class: "rcnb-field", "data-key": key, "data-kind": control.el.dataset.kind }, label, control.el, hint, error);
      fieldBag.dom(row, "focusout", (/** @type {FocusEvent} */ e) => {
        // Leaving the field (not moving between its own parts, e.g. URL box → file button) marks it touched.
        const next = /** @type {Node | null} */ (e.relatedTarget);
        if (!(next && row.contains(next)) && !touched.has(key)) {
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

  /** Python changed `values` (load, reset, its own normalisation): show it without clobbering edits in flight. */
  const onValues = () => {
    const incoming = { ...(model.get("values") || {}) };
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

  /** Re-show every control from the model's values and drop local errors (before reset/load). */
  const resync = () => {
    typing.cancel();
    dirty.clear();
    localErrors.clear();
    touched.clear();
    submitted = false;
    current = { ...(model.get("values") || {}) };
    for (const [key, r] of rows) r.control.set(current[key]);
    renderErrors();
  };

  // ---------- errors / submit state
  /** how many of Python's field errors are on screen (local ones always are; `_form` never blocks a retry) */
  let shownPython = 0;
  const renderErrors = () => {
    const errors = /** @type {Record<string, any>} */ (model.get("errors") || {});
    /** @type {string[]} */
    const formWide = [];
    if (asText(errors._form)) formWide.push(asText(errors._form)); // from a submit: always said
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
    // Blocked only by problems the person can see (a fresh form's missing fields are said on Submit).
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

  // ---------- history: today's runs as the compact gallery, newest first, keyed by the job's local id (known
  // while submitting, before any request_id); the gallery's buttons name the run by it too
  // one run that changed comes alone (an item message): its tile is redrawn, not the list
  const historyItems = listItems(model, "history", (run) => asText(run?.local_id), (_index, run) => {
    if (!runs.updateItem(runItem(run))) renderHistory();
  });
  const renderHistory = () => {
    historyItems.merge();
    const items = asList(model.get("history")).filter((run) => run && typeof run === "object").map(runItem);
    runs.update(items);
    historyBox.hidden = items.length === 0;
  };
  // ---------- wiring
  bag.dom(submitBtn, "click", () => {
    typing.flush(); // the last keystrokes go out before the submit message
    if (submitBtn.disabled) return;
    submitted = true; // from now on every problem is shown (Python answers the submit with its errors)
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

export default { render };
