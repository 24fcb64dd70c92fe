"""marimo: an object with `_display_` returning a shared-module widget is live, and the stub works there too.

A real `marimo run` app in Chromium: a plain probe view and a fake job whose `_display_` returns its view; the
job's state moves in_queue → in_progress → completed when the test says so (flag files, no sleeps). marimo renders
each widget in a shadow root: the stub must put the host's CSS there, and find the host through marimo's own
widget manager.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import ARTIFACTS, ROOT

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
    Probe(label="plain view")
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
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (ARTIFACTS / "marimo-server.log").open("wb")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "marimo", "run", str(app), "--headless", "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True, cwd=tmp_path)
    log.close()
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("marimo did not start: see test-artifacts/browser/marimo-server.log") from None
                time.sleep(0.2)
        yield url, flags
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_display_protocol_gives_a_live_view_and_the_stub_works_in_marimo(browser: Any, marimo_app: Any) -> None:
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

        assert wait_for(["plain view", "in_queue"]) == [{"text": t, "color": "rgb(1, 2, 3)"}
                                                         for t in ("plain view", "in_queue")]
        (flags / "in_progress").touch()
        wait_for(["plain view", "in_progress"])
        (flags / "completed").touch()
        wait_for(["plain view", "completed"])
        assert page.evaluate("() => globalThis.__smwEvals") == 1
        page.screenshot(path=str(ARTIFACTS / "marimo_shared_module.png"))
        assert not errors, errors
    finally:
        context.close()
