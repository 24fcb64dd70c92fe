"""`Output`: one result file of a job (an image or a video URL), readable, savable and displayable."""

from __future__ import annotations

import asyncio
import hashlib
import html
import io
import mimetypes
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, unquote, urlsplit

from ._urls import CONTROL_CHARS
from .config import settings
from .errors import OutputExpiredError, ServerError

if TYPE_CHECKING:
    from ._http import Transport

_IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"}
_VIDEO_EXT = {".mp4", ".webm", ".mov", ".mkv", ".m4v"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

_DATA_MEDIA = re.compile(r"data:(?:image|video)/[a-z0-9][a-z0-9.+-]*[;,]", re.I)
# The only extensions a saved output may get: a hostile URL must not plant an .html, .desktop or .bat file.
_SAVE_EXT = {*(e.lstrip(".") for e in _IMAGE_EXT | _VIDEO_EXT), "tif", "tiff", "avif", "heic", "svg", "avi",
             "mp3", "wav", "flac", "ogg", "oga", "m4a", "aac", "opus", "weba", "bin"}


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # e.g. "http://[::1" (a bracket that never closes)
        return None


def is_safe_url(url: str) -> bool:
    """Only absolute http(s) URLs are ever used as src/href (and data: URIs of image/video types).

    The same rule as `safeUrl()` in js/shared.js: no control characters, a host for http(s), a media type
    for data:. Anything else is shown as text.
    """
    if not isinstance(url, str):
        return False
    text = url.strip(" ")  # what a browser trims (with C0 controls, which are refused outright)
    if not text or CONTROL_CHARS.search(text):
        return False
    if text[:5].lower() == "data:":
        return bool(_DATA_MEDIA.match(text))
    parts = _split(text)
    return parts is not None and parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _url_path(url: str) -> str:
    parts = _split(url)
    return parts.path if parts is not None else url


def _kind_of(key: str, url: str) -> tuple[str, str]:
    ext = PurePosixPath(_url_path(url)).suffix.lower()
    mime = mimetypes.guess_type("x" + ext)[0] if ext else None
    if url.startswith("data:"):
        mime = url[5:].split(";")[0].split(",")[0] or None
    if key.startswith("video") or ext in _VIDEO_EXT or (mime or "").startswith("video/"):
        return "video", mime or "video/mp4"
    if key.startswith("image") or ext in _IMAGE_EXT or (mime or "").startswith("image/"):
        return "image", mime or "image/png"
    return "file", mime or "application/octet-stream"


def safe_file_name(url: str, index: int, request_id: str, mime: str) -> str:
    """A file name that cannot leave its folder: no separators, no dot-dot, no hidden files, bounded length.

    Only [A-Za-z0-9._-], always starting with the (sanitised) request_id or "output", at most ~120 characters,
    with a media extension (from the URL when it is one, else from the mime type, else .bin).
    """
    raw = unquote(PurePosixPath(_url_path(url)).name) if not url.startswith("data:") else ""
    stem, dot, ext = raw.rpartition(".")
    if not dot:
        stem, ext = raw, ""
    stem = _SAFE_NAME.sub("_", stem).strip("._-")[:80].strip("._-")
    ext = _SAFE_NAME.sub("", ext)[:8].lower()
    if ext not in _SAVE_EXT:
        guessed = (mimetypes.guess_extension(str(mime or "").split(";")[0].strip()) or "").lstrip(".").lower()
        ext = guessed if guessed in _SAVE_EXT else "bin"
    request_id = str(request_id)
    prefix = _SAFE_NAME.sub("_", request_id)[:16].strip("._-") or "output"
    if prefix != request_id and request_id:
        # Cut or changed: ids sharing 16 characters (they may have 128) must not share files.
        prefix += "-" + hashlib.sha256(request_id.encode()).hexdigest()[:12]
    return f"{prefix}_{index}{'_' + stem if stem else ''}.{ext}"


def parse_outputs(output: Any, request_id: str, transport: Transport | None = None,
                  skipped: list[str] | None = None) -> list[Output]:
    """Every URL of a result's `output`, in order: singles first (image, video), then lists; other keys last.

    Understood shapes: a dict of URL strings or lists of them, an object with a `url` (or `uri`) string, a bare
    URL string, a list of any of these. Whatever else is found is described in `skipped` (if given)."""
    bare = isinstance(output, dict) and isinstance(output.get("url") or output.get("uri"), str)
    if bare or isinstance(output, str | list):
        output = {"output": output}
    if not isinstance(output, dict):
        if output is not None and skipped is not None:
            skipped.append(f"output of type {type(output).__name__}")
        return []
    keys = [k for k in ("image", "video", "images", "videos") if k in output]
    keys += [k for k in output if k not in keys]
    urls: list[tuple[str, str]] = []
    for key in keys:
        value = output[key]
        for item in value if isinstance(value, list) else [value]:
            url = item
            if isinstance(item, dict):  # {"url": ..., "content_type": ...} and the like
                url = item.get("url") or item.get("uri")
            if isinstance(url, str) and url.strip():
                if url not in (u for _, u in urls):
                    urls.append((str(key), url))
            elif skipped is not None and item is not None:
                skipped.append(f"{str(key)[:40]}: {type(item).__name__}")
    outputs = []
    for index, (key, url) in enumerate(urls):
        kind, mime = _kind_of(key, url)
        outputs.append(Output(url=url, kind=kind, mime=mime, name=safe_file_name(url, index, request_id, mime),
                              request_id=request_id, _transport=transport))
    return outputs


def output_from_dict(item: dict[str, Any], request_id: str, transport: Transport | None = None) -> Output:
    """An Output from its `to_dict()` form (the journal's record of a finished job)."""
    saved = item.get("saved_path")
    thumb = item.get("thumb")
    duration = item.get("duration")
    return Output(url=item["url"], kind=item.get("kind") or "file", mime=item.get("mime") or "application/octet-stream",
                  name=item.get("name") or "output", request_id=request_id,
                  saved_path=Path(saved) if saved else None, _transport=transport,
                  local=item.get("local") if isinstance(item.get("local"), str) else None,
                  thumb=thumb if isinstance(thumb, dict) else None,
                  duration=float(duration) if isinstance(duration, int | float) and not isinstance(duration, bool)
                  else None)


@dataclass
class Output:
    """One result file of a job: its URL, kind ("image" | "video" | "file") and, once saved, its local copy."""

    url: str
    kind: str  # "image" | "video" | "file"
    mime: str
    name: str
    request_id: str = ""
    saved_path: Path | None = None
    _transport: Transport | None = field(default=None, repr=False, compare=False)  # how to download it
    # What outlives the URL (set when the output is saved, see saving.SavedOutput.to_dict): the local copy's path
    # relative to the notebook's folder, a small embedded thumbnail {"src": data URI, "width", "height"} (a
    # video's poster frame) and a video's duration in seconds.
    local: str | None = None
    thumb: dict[str, Any] | None = field(default=None, repr=False)
    duration: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: what the journal and the widgets keep (with the thumbnail, so history shows pictures after
        the URL expired and after a restart)."""
        lasting = {"local": self.local, "thumb": self.thumb, "duration": self.duration}
        return {"url": self.url, "kind": self.kind, "mime": self.mime, "name": self.name,
                **({"saved_path": str(self.saved_path)} if self.saved_path else {}),
                **{k: v for k, v in lasting.items() if v is not None}}

    def read(self) -> bytes:
        """The file's bytes: the local copy when one was saved (offline, and after the URL expired), else the URL."""
        if self.url.startswith("data:"):
            import base64
            import binascii
            from urllib.parse import unquote_to_bytes

            head, _, payload = self.url.partition(",")
            try:
                if ";base64" in head.lower():
                    return base64.b64decode(payload + "=" * (-len(payload) % 4))
                return unquote_to_bytes(payload)
            except (binascii.Error, ValueError):
                raise ServerError(f"The output {self.name} is a malformed data: URI",
                                  request_id=self.request_id) from None
        if self.saved_path and self.saved_path.is_file():
            return self.saved_path.read_bytes()
        from ._loop import run_sync

        buffer = bytearray()

        async def collect(data: bytes) -> None:
            buffer.extend(data)

        # Bounded: settings.max_read_bytes in memory (save() streams to disk instead), download_deadline.
        run_sync(self._download(collect, settings.max_read_bytes))
        return bytes(buffer)

    async def _download(self, write: Any, limit: int) -> None:
        """Stream the URL into `write`; the typed errors (expired, failed) naming this output and its job."""
        from ._http import plain_transport

        try:
            status = await (self._transport or plain_transport()).stream_output(self.url, write, limit=limit)
        except ServerError as error:  # retries ran out, too large, too slow: say which job's output it was
            raise ServerError(str(error), request_id=self.request_id) from None
        if status in (403, 404, 410):
            raise OutputExpiredError(
                f"The output {self.name} is no longer available (HTTP {status} from its URL): RunComfy "
                "keeps results for a limited time. Turn on auto-save (rc.settings.autosave_dir) to keep a local "
                "copy of every output as soon as a job completes.", request_id=self.request_id)
        if not 200 <= status < 300:
            raise ServerError(f"Downloading {self.name} failed: HTTP {status}", request_id=self.request_id)

    async def download_to(self, path: Path) -> None:
        """Stream the output into `path` (via `path.part`, renamed when complete): never whole in memory, at most
        settings.max_download_bytes, within settings.download_deadline. Runs on the background loop."""
        loop = asyncio.get_running_loop()
        part = path.with_name(path.name + ".part")
        handle = await loop.run_in_executor(None, part.open, "wb")
        try:
            async def write(data: bytes) -> None:
                await loop.run_in_executor(None, handle.write, data)

            if self.url.startswith("data:"):
                await write(self.read())
            elif self.saved_path and self.saved_path.is_file():
                with self.saved_path.open("rb") as source:
                    await loop.run_in_executor(None, shutil.copyfileobj, source, handle)
            else:
                await self._download(write, settings.max_download_bytes)
            await loop.run_in_executor(None, handle.close)
            await loop.run_in_executor(None, os.replace, part, path)
        except BaseException:
            handle.close()
            part.unlink(missing_ok=True)
            raise

    def save(self, folder: str | Path = "runcomfy_outputs", name: str | None = None) -> Path:
        """Write the file into `folder` (created if needed) under a safe name; returns the path."""
        target_dir = Path(folder).expanduser().resolve()
        target_dir.mkdir(parents=True, exist_ok=True)
        file_name = safe_file_name("x/" + name, 0, "", self.mime).split("_", 2)[-1] if name else self.name
        path = (target_dir / file_name).resolve()
        if path.parent != target_dir:  # belt and braces: the name is already sanitised
            raise ValueError(f"refusing to write outside {target_dir}: {file_name!r}")
        from ._loop import run_sync

        run_sync(self.download_to(path))
        self.saved_path = path
        return path

    def to_pil(self) -> Any:
        """The image as a PIL.Image (needs Pillow)."""
        from PIL import Image

        if self.saved_path and self.saved_path.is_file():
            image = Image.open(self.saved_path)
            image.load()
            return image
        image = Image.open(io.BytesIO(self.read()))
        image.load()
        return image

    def html(self, width: str = "100%", max_height: str | None = None) -> str:
        """Inert markup for the output: <img>, <video> or a link; an unsafe URL is shown as text."""
        if not is_safe_url(self.url):
            return f"<code>{html.escape(self.url)}</code>"
        src = html.escape(self.url, quote=True)
        height = f";max-height:{max_height}" if max_height else ""
        if self.kind == "image":
            return f'<a href="{src}" target="_blank" rel="noopener"><img src="{src}" alt="{html.escape(self.name)}" style="max-width:{width}{height}"></a>'
        if self.kind == "video":
            return f'<video src="{src}" controls preload="metadata" style="max-width:{width}"></video>'
        return f'<a href="{src}" target="_blank" rel="noopener">{html.escape(self.name)}</a>'

    def _repr_html_(self) -> str:
        return self.html()
