// History: earlier runs from the journal as a paged gallery (anywidget ESM entry point for rc.history()).
// Python pages and filters (the journal lives there); this view shows a page, sends the filters and the page
// number back as traits, and a gallery button as a message {type, local_id, output_index}.

import { hideStaticCopy } from "./copy_guard.js";
import { createGallery } from "./gallery.js";
import { asText, debouncer, hyper, listenerBag } from "./shared.js";

/** Typing in a filter box is sent this long after the last keystroke. */
export const FILTER_DEBOUNCE_MS = 300;

/**
 * @param {{model: any, el: HTMLElement}} ctx
 * @returns {() => void} cleanup
 */
function render({ model, el }) {
  const doc = el.ownerDocument;
  const h = hyper(doc);
  const bag = listenerBag(model);
  const typing = debouncer(FILTER_DEBOUNCE_MS);
  const showCopy = hideStaticCopy(el, model.get("copy_id"));
  const gallery = createGallery(doc, {
    onAction: (type, item, outputIndex) =>
      model.send({ type, local_id: asText(item?.local_id), output_index: outputIndex }),
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

export default { render };
