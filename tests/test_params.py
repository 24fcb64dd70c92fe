"""Inputs saved with a result: PNG iTXt chunk or sidecar JSON, read back by load_params."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from runcomfy_nb import params
from runcomfy_nb.sim import media

MODEL = "blackforestlabs/flux-1-kontext/pro/edit"


def _png(prompt: str = "make it winter", seed: int = 42, size: tuple[int, int] = (512, 384)) -> bytes:
    spec = media.RenderSpec(MODEL, "text-to-image", prompt, seed, size)
    buffer = io.BytesIO()
    media.text_to_image(spec).save(buffer, "PNG")
    return buffer.getvalue()


def _idat(png: bytes) -> bytes:
    return b"".join(data for kind, data, _s, _e in params._chunks(png) if kind == b"IDAT")


def test_png_round_trip_keeps_pixels_and_drops_inline_media(tmp_path: Path) -> None:
    inline = "data:image/png;base64," + base64.b64encode(_png("input", 1)).decode()
    inputs = {"prompt": "make it winter — «ça gèle» ❄", "seed": 42, "aspect_ratio": "16:9", "guidance": 3.5,
              "image_url": inline, "refs": ["https://example.com/a.png", inline], "safe": True, "style": None}
    path = tmp_path / "out.png"
    path.write_bytes(_png())
    record = params.params_record(MODEL, inputs, request_id="f76f5288" * 16)
    assert params.write_params(path, record) == path

    saved = params.load_params(path)
    assert saved.model_id == MODEL and saved.request_id == "f76f5288" * 16
    expected = {k: v for k, v in inputs.items() if k != "image_url"}
    expected["refs"] = ["https://example.com/a.png", saved.inputs["refs"][1]]
    assert saved.inputs == expected
    assert saved.inputs["refs"][1].startswith("<inline image/png, ") and "sha256 " in saved.inputs["refs"][1]
    decoded = base64.b64decode(inline.partition(",")[2])
    import hashlib

    for key in ("image_url", "refs[1]"):
        assert saved.inline_media[key] == {"mime": "image/png", "bytes": len(decoded),
                                           "sha256": hashlib.sha256(decoded).hexdigest()}
    written = path.read_bytes()
    assert inline.partition(",")[2][:200].encode() not in written  # no media bytes in the metadata
    assert _idat(written) == _idat(_png())  # the picture is byte for byte the same
    with Image.open(path) as img:  # other tools see the chunk (Pillow reads iTXt before IDAT into .info)
        assert json.loads(img.info[params.PNG_KEYWORD])["model_id"] == MODEL
        img.load()
        assert img.size == (512, 384)
    assert saved.source == str(path)


def test_writing_again_replaces_the_chunk(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(_png())
    params.write_params(path, params.params_record(MODEL, {"prompt": "one"}))
    params.write_params(path, params.params_record(MODEL, {"prompt": "two"}))
    chunks = [d for k, d, _s, _e in params._chunks(path.read_bytes()) if k == b"iTXt"]
    assert len(chunks) == 1
    assert params.load_params(path).inputs == {"prompt": "two"}
    assert not list(tmp_path.glob("*.part"))


def test_long_inputs_are_compressed_and_still_read(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(_png())
    prompt = "a very detailed prompt " * 400
    params.write_params(path, params.params_record(MODEL, {"prompt": prompt}))
    data = next(d for k, d, _s, _e in params._chunks(path.read_bytes()) if k == b"iTXt")
    assert data.split(b"\x00", 1)[1][0] == 1  # compression flag set
    assert len(data) < len(prompt) // 10
    assert params.load_params(path).inputs["prompt"] == prompt


def test_other_files_get_a_sidecar_and_either_path_reads_it(tmp_path: Path) -> None:
    video = tmp_path / "wan_fox_s7_abc-0123456789_0.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    sidecar = params.write_params(video, params.params_record("wan-ai/wan-2-5/image-to-video",
                                                              {"prompt": "a fox runs", "seed": 7}, request_id="abc"))
    assert sidecar == tmp_path / (video.name + ".json")
    assert video.read_bytes().startswith(b"\x00\x00\x00\x18ftyp")  # the video itself is untouched
    for path in (video, sidecar):
        saved = params.load_params(path)
        assert (saved.model_id, saved.inputs, saved.request_id) == \
            ("wan-ai/wan-2-5/image-to-video", {"prompt": "a fox runs", "seed": 7}, "abc")
        assert saved.source == str(sidecar)


def test_a_dropped_file_is_read_from_its_bytes(tmp_path: Path) -> None:
    png = params.png_with_params(_png(), params.params_record(MODEL, {"prompt": "x", "seed": 1}))
    assert params.params_from_bytes(png)["inputs"] == {"prompt": "x", "seed": 1}
    as_json = json.dumps(params.params_record(MODEL, {"prompt": "y"})).encode()
    assert params.params_from_bytes(as_json)["inputs"] == {"prompt": "y"}
    with pytest.raises(params.ParamsError, match="PNG without runcomfy_nb parameters"):
        params.params_from_bytes(_png(), "dropped.png")


def test_missing_foreign_and_broken_metadata_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(params.ParamsError, match="no such file"):
        params.load_params(tmp_path / "nope.png")
    plain = tmp_path / "plain.png"
    plain.write_bytes(_png())
    with pytest.raises(params.ParamsError, match=r"plain.png has no saved parameters \(looked for a runcomfy_nb "
                                                 r"text chunk or plain.png.json\)"):
        params.load_params(plain)
    foreign = tmp_path / "other.json"
    foreign.write_text(json.dumps({"prompt": "x"}))
    with pytest.raises(params.ParamsError, match="not runcomfy_nb parameters"):
        params.load_params(foreign)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"format": params.FORMAT, "model_id": 5, "inputs": []}))
    with pytest.raises(params.ParamsError, match="model_id must be text and inputs an object; got 5, 'list'"):
        params.load_params(wrong)
    with pytest.raises(params.ParamsError, match="truncated PNG"):
        params.png_with_params(_png()[:5000], params.params_record(MODEL, {}))
    cut = tmp_path / "cut.png"
    cut.write_bytes(_png()[:5000])
    with pytest.raises(params.ParamsError, match=r"cut.png: truncated PNG.*\(and no cut.png.json\)"):
        params.load_params(cut)
    with pytest.raises(params.ParamsError, match="not a PNG"):
        params.png_with_params(b"GIF89a", params.params_record(MODEL, {}))


def test_a_zlib_bomb_in_the_chunk_is_refused() -> None:
    bomb = zlib.compress(b" " * (params.MAX_METADATA + 10), 9)
    body = params.PNG_KEYWORD.encode() + b"\x00\x01\x00\x00\x00" + bomb
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    png = _png()
    hostile = png[:33] + chunk + png[33:]  # after IHDR (8 + 25 bytes)
    with pytest.raises(params.ParamsError, match="inflates to more than"):
        params.params_from_png(hostile)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40).filter(lambda s: s[:5].lower() != "data:"),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=20), json_values, max_size=8), st.text(max_size=64))
def test_any_json_inputs_round_trip_through_a_png(inputs: dict, model_id: str) -> None:
    png = params.png_with_params(_PNG, params.params_record(model_id, inputs, request_id="r"))
    record = params.params_from_png(png)
    assert record is not None
    assert record["model_id"] == model_id and record["inputs"] == inputs


_PNG = _png(size=(64, 48))


def test_a_journal_digest_of_big_media_is_described_without_made_up_numbers() -> None:
    digest = "data:image/png;base64,…<9000000 chars, sha256 0123456789abcdef>"
    assert params.describe_inline(digest) == {"mime": "image/png", "bytes": None, "sha256": None}
    record = params.params_record(MODEL, {"images": [digest]})
    assert record["inputs"] == {"images": ["<inline image/png>"]}


def test_line_wrapped_base64_is_described_by_its_real_bytes() -> None:
    import hashlib

    data = _png(size=(32, 32))
    encoded = base64.b64encode(data).decode()
    wrapped = "data:image/png;base64," + "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
    assert params.describe_inline(wrapped) == {"mime": "image/png", "bytes": len(data),
                                               "sha256": hashlib.sha256(data).hexdigest()}
