// A tiny stand-in for anywidget's model: get/set/on/off/send/save_changes.
// Records sent messages and saves; `update()` plays the Python side (sets traits and fires change events).

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export class FakeModel {
  /** @param {Record<string, any>} state */
  constructor(state = {}) {
    this.state = structuredClone(state);
    /** @type {Map<string, Set<Function>>} */
    this.handlers = new Map();
    /** messages sent with model.send() */
    this.sent = [];
    /** snapshots of the state at each save_changes() */
    this.saves = [];
  }

  get(key) {
    return this.state[key];
  }

  /** Like Backbone: fires change:key only when the value actually changes. */
  set(key, value) {
    const changed = !same(this.state[key], value);
    this.state[key] = value;
    if (changed) this.emit(`change:${key}`);
  }

  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(fn);
  }

  off(event, fn) {
    this.handlers.get(event)?.delete(fn);
  }

  send(msg) {
    this.sent.push(structuredClone(msg));
  }

  save_changes() {
    this.saves.push(structuredClone(this.state));
  }

  emit(event, ...args) {
    for (const fn of [...(this.handlers.get(event) || [])]) fn(...args);
  }

  /** A custom message from Python (what `widget.send(content)` delivers to "msg:custom"). */
  custom(content) {
    this.emit("msg:custom", structuredClone(content), []);
  }

  /** Python-side update: set several traits, then fire their change events. */
  update(patch) {
    const changed = Object.keys(patch).filter((k) => !same(this.state[k], patch[k]));
    Object.assign(this.state, structuredClone(patch));
    for (const k of changed) this.emit(`change:${k}`);
  }

  /** Number of registered listeners (all events). */
  listenerCount() {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }

  /** Messages of one type. */
  messages(type) {
    return this.sent.filter((m) => m.type === type);
  }
}
