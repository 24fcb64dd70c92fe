"""Voilà: shared-module views render through Voilà's own widget manager (a dashboard of many job views).

A notebook with three probe views (SharedModuleWidget) is served by `voila` and opened in Chromium: each view
renders, the host's CSS applies, the module is evaluated once, and a trait change made by a later cell arrives.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .harness import ARTIFACTS, ROOT, stop_process_group
from .test_lab_shared_module import PROBE_CELL

pytestmark = pytest.mark.browser


def test_views_render_through_voila(browser: Any, tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in (
        PROBE_CELL, 'Probe(label="one")', 'Probe(label="two")', 'p = Probe(label="three")\np',
        'p.label = "changed"')]
    nbformat.write(notebook, tmp_path / "dashboard.ipynb")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "RUNCOMFY_"))}
    env.update(PYTHONPATH=str(ROOT), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = (ARTIFACTS / "voila-server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "voila", "dashboard.ipynb", "--no-browser", f"--port={port}",
                             "--Voila.ip=127.0.0.1"],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:  # listening (a GET of the page would run the notebook once more)
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("voila did not start: see test-artifacts/browser/voila-server.log") from None
                time.sleep(0.2)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(error.message))
        page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
        page.locator(".smw-probe", has_text="changed").wait_for(timeout=120_000)
        probes = page.locator(".smw-probe").evaluate_all(
            "els => els.map(e => ({text: e.textContent, color: getComputedStyle(e).color}))")
        assert probes == [{"text": t, "color": "rgb(1, 2, 3)"} for t in ("one", "two", "changed")]
        assert page.evaluate("() => globalThis.__smwEvals") == 1
        page.screenshot(path=str(ARTIFACTS / "voila_shared_module.png"))
        assert not errors, errors
    finally:
        context.close()
        stop_process_group(proc)
