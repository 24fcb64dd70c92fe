"""Shared front-end module, in the kernel: the state ipywidgets would save holds the bundle once, not per view.

The front-end half (the stub finds the host and renders) runs in real JupyterLab in
tests/browser/test_lab_shared_module.py.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import anywidget
import ipywidgets
import pytest
import traitlets

from runcomfy_nb.shared_module import STUB_ESM, ModuleHost, SharedModuleWidget

STATIC = Path(__file__).resolve().parents[1] / "runcomfy_nb" / "static"


class Shared(SharedModuleWidget):
    _bundle_esm = STATIC / "jobview.js"
    _bundle_css = STATIC / "widgets.css"
    status = traitlets.Unicode("completed").tag(sync=True)


class Copied(anywidget.AnyWidget):  # what every view does today
    _esm = STATIC / "jobview.js"
    _css = STATIC / "widgets.css"
    status = traitlets.Unicode("completed").tag(sync=True)


class Inline(Shared):
    inline = True


def saved_state(widgets: list[ipywidgets.Widget]) -> dict:
    """What a front end saves for these views: their models and every model they reference."""
    wanted: dict[str, dict] = {}
    todo = list(widgets)
    while todo:
        widget = todo.pop()
        if widget.model_id in wanted:
            continue
        state = ipywidgets.Widget.get_manager_state(widgets=[widget])["state"][widget.model_id]
        wanted[widget.model_id] = state
        todo += [w for w in (getattr(widget, k, None) for k in widget.keys) if isinstance(w, ipywidgets.Widget)]
    return wanted


def test_twenty_views_store_the_bundle_once() -> None:
    bundle = (STATIC / "jobview.js").read_text()
    shared = [Shared() for _ in range(20)]
    copied = [Copied() for _ in range(20)]
    try:
        new, old = json.dumps(saved_state(shared)), json.dumps(saved_state(copied))
        marker = json.dumps(bundle[:200])[1:-1]
        assert old.count(marker) == 20 and new.count(marker) == 1
        assert len(new) < len(old) / 4, (len(new), len(old))
        hosts = {v._host.model_id for v in shared}
        layouts = {v.layout.model_id for v in shared}
        assert len(hosts) == 1 and len(layouts) == 1
        state = shared[0].get_state()
        assert state["_esm"] == STUB_ESM and "_css" not in state and state["_host"] == f"IPY_MODEL_{hosts.pop()}"
        host = shared[0]._host
        assert host.code == bundle and host.css == (STATIC / "widgets.css").read_text() and len(host.digest) == 16
        assert len(STUB_ESM) < 1400
    finally:
        for widget in shared + copied:
            widget.close()


def test_a_different_bundle_gets_its_own_host_and_a_closed_host_is_replaced() -> None:
    class Other(SharedModuleWidget):
        _bundle_esm = "export default { render({ el }) { el.textContent = 'other'; } };"

    class SameStyles(SharedModuleWidget):  # another bundle (SweepView, a form) with the one stylesheet
        _bundle_esm = "export default { render() {} };"
        _bundle_css = STATIC / "widgets.css"

    a, b, same = Shared(), Other(), SameStyles()
    try:
        assert a._host is not b._host and a._host.digest != b._host.digest
        # the page adds a stylesheet once per CSS digest: the same CSS from two bundles is one <style>
        assert a._host is not same._host and a._host.css_digest == same._host.css_digest != b._host.css_digest
        assert 'h.get("css_digest")' in STUB_ESM
        same.close()
        first = a._host
        first.close()
        c = Shared()
        assert c._host is not first and c._host.comm is not None and c._host.digest == first.digest
        c.close()
    finally:
        a.close()
        b.close()


def test_inline_mode_is_plain_anywidget() -> None:
    view = Inline()
    try:
        state = view.get_state()
        assert state["_esm"] == (STATIC / "jobview.js").read_text()
        assert state["_css"] == (STATIC / "widgets.css").read_text()
        assert view._host is None
    finally:
        view.close()


def test_inside_a_marimo_kernel_views_are_inline_and_outside_they_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """marimo imported is not marimo running: only a marimo kernel (`marimo.running_in_notebook()`) turns sharing
    off. A module stands in for marimo here, so the unit tier needs no marimo installed; the real thing, two viewers
    of one `marimo run` app, is tests/browser/test_marimo_job.py."""
    from runcomfy_nb.shared_module import in_marimo

    marimo = types.ModuleType("marimo")
    marimo.running_in_notebook = lambda: False  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "marimo", marimo)
    assert not in_marimo()  # imported, but this is no marimo kernel
    outside = Shared()
    monkeypatch.setattr(marimo, "running_in_notebook", lambda: True, raising=False)
    assert in_marimo()
    inside = Shared()
    try:
        assert outside._host is not None and outside.get_state()["_esm"] == STUB_ESM
        assert inside._host is None and inside.get_state()["_esm"] == (STATIC / "jobview.js").read_text()
    finally:
        outside.close()
        inside.close()


def test_module_host_is_reused_across_views() -> None:
    assert ModuleHost.for_bundle("x", "y") is ModuleHost.for_bundle("x", "y")
    assert ModuleHost.for_bundle("x", "y") is not ModuleHost.for_bundle("x", "z")


def test_job_views_and_forms_share_one_bundle_and_mark_their_static_copy(client: object) -> None:
    from runcomfy_nb.modelform import ModelForm
    from runcomfy_nb.widgets import JobView

    jobs = [client.submit("wan-ai/wan-2-5/text-to-image", prompt=f"small {i}",  # type: ignore[attr-defined]
                          aspect_ratio="1024:1024 (1:1)") for i in range(3)]
    for job in jobs:
        job.wait(timeout=60)
    views = [JobView(job) for job in jobs]
    form = ModelForm("wan-ai/wan-2-5/text-to-image", client=client)
    try:
        state = json.dumps(saved_state([*views, form]))
        assert state.count(json.dumps((STATIC / "jobview.js").read_text()[-300:])[1:-1]) == 1
        assert state.count(json.dumps((STATIC / "form.js").read_text()[-300:])[1:-1]) == 1
        assert all(v.get_state()["_esm"] == STUB_ESM for v in [*views, form])
        ids = {v.copy_id for v in [*views, form]}
        assert len(ids) == 4 and all(len(i) == 16 for i in ids)
        for view in [*views, form]:  # the copy says which view hides it
            assert f"data-rcnb-copy='{view.copy_id}'" in view._fallback_html()
    finally:
        for widget in [*views, form]:
            widget.close()
