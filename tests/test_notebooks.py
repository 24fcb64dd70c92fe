"""Every notebook in notebooks/ runs headless (nbclient, a real kernel) against the simulator with no token;
each ends by awaiting its jobs and asserting they completed. The quickstart's nbconvert HTML shows its results."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

pytestmark = pytest.mark.notebooks

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
TOKEN_VARS = ("RUNCOMFY_API_TOKEN", "RUNCOMFY_API_KEY", "RUNCOMFY_TOKEN")


def execute(path: Path, workdir: Path) -> Any:
    copy = workdir / path.name
    shutil.copy(path, copy)
    notebook = nbformat.read(copy, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def test_there_are_notebooks_for_each_family() -> None:
    names = {p.stem for p in NOTEBOOKS}
    assert {"quickstart", "prompt_iteration", "text_to_image", "image_to_video", "image_editing"} <= names


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem != "quickstart"], ids=lambda p: p.stem)
def test_notebook_runs_headless_on_the_simulator(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TOKEN_VARS:
        monkeypatch.delenv(name, raising=False)
    notebook = execute(path, tmp_path)
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "RunComfy simulator running" in text


def test_quickstart_and_its_html_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TOKEN_VARS:
        monkeypatch.delenv(name, raising=False)
    quickstart = next(p for p in NOTEBOOKS if p.stem == "quickstart")
    notebook = execute(quickstart, tmp_path)
    last = "".join(o.get("text", "") for o in notebook.cells[-1]["outputs"] if o.get("output_type") == "stream")
    assert len(re.findall(r"\['(image|video)'\]", last)) == 3
    # kept by default beside the notebook: 2 PNGs (inputs inside) and a video with its inputs in a sidecar
    saved = sorted(p.name for p in (tmp_path / "runcomfy_outputs").iterdir())
    assert len(saved) == 4 and sum(name.endswith(".png") for name in saved) == 2
    assert sum(name.endswith(".mp4") for name in saved) == sum(name.endswith(".mp4.json") for name in saved) == 1
    html, _ = HTMLExporter().from_notebook_node(notebook)
    # the static copies embed each result's thumbnail (the video's poster) and link its local copy
    linked = re.findall(r'<a href="(runcomfy_outputs/[^"]+)"[^>]*><img [^>]*src="data:image/(?:webp|jpeg);base64,', html)
    assert {name for name in saved if not name.endswith(".json")} <= {Path(p).name for p in linked}, \
        "the static copies of finished jobs carry their results"
    assert "completed" in html and "simulator" in html
