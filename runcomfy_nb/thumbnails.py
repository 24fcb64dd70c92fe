"""Small embedded previews of results: the part of a saved notebook that outlives the kernel and the result URLs.

`image_thumbnail(data)` turns image bytes into a few-KB WebP (JPEG where Pillow lacks WebP) `data:` URI, long side
256 px by default;
`video_poster(source)` does the same for a frame of an MP4 and reads its duration. Pillow makes the pictures;
PyAV (the optional `video` extra) decodes video frames. Without PyAV a video still gets its duration (read from
the MP4 header by `mp4_duration`) and `VideoPoster.thumbnail` is None, so callers show a labelled placeholder.

Everything here is synchronous and CPU-bound: run it in a worker thread, never on the event loop.
"""

from __future__ import annotations

import base64
import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

DEFAULT_LONG_SIDE = 256
# Budget per thumbnail. Each result is embedded twice (static copy and widget state): 21 results × 2 × 4 KB (5.5 KB
# as base64) = 229 KB at worst; with the ~155 KB the rest of such a notebook needs, that keeps 20 images + a video
# under the 400 KB target. A 256 px WebP of a generated picture needs 3-3.6 KB at q72 (docs/lasting-results.md).
DEFAULT_MAX_BYTES = 4 * 1024
MAX_SOURCE_PIXELS = 64_000_000  # generated images are ≤ 8192×8192; refuse decompression bombs early
_QUALITIES = (72, 60, 48, 36)
_MIN_LONG_SIDE = 96
# How far into a video the poster frame is taken: the first frame is often a fade-in, a third in is typical.
_POSTER_AT = 1 / 3
_MAX_POSTER_SECONDS = 2.0
_STILL_FORMATS = {"image2", "gif", "webp", "apng"}


class ThumbnailError(Exception):
    """The bytes could not be made into a preview (not an image or video, truncated, too large, …)."""


@dataclass(frozen=True)
class Thumbnail:
    """An embedded preview: a `data:` URI of a small WebP or JPEG picture and its pixel size."""

    data_uri: str
    width: int
    height: int

    @property
    def mime(self) -> str:
        """The picture's media type, from the data: URI."""
        return self.data_uri[5:].partition(";")[0]

    @property
    def size(self) -> int:
        """Bytes of the encoded picture (not of the base64 text)."""
        return len(base64.b64decode(self.data_uri.partition(",")[2]))

    def to_dict(self) -> dict[str, Any]:
        """The JSON the widgets and the static copy use: {"src", "width", "height"}."""
        return {"src": self.data_uri, "width": self.width, "height": self.height}


@dataclass(frozen=True)
class VideoPoster:
    """What a saved notebook shows for a video: a poster frame (None without PyAV) and the duration in seconds."""

    thumbnail: Thumbnail | None
    duration: float | None
    width: int | None = None
    height: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """{"poster": Thumbnail.to_dict() | None, "duration": seconds | None}."""
        return {"poster": self.thumbnail.to_dict() if self.thumbnail else None, "duration": self.duration,
                "width": self.width, "height": self.height}


def video_support() -> bool:
    """True when PyAV is importable, so videos get a poster frame (`pip install 'runcomfy_nb[video]'`)."""
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


# --- images -------------------------------------------------------------------------------------------------


def default_format() -> str:
    """"WEBP" (about a third smaller than JPEG at the same quality; every current browser shows it) when this
    Pillow can write it, else "JPEG"."""
    from PIL import features

    return "WEBP" if features.check("webp") else "JPEG"


def _flatten(img: Any) -> Any:
    """RGB on white: JPEG has no alpha, WebP's costs bytes, and transparency on a dark theme reads as broken."""
    from PIL import Image

    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")


def _check_limits(long_side: int, max_bytes: int) -> None:
    if long_side < 1 or max_bytes < 256:
        raise ValueError(f"long_side must be ≥ 1 and max_bytes ≥ 256; got {long_side}, {max_bytes}")


def thumbnail_of(img: Any, *, long_side: int = DEFAULT_LONG_SIDE, max_bytes: int = DEFAULT_MAX_BYTES,
                 fmt: str | None = None) -> Thumbnail:
    """A thumbnail of a PIL image within `max_bytes`: lower quality first, then a smaller size.

    `fmt` is "WEBP" or "JPEG" (default: `default_format()`).
    """
    from PIL import Image

    _check_limits(long_side, max_bytes)
    fmt = (fmt or default_format()).upper()
    if fmt not in ("WEBP", "JPEG"):
        raise ValueError(f"fmt must be 'WEBP' or 'JPEG'; got {fmt!r}")
    options = {"method": 4} if fmt == "WEBP" else {"optimize": True}
    img = _flatten(img)
    side = long_side
    while True:
        small = img.copy()
        small.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=3.0)
        for quality in _QUALITIES:
            buffer = io.BytesIO()
            small.save(buffer, fmt, quality=quality, **options)
            encoded = buffer.getvalue()
            if len(encoded) <= max_bytes:
                uri = f"data:image/{fmt.lower()};base64," + base64.b64encode(encoded).decode("ascii")
                return Thumbnail(uri, small.width, small.height)
        if side <= _MIN_LONG_SIDE:  # a tiny picture at low quality still too big: only noise does that
            raise ThumbnailError(f"cannot fit a thumbnail in {max_bytes} bytes (smallest try: {len(encoded)} bytes)")
        side = max(_MIN_LONG_SIDE, int(side * 0.75))


