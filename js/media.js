// Pieces every result view draws the same way (the gallery, the sweep grid and its viewer, compare): one
// output as <img> or <video>, and a list of labelled values as <dt>/<dd> pairs.

import { asText, setSafeUrl } from "./shared.js";

/**
 * An output's picture: <video> for a video, <img> otherwise; src only through setSafeUrl.
 * @param {ReturnType<typeof import("./shared.js").hyper>} h
 * @param {{url?: unknown, kind?: unknown} | null | undefined} output
 * @param {string} cls
 * @param {{alt?: string, controls?: boolean, muted?: boolean, lazy?: boolean}} [opts]
 * @returns {HTMLElement | null} null when the URL is missing or refused (nothing to show)
 */
export function mediaNode(h, output, cls, { alt = "", controls = false, muted = false, lazy = false } = {}) {
  const node = output?.kind === "video"
    ? h("video", { class: cls, controls, muted, preload: "metadata" })
    : h("img", { class: cls, alt, loading: lazy ? "lazy" : null });
  return setSafeUrl(node, "src", output?.url) ? node : null;
}

/**
 * <dt>/<dd> nodes for [label, value, ddClass?] pairs (text only), for a <dl>.
 * @param {ReturnType<typeof import("./shared.js").hyper>} h
 * @param {Array<[unknown, unknown, string?]>} pairs
 * @returns {HTMLElement[]}
 */
export function definitions(h, pairs) {
  return pairs.flatMap(([label, value, cls]) => [h("dt", { text: asText(label) }), h("dd", { class: cls, text: asText(value) })]);
}
