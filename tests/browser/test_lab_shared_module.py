"""Shared front-end module: many views, one copy of the code in the saved notebook, still rendering after reopen.

A probe widget (SharedModuleWidget with a tiny ESM and CSS) is shown four times in real JupyterLab 4 with
"save widget state" on. Checked: every view renders through the stub (content, CSS from the host, trait updates),
the module is evaluated once per page, the saved widget state holds the code once, and after the kernel is shut
down and the page reloaded the views render again from the saved state alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from runcomfy_nb.shared_module import STUB_ESM

pytestmark = pytest.mark.browser

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
SAVE_STATE_SETTING = Path("@jupyter-widgets", "jupyterlab-manager", "plugin.jupyterlab-settings")

PROBE_CELL = '''import traitlets
from runcomfy_nb.shared_module import SharedModuleWidget

class Probe(SharedModuleWidget):
    _bundle_esm = """
globalThis.__smwEvals = (globalThis.__smwEvals || 0) + 1;  // PROBE-MARKER
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
    label = traitlets.Unicode("").tag(sync=True)'''


def probes(nb: Any) -> list[dict[str, str]]:
    return nb.page.locator(".smw-probe").evaluate_all(
        "els => els.map(e => ({text: e.textContent, color: getComputedStyle(e).color}))")


def test_views_share_one_module_live_and_after_reopen(lab_server: Any, open_notebook: Any) -> None:
    setting = lab_server.base / "settings" / SAVE_STATE_SETTING
    setting.parent.mkdir(parents=True, exist_ok=True)
    setting.write_text(json.dumps({"saveState": True}))
    try:
        nb = open_notebook(lab_server, "shared_module.ipynb", [
            PROBE_CELL, 'Probe(label="one")', 'Probe(label="two")', 'Probe(label="three")',
            'p = Probe(label="four")\np', 'p.label = "changed"'])
        for index in range(7):
            nb.run(index)
        nb.page.locator(".smw-probe", has_text="changed").wait_for()
        assert probes(nb) == [{"text": t, "color": "rgb(1, 2, 3)"} for t in ("one", "two", "three", "changed")]
        assert nb.page.evaluate("() => globalThis.__smwEvals") == 1, "the module is evaluated once per page"
        assert nb.page.locator("style[id^='rcnb-css-']").count() == 1
        nb.screenshot("shared_module_live", nb.cell(1))

        nb.page.keyboard.press("Escape")
        nb.page.keyboard.press("Control+s")
        path = lab_server.root / "shared_module.ipynb"
        nb.page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
        saved = nbformat.read(path, as_version=4)
        state = saved.metadata["widgets"][WIDGET_STATE]["state"]
        text = json.dumps(state)
        assert text.count("PROBE-MARKER") == 1, "the code is saved once, not once per view"
        views = [m["state"] for m in state.values() if m["state"].get("_anywidget_id", "").endswith(".Probe")]
        assert len(views) == 4 and all(v["_esm"] == STUB_ESM and "_css" not in v for v in views)
        assert sorted(v["label"] for v in views) == ["changed", "one", "three", "two"]

        nb.command("kernelmenu:shutdown")
        nb.page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text="No Kernel").wait_for()
        nb.page.reload()
        nb.wait_idle()
        nb.page.locator(".smw-probe").nth(3).wait_for()
        assert probes(nb) == [{"text": t, "color": "rgb(1, 2, 3)"} for t in ("one", "two", "three", "changed")]
        assert nb.page.evaluate("() => globalThis.__smwEvals") == 1
        nb.screenshot("shared_module_reopened", nb.cell(1))
        assert not nb.unexpected_errors(), nb.errors
    finally:
        setting.unlink(missing_ok=True)  # the other tests expect Lab's default (no saved widget state)
