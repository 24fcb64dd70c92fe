"""SweepView / CompareView on the Python side: the state the grid gets, its commands, the static copy."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import send, until
from IPython import get_ipython
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output
from PIL import Image

import runcomfy_nb as rc
from runcomfy_nb.sweepview import CompareView, SweepView, sweep_html

KONTEXT = "blackforestlabs/flux-1-kontext/pro/edit"
I2V = "community/wan-2-1/fusionx/image-to-video"
RED = Image.new("RGB", (64, 48), (200, 30, 30))
HOSTILE = "<script>alert(1)</script> make it winter"


def test_the_grid_state_of_a_finished_sweep(client: Any) -> None:
    sw = client.sweep(KONTEXT, {"prompt": [HOSTILE, "make it night"], "seed": [1, 2], "image_url": RED,
                                "aspect_ratio": "1:1"})
    sw.wait(timeout=60)
    view = SweepView(sw)
    until(lambda: view.counts.get("completed") == 4)
    assert [a["name"] for a in view.axes] == ["prompt", "seed"]
    assert view.axes[0]["parts"] == [["", HOSTILE, ""], ["", "make it night", ""]]  # nothing in common
    assert view.axes[1] == {"name": "seed", "label": "Seed", "values": ["1", "2"], "parts": []}
    assert [c["label"] for c in view.common] == ["Image", "Aspect Ratio (W:H)"]
    assert view.common[0]["value"].startswith("<inline image/png")
    assert all(c["status"] == "completed" and c["outputs"] and c["cost"] for c in view.cells)
    assert [c["seed"] for c in view.cells] == [1, 2, 1, 2]
    assert view.cost == pytest.approx(sw.cost)
    assert any(t["model_id"] == I2V and t["field"] == "608_image" for t in view.targets)
    html = sweep_html(sw)
    assert html.count("data:image/jpeg;base64,") == 4  # thumbnails survive the URLs' expiry
    assert sw._repr_html_().count("<img src='http://127.0.0.1") == 4  # without widgets: links, no downloads
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_cancel_all_from_the_grid_over_a_paused_queue(client: Any, sim: Any) -> None:
    sim.configure(paused=True)
    sw = client.sweep(KONTEXT, {"prompt": "p", "seed": [1, 2, 3, 4, 5, 6], "image_url": RED}, max_in_flight=2)
    view = SweepView(sw)
    until(lambda: view.counts.get("in_queue") == 2 and view.counts.get("waiting") == 4)
    assert [c["status"] for c in view.cells[2:]] == ["waiting"] * 4
    send(view, {"type": "cancel_all"})
    until(lambda: view.counts.get("cancelled") == 6)
    assert sim.counters()["submits_received"] == 2 and sim.counters()["jobs"] == {"cancelled": 2}
    assert "waiting (not sent)" not in sweep_html(sw, thumbnails=False)


def test_a_cells_own_cancel_and_run_again(client: Any, sim: Any) -> None:
    sim.configure(paused=True)
    sw = client.sweep(KONTEXT, {"prompt": "q", "seed": [1, 2, 3], "image_url": RED}, max_in_flight=1)
    view = SweepView(sw)
    until(lambda: view.counts.get("in_queue") == 1)
    send(view, {"type": "cancel", "index": 2})  # still waiting: never sent
    until(lambda: view.cells[2]["status"] == "cancelled")
    sim.configure(paused=False)
    until(lambda: view.counts.get("completed") == 2)
    assert sim.counters()["submits_received"] == 2
    first = sw.jobs[0].request_id
    send(view, {"type": "run_again", "index": 0})
    until(lambda: sw.jobs[0].request_id not in (None, first) and sw.jobs[0].status == "completed")
    assert sim.counters()["submits_received"] == 3 and not sw.jobs[0].reused


def test_use_as_input_and_load_into_form_open_prefilled_forms(client: Any) -> None:
    sw = client.sweep(KONTEXT, {"prompt": ["a", "b"], "seed": 4, "image_url": RED})
    sw.wait(timeout=60)
    view = SweepView(sw)
    send(view, {"type": "use_as_input", "index": 1, "model": I2V})
    assert view.last_form.model_key == I2V
    assert view.last_form.values["608_image"] == sw.jobs[1].outputs[0].url
    send(view, {"type": "load_into_form", "index": 0})
    assert view.last_form.model_key == KONTEXT and view.last_form.values["prompt"] == "a"
    assert view.last_form.values["seed"] == 4


def test_compare_lists_only_what_differs(client: Any) -> None:
    a = client.submit(KONTEXT, prompt="winter", image_url=RED, seed=1)
    b = client.submit(KONTEXT, prompt="night", image_url=RED, seed=1)
    a.wait(timeout=60), b.wait(timeout=60)
    view = rc.compare(a, b)
    assert isinstance(view, CompareView) and [i["url"] for i in view.items] == [a.outputs[0].url, b.outputs[0].url]
    assert "rcnb-static" in view._fallback_html()
    with pytest.raises(ValueError, match="2 to 4"):
        rc.compare(a)
    with pytest.raises(TypeError, match="item 2"):
        rc.compare(a, "not a job")


def test_displaying_a_sweep_shows_the_grid_and_a_static_copy(client: Any) -> None:
    ip = start_ipython() or get_ipython()  # one IPython app per process: reuse it
    ip.display_formatter.active_types = list(ip.display_formatter.format_types)
    sw = client.sweep(KONTEXT, {"prompt": "d", "seed": [1, 2], "image_url": RED})
    with capture_output() as captured:
        sw._ipython_display_()
    kinds = [o.data for o in captured.outputs]
    assert any("application/vnd.jupyter.widget-view+json" in d for d in kinds)
    assert any("rcnb-sweep-static" in d.get("text/html", "") for d in kinds)
    assert isinstance(sw.view, SweepView)
    sw.wait(timeout=60)


def test_a_video_sweep_gets_poster_thumbnails(client: Any, sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # not kept (an IPython shell made earlier in this process would turn auto-saving on beside the "notebook")
    monkeypatch.setattr(rc.settings, "autosave_dir", "off")
    sim.configure(time_scale=0.02)
    sw = client.sweep(I2V, {"600_prompt": ["drift left", "drift right"], "608_image": RED, "598_seed": 3,
                            "602_widthx602_height": "480x480 (1:1)", "602_num_frames": 81})
    sw.wait(timeout=120)
    assert [j.status for j in sw.jobs] == ["completed"] * 2 and all(o.kind == "video" for o in sw.outputs)
    html = sweep_html(sw)
    assert html.count("data:image/jpeg;base64,") == 2
    sim.expire_outputs()  # expired and not saved: a playable link instead of a broken picture
    assert "<video src=" in sweep_html(sw) and "data:image/jpeg" not in sweep_html(sw)


def test_the_static_copy_labels_long_prompts_by_the_part_that_differs(client: Any) -> None:
    start, end = "a quiet harbour town seen from the hill above the old lighthouse, ", ", oil painting, soft light"
    sw = client.sweep(KONTEXT, {"prompt": [start + "deep winter snow" + end, start + "warm summer rain" + end],
                                "seed": 1, "image_url": RED})
    sw.wait(timeout=60)
    html = sweep_html(sw, thumbnails=False)
    assert "prompt=…deep winter snow…" in html and "prompt=…warm summer rain…" in html
    assert "lighthouse, deep" not in html  # not the shared start, cut at the end