def image_thumbnail(data: bytes, *, long_side: int = DEFAULT_LONG_SIDE,
                    max_bytes: int = DEFAULT_MAX_BYTES, fmt: str | None = None) -> Thumbnail:
    """A small WebP/JPEG `data:` URI of the image in `data` (PNG, JPEG, WebP, GIF: anything Pillow opens).

    EXIF rotation is applied, transparency flattened on white, the long side scaled down to `long_side` (never
    up), and the quality lowered until the JPEG fits `max_bytes`. Raises ThumbnailError for bytes that are not
    a picture or that decode to more than 64 megapixels.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    _check_limits(long_side, max_bytes)
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_SOURCE_PIXELS:
                raise ThumbnailError(f"image too large for a thumbnail: {opened.width}×{opened.height} pixels")
            # JPEG sources decode at 1/2, 1/4, 1/8 scale straight away: much faster for big photos.
            opened.draft("RGB", (long_side * 2, long_side * 2))
            opened.load()
            img = ImageOps.exif_transpose(opened) or opened
            return thumbnail_of(img, long_side=long_side, max_bytes=max_bytes, fmt=fmt)
    except ThumbnailError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ThumbnailError(f"not a readable image ({type(exc).__name__}: {exc})") from exc


# --- video --------------------------------------------------------------------------------------------------


def _read_box_header(stream: BinaryIO, end: int) -> tuple[str, int, int] | None:
    """(type, payload start, box end) of the next ISO-BMFF box before `end`, or None."""
    start = stream.tell()
    if start + 8 > end:
        return None
    head = stream.read(8)
    if len(head) < 8:
        return None
    size, kind = struct.unpack(">I4s", head)
    header = 8
    if size == 1:  # 64-bit size follows
        more = stream.read(8)
        if len(more) < 8:
            return None
        size = struct.unpack(">Q", more)[0]
        header = 16
    elif size == 0:  # to the end of the file
        size = end - start
    if size < header or start + size > end:
        return None
    return kind.decode("latin-1"), start + header, start + size


def mp4_duration(source: bytes | str | os.PathLike[str]) -> float | None:
    """The duration in seconds from an MP4/MOV `moov/mvhd` header, or None when there is none.

    Pure Python (no PyAV): reads box headers only, so it is cheap even for a large file on disk.
    """
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes | bytearray) else open(source, "rb")  # noqa: SIM115
    try:
        stream.seek(0, io.SEEK_END)
        end = stream.tell()
        stream.seek(0)
        limit = end
        while True:
            box = _read_box_header(stream, limit)
            if box is None:
                return None
            kind, payload, box_end = box
            if kind == "moov":
                limit = box_end  # descend
                continue
            if kind == "mvhd":
                version = stream.read(1)
                if not version:
                    return None
                body = stream.read(31 if version[0] == 1 else 19)
                if version[0] == 1:  # flags(3) created(8) modified(8) timescale(4) duration(8)
                    timescale, duration = struct.unpack(">IQ", body[19:31]) if len(body) == 31 else (0, 0)
                else:  # flags(3) created(4) modified(4) timescale(4) duration(4)
                    timescale, duration = struct.unpack(">II", body[11:19]) if len(body) == 19 else (0, 0)
                if not timescale or duration in (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
                    return None
                return duration / timescale
            stream.seek(box_end)
    finally:
        stream.close()


def video_poster(source: bytes | str | os.PathLike[str], *, long_side: int = DEFAULT_LONG_SIDE,
                 max_bytes: int = DEFAULT_MAX_BYTES, fmt: str | None = None) -> VideoPoster:
    """A poster frame (a third of the way in, at most 2 s) and the duration of a video given as bytes or a path.

    Needs PyAV for the frame; without it, or when no frame decodes, `thumbnail` is None and the duration still
    comes from the MP4 header. Raises ThumbnailError when the data is not a video PyAV can open.
    """
    _check_limits(long_side, max_bytes)
    duration = mp4_duration(source)
    if not video_support():
        return VideoPoster(None, duration)
    import av

    opened = io.BytesIO(source) if isinstance(source, bytes | bytearray) else str(Path(source))
    try:
        with av.open(opened, "r") as container:
            # FFmpeg opens a PNG or JPEG as a one-frame "video" (png_pipe, image2): that is not a video
            if not container.streams.video or container.format.name in _STILL_FORMATS or \
                    container.format.name.endswith("_pipe"):
                raise ThumbnailError(f"the file has no video stream (format {container.format.name})")
            stream = container.streams.video[0]
            if duration is None and container.duration:
                duration = container.duration / av.time_base
            if duration is None and stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            target = min(_MAX_POSTER_SECONDS, (duration or 0.0) * _POSTER_AT)
            frame = _frame_at(container, stream, target)
            if frame is None:
                return VideoPoster(None, duration, stream.codec_context.width, stream.codec_context.height)
            thumb = thumbnail_of(frame.to_image(), long_side=long_side, max_bytes=max_bytes, fmt=fmt)
            return VideoPoster(thumb, duration, frame.width, frame.height)
    except ThumbnailError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise ThumbnailError(f"not a readable video ({type(exc).__name__}: {exc})") from exc


def _frame_at(container: Any, stream: Any, seconds: float) -> Any:
    """The first decoded frame at or after `seconds` (or the last frame when the video is shorter)."""
    if seconds > 0 and stream.time_base:
        try:
            container.seek(int(seconds / stream.time_base), stream=stream, backward=True, any_frame=False)
        except Exception:  # not seekable (a truncated file): decode from the start instead
            container.seek(0)
    last = None
    for frame in container.decode(stream):
        last = frame
        if frame.time is None or frame.time >= seconds:
            return frame
    return last
