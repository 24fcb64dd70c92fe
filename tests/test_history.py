"""History: rc.jobs() reads as a table, rc.history() pages the journal as a gallery with thumbnails (also after
a kernel restart), filters it, and its buttons load a form, save, and run again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_TOKEN
from kernel_helpers import runcomfy_kernel
from PIL import Image

import runcomfy_nb as rc
from runcomfy_nb.config import settings
from runcomfy_nb.historyview import HistoryView
from runcomfy_nb.modelform import ModelForm
from runcomfy_nb.records import JobList

WAN = "wan-ai/wan-2-5/text-to-image"
KONTEXT = "blackforestlabs/flux-1-kontext/pro/edit"


@pytest.fixture
def saving_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sim: Any) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings, "autosave_dir", str(tmp_path / "runcomfy_outputs"))
    monkeypatch.setattr(settings, "save_dir", str(tmp_path / "saved"))
    # "Run again" uses the default client of the row's endpoint: configured as the environment would
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("RUNCOMFY_API_BASE", sim.base_url)
    return tmp_path


def test_jobs_is_a_readable_table_without_inline_media(client: Any, saving_here: Path) -> None:
    client.submit(WAN, prompt="a table fox", aspect_ratio="1024:1024 (1:1)").wait(timeout=60)
    red = Image.new("RGB", (64, 48), (200, 30, 30))
    client.submit(KONTEXT, prompt="make it winter", image_url=red, aspect_ratio="4:3").wait(timeout=60)
    rows = rc.jobs()
    assert isinstance(rows, JobList) and isinstance(rows[0], dict) and len(rows) == 2
    text = repr(rows)
    assert text.splitlines()[0].split()[:4] == ["when", "model", "prompt", "status"]
    assert "make it winter" in text and "a table fox" in text and "data:" not in text
    page = rows._repr_html_()
    assert page.count("data:image/webp;base64,") + page.count("data:image/jpeg;base64,") == 2  # thumbnails
    assert "data:image/png" not in page  # the inline input is never shown


def test_history_pages_filters_and_acts(client: Any, saving_here: Path) -> None:
    for i in range(5):
        client.submit(WAN, prompt=f"fox {i}", aspect_ratio="1024:1024 (1:1)").wait(timeout=60)
    client.submit(WAN, prompt="a lone owl", aspect_ratio="1024:1024 (1:1)").wait(timeout=60)
    view = HistoryView(page_size=4)
    try:
        assert (view.total, view.pages, view.page, len(view.items)) == (6, 2, 0, 4)
        assert view.items[0]["summary"]["prompt"] == "a lone owl"  # newest first
        assert all(o["thumb"]["src"].startswith("data:image/") for i in view.items for o in i["outputs"])
        view.page = 1
        assert [i["summary"]["prompt"] for i in view.items] == ["fox 1", "fox 0"]
        view.text_filter = "owl"
        assert (view.total, view.page, [i["summary"]["prompt"] for i in view.items]) == (1, 0, ["a lone owl"])
        assert f"data-rcnb-copy='{view.copy_id}'" in view._fallback_html() and "1 of 1 runs" in view._fallback_html()
        row = view.rows[0]
        view._on_front_end_message(view, {"type": "load", "local_id": row["local_id"]}, [])
        assert isinstance(view.last_shown, ModelForm) and view.last_shown.values["prompt"] == "a lone owl"
        view._on_front_end_message(view, {"type": "save", "local_id": row["local_id"]}, [])
        assert view.notice.startswith("Saved 1 file to ") and "runcomfy_outputs" in view.notice  # the kept copy
        view._on_front_end_message(view, {"type": "run_again", "local_id": row["local_id"]}, [])
        again = view.last_shown
        assert view.notice.startswith("Submitted again"), view.notice
        assert again.wait(timeout=60) and again.inputs["prompt"] == "a lone owl" and view.total == 2
        view._on_front_end_message(view, {"type": "load", "local_id": "not-a-run"}, [])  # ignored
        assert view.notice.startswith("Submitted again")
    finally:
        view.close()
    assert rc.history(model="wan", text="fox").total == 5
    assert rc.history(notebook_only=True).total == 7  # every run here was saved beside this "notebook"
    assert rc.history(model="kontext").total == 0


def test_history_after_a_kernel_restart_shows_earlier_jobs_with_thumbnails(sim: Any, isolated_home: Path,
                                                                           tmp_path: Path) -> None:
    env = {"RUNCOMFY_NB_AUTOSAVE": str(tmp_path / "runcomfy_outputs")}
    first = runcomfy_kernel(sim.base_url, isolated_home, env=env)
    try:
        first.run("%runcomfy wan-ai/wan-2-5/text-to-image prompt='before the restart' "
                  "aspect_ratio='1024:1024 (1:1)' --wait", timeout=60)
    finally:
        first.stop()
    second = runcomfy_kernel(sim.base_url, isolated_home)
    try:
        second.run("h = rc.history()")
        items = second.json("h.items")
        assert [i["summary"]["prompt"] for i in items] == ["before the restart"]
        assert items[0]["outputs"][0]["thumb"]["src"].startswith("data:image/")
        assert second.json("type(rc.jobs()).__name__") == "JobList"
    finally:
        second.stop()


def test_a_new_form_lists_the_models_earlier_runs_and_loads_them(client: Any, saving_here: Path) -> None:
    client.submit(WAN, prompt="earlier owl", aspect_ratio="1024:1024 (1:1)").wait(timeout=60)
    red = Image.new("RGB", (64, 48), (200, 30, 30))
    client.submit(KONTEXT, prompt="other model", image_url=red, aspect_ratio="4:3").wait(timeout=60)
    form = ModelForm(WAN, client=client)
    try:
        assert [i["summary"]["prompt"] for i in form.earlier] == ["earlier owl"]  # this model's runs only
        assert form.earlier[0]["outputs"][0]["thumb"]["src"].startswith("data:image/")
        form._on_front_end_message(form, {"type": "earlier_load", "local_id": form.earlier[0]["local_id"]}, [])
        assert form.values["prompt"] == "earlier owl" and form.values["aspect_ratio"] == "1024:1024 (1:1)"
        form._on_front_end_message(form, {"type": "earlier_run_again", "local_id": form.earlier[0]["local_id"]}, [])
        assert len(form.jobs) == 1 and form.jobs[0].wait(timeout=60)
        assert form.jobs[0].inputs["prompt"] == "earlier owl"
    finally:
        form.close()
