"""Embedded previews: real PNG/MP4 made by the simulator's media code, decoded back with Pillow/PyAV."""

from __future__ import annotations

import base64
import io
import random
import sys
from pathlib import Path

import pytest
from PIL import Image

from runcomfy_nb import thumbnails as th
from runcomfy_nb.sim import media


def _png(size: tuple[int, int] = (1024, 1024), prompt: str = "a red fox at dawn", seed: int = 42) -> bytes:
    spec = media.RenderSpec("wan-ai/wan-2-5/text-to-image", "text-to-image", prompt, seed, size)
    buffer = io.BytesIO()
    media.text_to_image(spec).save(buffer, "PNG")
    return buffer.getvalue()


def _decode(thumb: th.Thumbnail) -> Image.Image:
    head, _, payload = thumb.data_uri.partition(",")
    assert head in ("data:image/webp;base64", "data:image/jpeg;base64")
    img = Image.open(io.BytesIO(base64.b64decode(payload)))
    img.load()
    return img


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("video")
    spec = media.RenderSpec("wan-ai/wan-2-5/image-to-video", "video", "a fox runs", 7, (832, 480), frames=33, fps=16)
    media.write_video(spec, Image.open(io.BytesIO(_png((832, 480)))).convert("RGB"), folder / "v.mp4")
    return folder / "v.mp4"


def test_generated_png_becomes_a_few_kb_preview_of_the_same_picture() -> None:
    png = _png()
    thumb = th.image_thumbnail(png)
    img = _decode(thumb)
    assert (thumb.width, thumb.height) == img.size == (th.DEFAULT_LONG_SIDE,) * 2 == (256, 256)
    assert thumb.size <= th.DEFAULT_MAX_BYTES < len(png) // 5
    assert thumb.mime == ("image/webp" if th.default_format() == "WEBP" else "image/jpeg")
    # the same picture: the thumbnail and a plain resize of the original agree closely, pixel by pixel
    reference = Image.open(io.BytesIO(png)).convert("RGB").resize((256, 256))
    diff = sum(abs(a - b) for a, b in zip(img.convert("RGB").tobytes(), reference.tobytes(), strict=True)) / (256 * 256 * 3)
    assert diff < 12, diff
    assert thumb.to_dict() == {"src": thumb.data_uri, "width": 256, "height": 256}


def test_aspect_is_kept_and_small_pictures_are_not_enlarged() -> None:
    wide = th.image_thumbnail(_png((1440, 810)), long_side=320)
    assert (wide.width, wide.height) == (320, 180)
    tall = th.image_thumbnail(_png((480, 720)))
    assert (tall.width, tall.height) == (171, 256)
    tiny = th.image_thumbnail(_png((100, 50)))
    assert (tiny.width, tiny.height) == _decode(tiny).size == (100, 50)


def test_jpeg_on_request_and_transparency_flattened_on_white() -> None:
    rgba = Image.new("RGBA", (600, 400), (0, 0, 0, 0))
    rgba.paste((200, 0, 0, 255), (200, 100, 400, 300))
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")
    thumb = th.image_thumbnail(buffer.getvalue(), fmt="jpeg")
    assert thumb.data_uri.startswith("data:image/jpeg;base64,")
    img = _decode(thumb).convert("RGB")
    assert min(img.getpixel((2, 2))) > 240  # the transparent corner is white, not black
    r, g, b = img.getpixel((160, 106))
    assert r > 150 and g < 60 and b < 60


def test_exif_rotation_is_applied() -> None:
    img = Image.open(io.BytesIO(_png((800, 400)))).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", exif=exif)
    thumb = th.image_thumbnail(buffer.getvalue())
    assert (thumb.width, thumb.height) == (128, 256)


def test_a_tight_budget_is_met_by_lowering_quality_then_size() -> None:
    png = _png((1024, 1024), prompt="budget", seed=3)
    thumb = th.image_thumbnail(png, max_bytes=1500)
    assert thumb.size <= 1500
    assert _decode(thumb).size == (thumb.width, thumb.height)
    # noise cannot be squeezed into 300 bytes at any size: a clear error, not an oversized thumbnail
    rng = random.Random(0)
    noise = Image.frombytes("RGB", (512, 512), bytes(rng.getrandbits(8) for _ in range(512 * 512 * 3)))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    with pytest.raises(th.ThumbnailError, match="cannot fit a thumbnail in 300 bytes"):
        th.image_thumbnail(buffer.getvalue(), max_bytes=300)
    with pytest.raises(ValueError, match="max_bytes"):
        th.image_thumbnail(png, max_bytes=10)


def test_not_an_image_truncated_or_too_large_is_a_thumbnail_error() -> None:
    with pytest.raises(th.ThumbnailError, match="not a readable image"):
        th.image_thumbnail(b"<html>expired</html>")
    with pytest.raises(th.ThumbnailError, match="not a readable image"):
        th.image_thumbnail(_png()[:3000])
    buffer = io.BytesIO()
    Image.new("L", (9000, 8000)).save(buffer, "PNG", compress_level=1)  # 72 MP of black: small file, huge image
    with pytest.raises(th.ThumbnailError, match="9000×8000"):
        th.image_thumbnail(buffer.getvalue())


def test_video_poster_is_a_frame_from_inside_the_video_with_its_duration(video: Path) -> None:
    poster = th.video_poster(video)
    assert poster.duration == pytest.approx(33 / 16, abs=1 / 16)
    assert (poster.width, poster.height) == (832, 480)
    assert poster.thumbnail is not None
    assert (poster.thumbnail.width, poster.thumbnail.height) == _decode(poster.thumbnail).size == (256, 148)
    assert poster.thumbnail.size <= th.DEFAULT_MAX_BYTES
    # from bytes too, and the same frame
    from_bytes = th.video_poster(video.read_bytes())
    assert from_bytes.duration == poster.duration
    assert from_bytes.thumbnail == poster.thumbnail
    # not the first frame (the video zooms in, so frames differ): a third of the way in
    import av

    with av.open(str(video)) as container:
        first = next(container.decode(video=0)).to_image()
    first_thumb = th.thumbnail_of(first)
    assert first_thumb != poster.thumbnail
    assert poster.to_dict()["poster"] == poster.thumbnail.to_dict()


def test_mp4_duration_reads_the_header_without_pyav(video: Path) -> None:
    assert th.mp4_duration(video) == pytest.approx(33 / 16, abs=1 / 16)
    assert th.mp4_duration(video.read_bytes()) == th.mp4_duration(video)
    assert th.mp4_duration(b"") is None
    assert th.mp4_duration(_png()) is None
    assert th.mp4_duration(b"\x00\x00\x00\x10moov\x00\x00\x00\x08mvhd") is None  # truncated mvhd


def test_without_pyav_a_video_keeps_its_duration_and_has_no_poster(video: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # what `import av` sees when PyAV is not installed
    assert th.video_support() is False
    poster = th.video_poster(video)
    assert poster.thumbnail is None
    assert poster.duration == pytest.approx(33 / 16, abs=1 / 16)
    assert poster.to_dict()["poster"] is None


def test_a_picture_is_not_a_video() -> None:
    with pytest.raises(th.ThumbnailError, match="not a readable video|no video stream"):
        th.video_poster(_png())
