// One changed entry of a list trait, sent alone by Python instead of the whole list (runcomfy_nb.widgets.
// ItemUpdates): the message {type: "item", trait, index, item}. It is written into the model's list in place, so
// a view that renders later reads it too (Python changes its trait in place the same way, for a page reload).
// Every entry carries a growing `rev`: a whole list that arrives late (front ends may apply a state update after
// a custom message sent behind it) cannot undo a newer item.

import { asList } from "./shared.js";

/** @param {any} entry */
const revOf = (entry) => (entry && typeof entry.rev === "number" ? entry.rev : -1);

/**
 * Follow item messages for one list trait.
 * @param {any} model the anywidget model
 * @param {string} trait the list trait ("history", "cells")
 * @param {(entry: any) => string} keyOf what names an entry (a run's local id, a cell's index)
 * @param {(index: number, item: any) => void} onItem called once the item is in the list (draw that entry)
 * @returns {{onMessage: (content: any) => void, merge: () => void}} `onMessage` for "msg:custom";
 *   call `merge` before drawing a whole list (it puts back items newer than the list's entries)
 */
export function listItems(model, trait, keyOf, onItem) {
  /** @type {Map<string, any>} key -> the newest item received, until a whole list from Python has it */
  const newest = new Map();
  /** @param {any[]} list @param {string} key @param {any} hint */
  const find = (list, key, hint) =>
    Number.isInteger(hint) && list[hint] && keyOf(list[hint]) === key ? hint : list.findIndex((e) => e != null && keyOf(e) === key);

  /** @param {any} content */
  function onMessage(content) {
    if (!content || content.type !== "item" || content.trait !== trait) return;
    const item = content.item;
    if (!item || typeof item !== "object") return;
    const key = keyOf(item);
    if (revOf(item) > revOf(newest.get(key))) newest.set(key, item);
    const list = asList(model.get(trait));
    const at = find(list, key, content.index);
    if (at < 0) return; // not in the list yet: merged when the list that adds it arrives
    if (revOf(item) > revOf(list[at])) list[at] = item; // else another view of this model wrote it already
    if (revOf(list[at]) === revOf(item)) onItem(at, list[at]); // an older item than the list's is dropped
  }

  function merge() {
    const list = asList(model.get(trait));
    for (const [key, item] of newest) {
      const at = find(list, key, null);
      if (at < 0) continue;
      if (revOf(list[at]) >= revOf(item) && list[at] !== item) newest.delete(key); // Python's list caught up
      else list[at] = item;
    }
  }

  return { onMessage, merge };
}
