// JobView: the live display of one job (anywidget ESM entry point).
// Python sends only real state changes; the elapsed counter ticks here from the timestamps.

import { hideStaticCopy } from "./copy_guard.js";
import { createJobCard } from "./jobcard.js";
import { TICK_MS, listenerBag, ticker } from "./shared.js";

/** Synced traits this view reads (see docs/widgets.md). */
export const JOBVIEW_TRAITS = Object.freeze([
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
  "reused_from",
]);

/**
 * @param {{model: any, el: HTMLElement}} ctx
 * @returns {() => void} cleanup
 */
function render({ model, el }) {
  const doc = el.ownerDocument;
  const bag = listenerBag(model);
  const showCopy = hideStaticCopy(el, model.get("copy_id")); // one card where the widget renders
  const card = createJobCard(doc, {
    title: true,
    onCancel: () => model.send({ type: "cancel" }),
    onSave: () => model.send({ type: "save" }),
    onRunAgain: () => model.send({ type: "run_again" }),
  });
  const root = doc.createElement("div");
  root.className = "rcnb-root rcnb-jobview";
  root.append(card.el);
  el.append(root);

  const clock = ticker(() => clock.set(card.tick(Date.now())), TICK_MS);
  const refresh = () => {
    /** @type {Record<string, any>} */
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

export default { render };
