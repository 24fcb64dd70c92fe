"""One copy of the front-end code per notebook, however many widgets it shows.

anywidget syncs `_esm` and `_css` as ordinary traits of every widget model, and a notebook saved with widget
state stores every model's traits: 20 job views stored the ~25 KB bundle 20 times. Here the bundle lives in one
hidden `ModuleHost` model per kernel (per bundle), and each widget's `_esm` is a stub of under 1 KB that looks
the host up through the widget manager (`model.widget_manager.get_model`, part of anywidget's front-end API),
imports its code once per page (cached by content digest) and adds its CSS once per document or shadow root
(marimo renders each widget in a shadow root), keyed by the CSS's own digest: every bundle uses the same
static/widgets.css, so a page with jobs, a form and a sweep adds it once.

Front ends without widget state to save (marimo, which also caches `_esm` by content) can keep the full bundle:
`SharedModuleWidget.inline = True` on a subclass or in `rc.settings` at integration time.
See docs/lasting-results.md for the measurements and the alternatives considered.

Inside marimo every view keeps the full bundle (plain anywidget), always: marimo saves no widget state and sends
each distinct `_esm` once (by content hash), and `marimo run` serves every viewer's session from one process, where
one host model, opened in the first session, would be "not found" in all the others.
"""

from __future__ import annotations

import functools
import hashlib
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets
from ipywidgets import Layout, widget_serialization

# The stub every SharedModuleWidget sends as its `_esm`. It forwards render (and initialize, when the real
# module has one) to the host's module. The cache lives on globalThis because anywidget evaluates each model's
# `_esm` separately; it holds immutable module promises keyed by content digest, so a changed bundle (a new
# kernel with an upgraded package) loads afresh. A missing host (state saved by a broken version) raises, and
# anywidget shows the error in place of the view.
STUB_ESM = """\
const C = Symbol.for("runcomfy_nb.shared_modules");
async function load(m) {
  const ref = String(m.get("_host") || "");
  if (!ref) throw new Error("runcomfy_nb: this view has no module host");
  const h = await m.widget_manager.get_model(ref.replace(/^IPY_MODEL_/, ""));
  const d = h.get("digest"), cache = (globalThis[C] ??= new Map());
  if (!cache.has(d)) {
    const url = URL.createObjectURL(new Blob([h.get("code")], { type: "text/javascript" }));
    cache.set(d, import(/* webpackIgnore: true */ url).finally(() => URL.revokeObjectURL(url)));
  }
  const mod = await cache.get(d);
  return [h, mod.default ?? mod];
}
function css(el, h) {
  const text = h.get("css"), id = "rcnb-css-" + h.get("css_digest"), root = el.getRootNode();
  if (!text) return;
  const shadow = typeof ShadowRoot !== "undefined" && root instanceof ShadowRoot;
  const scope = shadow ? root : root instanceof Document ? document : null;
  if (scope?.getElementById(id)) return;
  const style = Object.assign(document.createElement("style"), { id, textContent: text });
  (shadow ? root : scope ? document.head : el).appendChild(style);
}
export default {
  async initialize(p) { const [, w] = await load(p.model); return w.initialize?.(p); },
  async render(p) { const [h, w] = await load(p.model); css(p.el, h); return w.render?.(p); },
};
"""


class ModuleHost(anywidget.AnyWidget):
    """A never-displayed model that carries one front-end bundle (code and CSS) for every view that uses it."""

    _esm = "export default { render() {} };"  # never rendered; anywidget needs an entry point
    code = traitlets.Unicode("").tag(sync=True)
    css = traitlets.Unicode("").tag(sync=True)
    digest = traitlets.Unicode("").tag(sync=True)
    css_digest = traitlets.Unicode("").tag(sync=True)  # hosts of different bundles share one <style> per page

    _hosts: ClassVar[dict[str, ModuleHost]] = {}
    _layout: ClassVar[Layout | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def shared_layout(cls) -> Layout:
        """One default `Layout` for every shared-module view in this kernel."""
        with cls._lock:
            if cls._layout is None or cls._layout.comm is None:
                cls._layout = Layout()
            return cls._layout

    @classmethod
    def for_bundle(cls, code: str, css: str = "") -> ModuleHost:
        """The kernel's host for this code+CSS, made on first use (one comm, one entry in saved widget state)."""
        digest = hashlib.sha256(f"{code}\x00{css}".encode()).hexdigest()[:16]
        css_digest = hashlib.sha256(css.encode()).hexdigest()[:16]
        with cls._lock:
            host = cls._hosts.get(digest)
            if host is None or host.comm is None:  # closed (Widget.close_all) or never opened
                host = cls._hosts[digest] = cls(code=code, css=css, digest=digest, css_digest=css_digest)
            return host


@functools.lru_cache(maxsize=16)
def _read_file(path: Path, _mtime_ns: int, _size: int) -> str:
    return path.read_text("utf-8")


def _read(source: str | Path) -> str:
    """A bundle's text: a string as is; a file read once per version (not once per widget: 1000 jobs)."""
    if not isinstance(source, Path):
        return str(source)
    stat = source.stat()
    return _read_file(source, stat.st_mtime_ns, stat.st_size)


def in_marimo() -> bool:
    """True when running inside a marimo kernel (`marimo edit`, `marimo run`); marimo is never imported here."""
    marimo = sys.modules.get("marimo")
    try:
        return marimo is not None and bool(marimo.running_in_notebook())
    except Exception:  # an old or partial marimo: treat as not marimo
        return False


class SharedModuleWidget(anywidget.AnyWidget):
    """An anywidget whose code and CSS are shared through a `ModuleHost` instead of copied into each model.

    Subclasses set `_bundle_esm` (and `_bundle_css`) to a path or a string, exactly what they would have set
    as `_esm` / `_css`. The rendered view is the same; only the saved state shrinks. Views also share one
    `Layout` model (ipywidgets makes one per widget, 1.2 KB of saved state each); pass `layout=` for your own.
    """

    _bundle_esm: ClassVar[str | Path] = ""
    _bundle_css: ClassVar[str | Path] = ""
    inline: ClassVar[bool] = False  # True: plain anywidget behaviour (full `_esm`/`_css` on every model); marimo: always

    _esm = traitlets.Unicode(STUB_ESM).tag(sync=True)
    _host = traitlets.Instance(ModuleHost, allow_none=True).tag(sync=True, **widget_serialization)

    def __init__(self, **kwargs: Any) -> None:
        code, css = _read(self._bundle_esm), _read(self._bundle_css)
        if self.inline or in_marimo():
            self.add_traits(_css=traitlets.Unicode(css).tag(sync=True))
            super().__init__(_esm=code, **kwargs)
        else:
            kwargs.setdefault("layout", ModuleHost.shared_layout())
            super().__init__(_host=ModuleHost.for_bundle(code, css), **kwargs)
