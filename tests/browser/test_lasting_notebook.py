"""The issue's end-to-end check: a notebook of 20 image jobs and a video, run headless through the in-kernel
simulator and saved with widget state, outlives its kernel and its URLs.

Exported by nbconvert and opened from disk in Chromium: 20/20 pictures and the video's poster are drawn (the
static copies' embedded thumbnails, linked to the copies kept in runcomfy_outputs/), and the file is ≤ 400 KB
(the widget bundle is stored once, shared_module). Reopened in JupyterLab with its default settings (which load
no saved widget state), each job's static copy shows the same thumbnails. (Views rendered from saved widget state
fall back to the thumbnails they carry when their URLs are dead: tests/js/jobview.test.js.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from .harness import ARTIFACTS, NotebookPage

pytestmark = pytest.mark.browser

WAN = "wan-ai/wan-2-5/text-to-image"
I2V = "community/wan-2-1/fusionx/image-to-video"
STATE = "application/vnd.jupyter.widget-state+json"
DRAWN = """imgs => Promise.all(imgs.map(async img => {
    img.scrollIntoView(); img.loading = 'eager';
    try { await img.decode(); } catch (e) {}
    return {ok: img.complete && img.naturalWidth > 0, src: img.getAttribute('src').slice(0, 15),
            href: img.closest('a') ? img.closest('a').href : ''}; }))"""


def run_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = ["%load_ext runcomfy_nb\nimport runcomfy_nb as rc\nsim = rc.sim.start(time_scale=0.05)"]
    cells += [f'j{i} = %runcomfy {WAN} prompt="a red fox at dawn, study {i}" aspect_ratio="1024:1024 (1:1)" --wait'
              for i in range(20)]
    cells.append(f'clip = %runcomfy {I2V} 608_image={{j0.outputs[0].url}} 600_prompt="the fox turns its head" '
                 '602_widthx602_height="480x480 (1:1)" 602_num_frames=81 609_frame_rate=16 --wait')
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    # as "Save Widget State Automatically" does; the kernel (and its simulator) is shut down afterwards
    NotebookClient(nb, timeout=600, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    path = folder / "lasting.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_saved_notebook_shows_every_result_without_kernel_or_urls(browser: Any, tmp_path: Path,
                                                                    lab_server: Any) -> None:
    path = run_notebook(tmp_path)
    size = path.stat().st_size
    saved = json.loads(path.read_text())
    state = saved["metadata"]["widgets"][STATE]["state"]
    hosts = [m for m in state.values() if "code" in m["state"] and "digest" in m["state"]]
    print(f"saved notebook: {size / 1024:.1f} KB, {len(state)} widget models, {len(hosts)} module host(s)")
    assert size <= 400_000 and len(hosts) == 1
    kept = sorted(p.name for p in (tmp_path / "runcomfy_outputs").iterdir() if not p.name.endswith(".json"))
    assert len(kept) == 21 and sum(n.endswith(".mp4") for n in kept) == 1

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(path, as_version=4))
    exported = tmp_path / "lasting.html"
    exported.write_text(body, encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(exported.as_uri())
        page.wait_for_load_state("load")
        drawn = page.locator(".rcnb-static .rcnb-lasting img").evaluate_all(DRAWN)
        assert len(drawn) == 21 and all(d["ok"] and d["src"].startswith("data:image/") for d in drawn), drawn
        assert {Path(d["href"]).name for d in drawn} == set(kept)  # each links its kept copy
        assert page.locator(".rcnb-lasting[data-kind='video']").count() == 1
        assert "▶ video · 5.1 s" in page.locator(".rcnb-lasting[data-kind='video']").inner_text()
        page.screenshot(path=str(ARTIFACTS / "lasting_notebook_export.png"), full_page=False)
    finally:
        context.close()

    # JupyterLab, reopened without a kernel: the views come back from the saved state and show thumbnails
    target = lab_server.root / "lasting.ipynb"
    shutil.copy(path, target)
    shutil.copytree(tmp_path / "runcomfy_outputs", lab_server.root / "runcomfy_outputs", dirs_exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        NotebookPage(page, lab_server, "lasting.ipynb", "lab").open()  # a fresh kernel: no live models
        # Lab's default saves no widget state: the views cannot render ("model not found", hidden by the copy's
        # style) and each job's static copy shows its embedded thumbnail, linked to the kept file
        page.wait_for_function("document.querySelectorAll('.rcnb-static .rcnb-lasting img').length >= 21",
                               timeout=90_000)
        copies = page.locator(".rcnb-static .rcnb-lasting img")
        drawn = copies.evaluate_all(DRAWN)
        assert len(drawn) == 21 and all(d["ok"] and d["src"].startswith("data:image/") for d in drawn), drawn
        assert {Path(d["href"].split("?")[0]).name for d in drawn} == set(kept)
        assert page.locator(".rcnb-root.rcnb-jobview").count() == 0
        page.screenshot(path=str(ARTIFACTS / "lasting_notebook_lab.png"), full_page=False)
    finally:
        context.close()
