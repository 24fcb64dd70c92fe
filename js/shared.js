// Small helpers shared by both widgets. No module-level mutable state lives here:
// everything is a pure function or a factory whose state lives in the caller's closure.

/** How often (ms) an elapsed counter refreshes while a job runs. */
export const TICK_MS = 250;

/** Status values the API / Python side may report, in lifecycle order. */
export const KNOWN_STATUSES = Object.freeze(["submitting", "in_queue", "in_progress", "completed", "failed", "cancelled"]);

/** Statuses after which nothing changes any more (the elapsed counter freezes). */
export const TERMINAL_STATUSES = Object.freeze(["completed", "failed", "cancelled"]);

const STATUS_LABELS = Object.freeze({
  submitting: "submitting",
  in_queue: "in queue",
  in_progress: "in progress",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled",
});

/**
 * Badge text and CSS class for a status. Unknown values get a neutral badge
 * showing the raw text (as text, never as a class name).
 * @param {unknown} status
 * @returns {{label: string, cls: string, known: boolean}}
 */
export function statusInfo(status) {
  const s = typeof status === "string" ? status : status == null ? "" : String(status);
  if (Object.prototype.hasOwnProperty.call(STATUS_LABELS, s)) {
    return { label: STATUS_LABELS[s], cls: `rcnb-status-${s}`, known: true };
  }
  return { label: s || "unknown", cls: "rcnb-status-other", known: false };
}

/**
 * Queue wording. `queue_position` is the number of jobs ahead (0 = next to run),
 * shown 1-based as the place in line: 0 → "next in line", 2 → "position 3".
 * @param {unknown} ahead
 * @returns {string} "" when there is no usable position
 */
export function queueText(ahead) {
  if (typeof ahead !== "number" || !Number.isFinite(ahead) || ahead < 0) return "";
  const n = Math.floor(ahead);
  return n === 0 ? "next in line" : `position ${n + 1}`;
}

/**
 * The single gate for every URL used as `src` or `href`.
 * Allowed: absolute `http:` / `https:` URLs, and `data:image/*` / `data:video/*` URIs.
 * Everything else (javascript:, file:, blob:, relative paths, data:text/html, non-strings) → null.
 * @param {unknown} url
 * @returns {string | null} the URL to use, or null if it must be shown as text only
 */
export function safeUrl(url) {
  if (typeof url !== "string") return null;
  const s = url.trim();
  // Browsers strip control characters / whitespace inside schemes ("java\tscript:"):
  // refuse anything containing them outright rather than reasoning about it.
  // eslint-disable-next-line no-control-regex
  if (!s || /[\u0000-\u001f\u007f]/.test(s)) return null;
  if (/^data:/i.test(s)) {
    return /^data:(image|video)\/[a-z0-9][a-z0-9.+-]*[;,]/i.test(s) ? s : null;
  }
  let parsed;
  try {
    parsed = new URL(s);
  } catch {
    return null; // relative or malformed
  }
  return parsed.protocol === "http:" || parsed.protocol === "https:" ? s : null;
}

/** @param {unknown} v */
export const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** A cost in USD: cents for a total, a tenth of a cent for one run ($0.040). @param {number} usd */
export const formatCost = (usd) => `$${usd.toFixed(usd >= 1 ? 2 : 3)}`;

/**
 * Human elapsed time: "4.2 s", "1m 05s", "2h 03m".
 * @param {number} ms
 */
export function formatElapsed(ms) {
  if (!isNum(ms)) return "";
  const t = Math.max(0, ms) / 1000;
  if (t < 60) return `${t.toFixed(1)} s`;
  const s = Math.floor(t);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * Elapsed time of a job from its timestamps (epoch ms).
 * Running: now − submitted_at. Finished: finished_at − submitted_at (frozen).
 * @param {{status?: string, submitted_at?: number|null, started_at?: number|null, finished_at?: number|null}} s
 * @param {number} now
 * @returns {{text: string, title: string, ticking: boolean}}
 */
export function elapsedInfo(s, now) {
  const sub = s.submitted_at;
  const fin = s.finished_at;
  const done = isNum(fin) || TERMINAL_STATUSES.includes(/** @type {string} */ (s.status));
  if (!isNum(sub)) return { text: "", title: "", ticking: false };
  if (done && !isNum(fin)) return { text: "", title: "", ticking: false };
  const end = done ? /** @type {number} */ (fin) : now;
  let title = "";
  if (isNum(s.started_at)) {
    const st = /** @type {number} */ (s.started_at);
    title = `queued ${formatElapsed(st - sub)} · running ${formatElapsed(end - st)}`;
  }
  return { text: formatElapsed(end - sub), title, ticking: !done };
}

/** Byte size for humans: "812 B", "1.2 KB", "3.4 MB". @param {number} n */
export function formatBytes(n) {
  if (!isNum(n) || n < 0) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Element factory bound to a document. Children that are strings become text
 * nodes; there is deliberately no way to pass HTML.
 * @param {Document} doc
 * @returns {(tag: string, props?: Record<string, any> | null, ...children: any[]) => HTMLElement}
 */
export function hyper(doc) {
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

/**
 * Set `src`/`href` only through the safe-URL gate.
 * @param {HTMLElement} node
 * @param {"src"|"href"} attr
 * @param {unknown} url
 * @returns {boolean} whether the URL was accepted
 */
export function setSafeUrl(node, attr, url) {
  const ok = safeUrl(url);
  if (ok == null) return false;
  node.setAttribute(attr, ok);
  return true;
}

/**
 * Listener bookkeeping for one render: `on` registers on the model and remembers,
 * `dispose` removes them all. Also tracks DOM listeners.
 * @param {{on: Function, off: Function}} model
 */
export function listenerBag(model) {
  /** @type {Array<() => void>} */
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
      while (undo.length) /** @type {() => void} */ (undo.pop())();
    },
  };
}

/**
 * A setInterval that only runs while `active`; `stop()` clears it for good.
 * @param {() => void} fn
 * @param {number} ms
 */
export function ticker(fn, ms) {
  /** @type {ReturnType<typeof setInterval> | null} */
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
    },
  };
}

/**
 * Trailing-edge debouncer with explicit flush/cancel (for text typing).
 * @param {number} ms
 */
export function debouncer(ms) {
  /** @type {ReturnType<typeof setTimeout> | null} */
  let id = null;
  /** @type {(() => void) | null} */
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
    },
  };
}

/** @template T @param {unknown} v @returns {T[]} */
export const asList = (v) => (Array.isArray(v) ? v : []);

/** @param {unknown} v @returns {string} */
export const asText = (v) => (v == null ? "" : typeof v === "string" ? v : String(v));
