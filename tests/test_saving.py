"""Saving results: telling names that never collide, inputs inside the file, a preview, idempotent writes."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from runcomfy_nb import params, saving, thumbnails
from runcomfy_nb.sim import media

ROOT = Path(__file__).resolve().parents[1]
WAN = "wan-ai/wan-2-5/text-to-image"
I2V = "community/wan-2-1/fusionx/image-to-video"


def _png(prompt: str, seed: int, size: tuple[int, int] = (640, 480)) -> bytes:
    buffer = io.BytesIO()
    media.text_to_image(media.RenderSpec(WAN, "text-to-image", prompt, seed, size)).save(buffer, "PNG")
    return buffer.getvalue()


def _idat(png: bytes) -> bytes:
    return b"".join(data for kind, data, _s, _e in params._chunks(png) if kind == b"IDAT")


def test_request_ids_sharing_a_long_prefix_keep_separate_files_with_their_inputs(tmp_path: Path) -> None:
    prefix = "a1b2c3d4e5f6" * 10  # 120 shared characters
    inputs = {"prompt": "a red fox at dawn", "aspect_ratio": "1024:1024 (1:1)",
              "image_url": "data:image/png;base64," + base64.b64encode(_png("input", 0, (64, 64))).decode()}
    first = saving.save_output(_png("fox", 1), tmp_path, model_id=WAN, inputs=inputs, request_id=prefix + "01",
                               index=0, ext="png")
    second = saving.save_output(_png("fox", 2), tmp_path, model_id=WAN, inputs=inputs, request_id=prefix + "02",
                                index=0, ext="png", mime="image/png")
    assert first.path != second.path and first.path.is_file() and second.path.is_file()
    assert first.path.name.startswith("wan-2-5-text-to-image_a-red-fox-at-dawn_a1b2c3d4-")
    assert _idat(first.path.read_bytes()) == _idat(_png("fox", 1))  # pixels as the server made them
    assert _idat(second.path.read_bytes()) == _idat(_png("fox", 2))
    for saved, rid in ((first, prefix + "01"), (second, prefix + "02")):
        back = params.load_params(saved.path)
        assert (back.model_id, back.request_id) == (WAN, rid)
        assert back.inputs == {"prompt": "a red fox at dawn", "aspect_ratio": "1024:1024 (1:1)"}
        assert back.inline_media["image_url"]["mime"] == "image/png"
        assert saved.params_path == saved.path and saved.kind == "image"
        assert saved.thumbnail is not None and saved.thumbnail.width == thumbnails.DEFAULT_LONG_SIDE
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.path.name, second.path.name])


def test_saving_again_is_a_no_op_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    data = _png("again", 3)
    one = saving.save_output(data, tmp_path / "new" / "dir", model_id=WAN, inputs={"prompt": "again"},
                             request_id="r", index=0, ext="png")
    before = one.path.stat()
    two = saving.save_output(data, tmp_path / "new" / "dir", model_id=WAN, inputs={"prompt": "again"},
                             request_id="r", index=0, ext="png")
    assert two.path == one.path and two.path.stat().st_mtime_ns == before.st_mtime_ns
    assert [p.name for p in one.path.parent.iterdir()] == [one.path.name]


def test_a_video_gets_a_sidecar_a_poster_and_its_duration(tmp_path: Path) -> None:
    spec = media.RenderSpec(I2V, "video", "the fox turns", 5, (480, 480), frames=33, fps=16)
    made = tmp_path / "made.mp4"
    media.write_video(spec, Image.open(io.BytesIO(_png("fox", 1))).convert("RGB"), made)
    inputs = {"600_prompt": "the fox turns", "602_num_frames": 81, "608_image": "https://example.com/fox.png"}
    saved = saving.save_output(made.read_bytes(), tmp_path / "out", model_id=I2V, inputs=inputs,
                               request_id="vid-1", index=0, ext="mp4", mime="video/mp4")
    assert saved.kind == "video" and saved.path.suffix == ".mp4"
    assert saved.path.read_bytes() == made.read_bytes()
    assert saved.params_path == saved.path.with_name(saved.path.name + ".json")
    assert params.load_params(saved.path).inputs == inputs
    assert saved.duration == pytest.approx(33 / 16, abs=1 / 16)
    assert saved.thumbnail is not None and (saved.thumbnail.width, saved.thumbnail.height) == (256, 256)
    d = saved.to_dict(relative_to=tmp_path)
    assert d["local"] == f"out/{saved.path.name}" and d["thumb"]["src"].startswith("data:image/")
    assert d["duration"] == saved.duration


def test_what_cannot_be_previewed_is_still_saved_with_its_inputs(tmp_path: Path) -> None:
    broken = _png("cut", 4)[:2000]  # a PNG cut short
    saved = saving.save_output(broken, tmp_path, model_id=WAN, inputs={"prompt": "cut"}, request_id="r2",
                               index=3, ext="png")
    assert saved.path.read_bytes() == broken and saved.path.name.endswith("_3.png")
    assert saved.thumbnail is None and "not a readable image" in saved.preview_error
    assert params.load_params(saved.path).inputs == {"prompt": "cut"}  # from the sidecar
    other = saving.save_output(b"%PDF-1.4", tmp_path, model_id=WAN, inputs={}, request_id="r3", index=0, ext="pdf")
    assert other.kind == "file" and other.thumbnail is None and other.preview_error == ""
    assert saved.to_dict()["local"] == saved.path.as_posix()


def test_default_output_dir_follows_the_front_end(tmp_path: Path) -> None:
    notebook = tmp_path / "project" / "study.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    kernel = SimpleNamespace(user_ns={})
    assert saving.default_output_dir(kernel, env={}) == Path.cwd() / "runcomfy_outputs"
    assert saving.default_output_dir(kernel, env={"JPY_SESSION_NAME": str(notebook)}) == \
        notebook.parent / "runcomfy_outputs"
    assert saving.default_output_dir(kernel, env={"JPY_SESSION_NAME": "study.ipynb"}) == Path.cwd() / "runcomfy_outputs"
    vscode = SimpleNamespace(user_ns={"__vsc_ipynb_file__": str(notebook)})
    assert saving.default_output_dir(vscode, env={}) == notebook.parent / "runcomfy_outputs"
    assert saving.default_output_dir(None, env={}) is None  # a plain script
    assert saving.default_output_dir(None, env={"RUNCOMFY_NB_AUTOSAVE": "~/keep"}) == Path("~/keep").expanduser()
    assert saving.default_output_dir(kernel, env={"RUNCOMFY_NB_AUTOSAVE": "off"}) is None


def test_a_plain_script_saves_nothing_uninvited(tmp_path: Path) -> None:
    code = "from runcomfy_nb import saving; print(saving.default_output_dir())"
    env = {k: v for k, v in os.environ.items() if k != "RUNCOMFY_NB_AUTOSAVE"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={**env, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "None", result.stderr
