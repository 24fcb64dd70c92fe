"""Results that outlive their URLs: an nbconvert HTML export opened from disk shows every result.

20 images and a video made by the simulator's media code are saved with `saving.save_output` (telling names,
inputs, thumbnails); a notebook whose outputs are `lasting_html.output_html` blocks (what the static copies will
carry) with URLs that no longer answer is exported by nbconvert and opened from disk in Chromium: 20/20 pictures
and the video's poster are drawn, and their links open the local copies.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbconvert import HTMLExporter
from PIL import Image

from runcomfy_nb import lasting_html, saving
from runcomfy_nb.sim import media

from .harness import ARTIFACTS

pytestmark = pytest.mark.browser

WAN = "wan-ai/wan-2-5/text-to-image"
I2V = "community/wan-2-1/fusionx/image-to-video"
DEAD = "http://127.0.0.1:9/expired/"  # port 9 (discard): refused at once, like an expired result URL


def test_export_opened_from_disk_shows_all_results(browser: Any, tmp_path: Path) -> None:
    folder = tmp_path / "runcomfy_outputs"
    outputs = []
    for i in range(20):
        spec = media.RenderSpec(WAN, "text-to-image", f"a red fox, study {i}", i, (1024, 576))
        buffer = io.BytesIO()
        media.text_to_image(spec).save(buffer, "PNG", compress_level=1)
        rid = "f76f528849034b32" * 4 + f"{i:04d}"  # long shared prefixes
        saved = saving.save_output(buffer.getvalue(), folder, model_id=WAN, inputs={"prompt": spec.prompt, "seed": i},
                                   request_id=rid, index=0, ext="png")
        outputs.append({"kind": "image", "name": saved.path.name, "url": f"{DEAD}{i}.png",
                        **saved.to_dict(relative_to=tmp_path)})
    spec = media.RenderSpec(I2V, "video", "the fox turns", 1, (480, 480), frames=33, fps=16)
    made = tmp_path / "made.mp4"
    media.write_video(spec, Image.new("RGB", (480, 480), "#2a9d8f"), made)
    video = saving.save_output(made.read_bytes(), folder, model_id=I2V, inputs={"600_prompt": "the fox turns"},
                               request_id="clip", index=0, ext="mp4")
    made.unlink()
    outputs.append({"kind": "video", "name": video.path.name, "url": f"{DEAD}clip.mp4",
                    **video.to_dict(relative_to=tmp_path)})
    assert len({o["local"] for o in outputs}) == 21  # no two results share a file

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("job", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": f"<div class='rcnb-static'>{lasting_html.output_html(o)}</div>",
                              "text/plain": ""})]) for o in outputs]
    body, _ = HTMLExporter().from_notebook_node(notebook)
    page_path = tmp_path / "exported.html"
    page_path.write_text(body, encoding="utf-8")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(page_path.as_uri())
        page.wait_for_load_state("load")
        shown = page.locator(".rcnb-lasting img").evaluate_all("""imgs => Promise.all(imgs.map(async img => {
            img.scrollIntoView(); img.loading = 'eager';
            try { await img.decode(); } catch (e) {}
            return {ok: img.complete && img.naturalWidth > 0, w: img.naturalWidth,
                    href: img.closest('a') && img.closest('a').href,
                    kind: img.closest('.rcnb-lasting').dataset.kind}; }))""")
        assert len(shown) == 21 and all(s["ok"] for s in shown), shown
        assert [s["kind"] for s in shown].count("video") == 1 and all(s["w"] == 256 for s in shown)
        for s in shown:  # every link opens a local copy that exists
            assert s["href"].startswith("file://") and Path(s["href"][len("file://"):].replace("%20", " ")).is_file()
        assert "▶ video · 2.1 s" in page.locator(".rcnb-lasting[data-kind='video']").inner_text()
        page.screenshot(path=str(ARTIFACTS / "lasting_export.png"), full_page=False)
    finally:
        context.close()
    assert page_path.stat().st_size < 400_000
