"""Results that outlive their URLs, end to end through the simulator: an auto-saved job carries a thumbnail (a
video: its poster frame and duration) in its outputs, in the journal and in its static HTML copy, which links the
local copy beside the notebook; the copy still shows the result after the URLs expired and after a re-attach."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import runcomfy_nb as rc
from runcomfy_nb._render import job_html
from runcomfy_nb.config import settings

WAN = "wan-ai/wan-2-5/text-to-image"
VIDEO = "community/wan-2-1/fusionx/image-to-video"
RED = Image.new("RGB", (64, 48), (200, 30, 30))
THUMB = re.compile(r'<img src="data:image/(webp|jpeg);base64,[A-Za-z0-9+/=]+"')


@pytest.fixture
def notebook_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The kernel's working directory (the notebook's folder) with auto-save into runcomfy_outputs/ in it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings, "autosave_dir", str(tmp_path / "runcomfy_outputs"))
    return tmp_path


def test_saved_images_carry_thumbnails_into_the_journal_and_the_static_copy(client: Any, sim: Any,
                                                                            notebook_dir: Path) -> None:
    job = client.submit(WAN, prompt="a lasting fox sim:images=2", aspect_ratio="1024:1024 (1:1)")
    outputs = job.wait(timeout=60)
    for output in outputs:
        assert output.thumb and output.thumb["src"].startswith("data:image/") and output.thumb["width"] <= 256
        assert output.local and output.local.startswith("runcomfy_outputs/") and "a-lasting-fox" in output.local
        assert (notebook_dir / output.local).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert rc.load_params(notebook_dir / output.local).inputs["prompt"] == "a lasting fox sim:images=2"
    (row,) = [r for r in rc.jobs(limit=None) if r["request_id"] == job.request_id]
    assert [o["thumb"] for o in row["outputs"]] == [o.thumb for o in outputs]
    copy = job_html(job)
    assert len(THUMB.findall(copy)) == 2
    assert all(f'href="{o.local}"' in copy for o in outputs)  # linked to the local copy, not the URL
    assert all(o.url not in copy for o in outputs)  # nothing in the copy depends on the expiring URL
    sim.expire_outputs()
    again = client.attach(job.request_id)  # rebuilt from the journal: the thumbnails come back with it
    assert [o.thumb for o in again.outputs] == [o.thumb for o in outputs]
    assert len(THUMB.findall(job_html(again))) == 2


def test_a_saved_video_shows_its_poster_and_duration(client: Any, notebook_dir: Path) -> None:
    job = client.submit(VIDEO, {"600_prompt": "the red square drifts", "608_image": RED,
                                "602_widthx602_height": "480x480 (1:1)", "602_num_frames": 81, "609_frame_rate": 20})
    (video,) = job.wait(timeout=120)
    assert video.kind == "video" and video.duration == pytest.approx(4.05, abs=0.2)
    assert video.thumb and video.thumb["src"].startswith("data:image/")  # PyAV is installed in the test env
    copy = job_html(job)
    assert len(THUMB.findall(copy)) == 1 and "▶ video · 4." in copy and f'href="{video.local}"' in copy
    assert (notebook_dir / video.local).with_name(Path(video.local).name + ".json").is_file()  # inputs beside it


def test_without_a_local_copy_the_static_copy_shows_the_url(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "autosave_dir", None)
    job = client.submit(WAN, prompt="not kept", aspect_ratio="1024:1024 (1:1)")
    (output,) = job.wait(timeout=60)
    assert output.thumb is None and output.local is None and "thumb" not in output.to_dict()
    assert f'src="{output.url}"' in job_html(job)


def test_a_notebook_keeps_results_beside_it_by_default_and_a_script_does_not(sim: Any, isolated_home: Path,
                                                                              tmp_path: Path) -> None:
    import subprocess
    import sys

    from kernel_helpers import runcomfy_kernel

    kernel = runcomfy_kernel(sim.base_url, isolated_home)  # its working directory: tmp_path (the notebook's)
    try:
        kernel.run(f"job = %runcomfy {WAN} prompt='kept by default' aspect_ratio='1024:1024 (1:1)' --wait", timeout=60)
        report = kernel.json("{'state': job.save_state, 'local': job.outputs[0].local, "
                             "'thumb': bool(job.outputs[0].thumb), 'dir': str(rc.settings.autosave_dir)}")
        kernel.run("%config RunComfyMagics.autosave_dir = 'off'")
        kernel.run(f"off = %runcomfy {WAN} prompt='not kept' aspect_ratio='1024:1024 (1:1)' --wait", timeout=60)
        off = kernel.json("[off.save_state, off.outputs[0].local]")
    finally:
        kernel.stop()
    assert report["state"] == "saved" and report["thumb"] and report["dir"] == "None"
    assert report["local"].startswith("runcomfy_outputs/wan-2-5-text-to-image_kept-by-default_")
    assert (tmp_path / report["local"]).is_file()
    assert off == ["", None] and len(list((tmp_path / "runcomfy_outputs").iterdir())) == 1

    script = tmp_path / "script"
    script.mkdir()
    code = (f"import runcomfy_nb as rc; c = rc.Client(token='rc-test-token-7f3a9c', base_url={sim.base_url!r}); "
            f"j = c.submit({WAN!r}, prompt='a script', aspect_ratio='1024:1024 (1:1)'); j.wait(timeout=60); "
            "print(repr(j.save_state), j.outputs[0].local)")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=script, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "RUNCOMFY_NB_HOME": str(isolated_home)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["''", "None"] and list(script.iterdir()) == []  # a script writes nothing uninvited
