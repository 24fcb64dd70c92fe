"""marimo: a shared-module widget keeps its whole bundle there, renders live, and an object's `_display_` is used.

A real `marimo run` app in Chromium: a plain probe view and a stand-in job whose `_display_` returns its view; the
stand-in's state moves in_queue → in_progress → completed, from a plain thread, when the test says so (flag files,
no sleeps). Inside marimo a `SharedModuleWidget` is plain anywidget (`_esm`/`_css` inline, no host model: marimo
saves no widget state, and `marimo run` serves each viewer's session from one process, where one host would be
missing in all but the first session; tests/browser/test_marimo_job.py opens two). marimo renders each widget in a
shadow root: the CSS must apply there, and marimo evaluates the one module once for both views.
(The real Job in marimo: tests/browser/test_marimo_job.py.)
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import ARTIFACTS, marimo_run

pytestmark = pytest.mark.browser

APP = '''import marimo

app = marimo.App()


@app.cell
def _():
    import threading
    import time
    from pathlib import Path

    import traitlets

    from runcomfy_nb.shared_module import SharedModuleWidget

    class Probe(SharedModuleWidget):
        _bundle_esm = """
    globalThis.__smwEvals = (globalThis.__smwEvals || 0) + 1;
    export default { render({ model, el }) {
      const d = document.createElement("div");
      d.className = "smw-probe";
      const show = () => { d.textContent = model.get("label"); };
      show();
      model.on("change:label", show);
      el.appendChild(d);
      return () => model.off("change:label", show);
    } };
    """
        _bundle_css = ".smw-probe { color: rgb(1, 2, 3); }"
        label = traitlets.Unicode("").tag(sync=True)

    class FakeJob:
        """Stands for a Job: `_display_` gives marimo the live view."""

        def __init__(self, flags):
            self.view = Probe(label="in_queue")
            self.flags = Path(flags)
            threading.Thread(target=self._run, daemon=True).start()

        def _run(self):
            for status in ("in_progress", "completed"):
                while not (self.flags / status).exists():
                    time.sleep(0.05)
                self.view.label = status

        def _display_(self):
            return self.view

    return FakeJob, Probe


@app.cell
def _(Probe):
    view = Probe(label="")
    view.label = "plain view, inline" if view._host is None else "plain view, through a host"
    view
    return


@app.cell
def _(FakeJob):
    job = FakeJob(FLAGS)
    job
    return


if __name__ == "__main__":
    app.run()
'''

PROBES = """() => {
  const found = [];
  const walk = (root) => {
    root.querySelectorAll('.smw-probe').forEach(e => found.push({text: e.textContent, color: getComputedStyle(e).color}));
    root.querySelectorAll('*').forEach(e => { if (e.shadowRoot) walk(e.shadowRoot); });
  };
  walk(document);
  return found;
}"""


@pytest.fixture
def marimo_app(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    flags = tmp_path / "flags"
    flags.mkdir()
    app = tmp_path / "app.py"
    app.write_text(APP.replace("FakeJob(FLAGS)", f"FakeJob({str(flags)!r})"))
    with marimo_run(app) as url:
        yield url, flags


def test_display_protocol_gives_a_live_view_and_the_bundle_is_inline_in_marimo(browser: Any, marimo_app: Any) -> None:
    url, flags = marimo_app
    context = browser.new_context(viewport={"width": 1000, "height": 600})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(error.message))
        page.goto(url)

        def wait_for(texts: list[str]) -> list[dict[str, str]]:
            page.wait_for_function(f"() => ({PROBES})().map(p => p.text).join('|') === {'|'.join(texts)!r}",
                                   timeout=60_000)
            return page.evaluate(PROBES)

        assert wait_for(["plain view, inline", "in_queue"]) == [{"text": t, "color": "rgb(1, 2, 3)"}
                                                         for t in ("plain view, inline", "in_queue")]
        (flags / "in_progress").touch()
        wait_for(["plain view, inline", "in_progress"])
        (flags / "completed").touch()
        wait_for(["plain view, inline", "completed"])
        assert page.evaluate("() => globalThis.__smwEvals") == 1
        page.screenshot(path=str(ARTIFACTS / "marimo_shared_module.png"))
        assert not errors, errors
    finally:
        context.close()
