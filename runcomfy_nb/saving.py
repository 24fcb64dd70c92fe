"""Keeping what was paid for: one result file written to disk with a telling name, its inputs and a thumbnail.

`save_output(data, folder, ...)` is what the runner calls (in a worker thread) when a job completes:
the file gets its name from `naming`, carries its inputs (`params`: PNG text chunk or sidecar JSON) and yields a
thumbnail (`thumbnails`) for the static copy, the widget state and the journal. `default_output_dir()` says where
results go by default: `runcomfy_outputs/` beside the notebook in any IPython, nowhere in a plain script.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from . import _hooks, naming, params, thumbnails

OUTPUT_DIR_NAME = "runcomfy_outputs"
_OFF = {"0", "off", "false", "no", "none"}
_IMAGE_EXT = {"png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff", "avif"}
_VIDEO_EXT = {"mp4", "webm", "mov", "m4v", "mkv"}


@dataclass(frozen=True)
class SavedOutput:
    """A result on disk: the file, the file holding its inputs (the same file for a PNG), its preview."""

    path: Path
    params_path: Path
    kind: str  # "image" | "video" | "file"
    thumbnail: thumbnails.Thumbnail | None = None  # video: the poster frame
    duration: float | None = None  # video only
    preview_error: str = ""  # why there is no thumbnail, when there is none for an image or video

    def to_dict(self, relative_to: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """{"local", "thumb", "duration"} for widgets and the static copy; `local` is a POSIX path relative to
        `relative_to` (the notebook's folder) when the file is inside it, so a link opens it from disk."""
        local = self.path
        if relative_to is not None:
            with contextlib.suppress(ValueError):  # outside the notebook's folder: the absolute path
                local = self.path.resolve().relative_to(Path(relative_to).resolve())
        out: dict[str, Any] = {"local": PurePosixPath(*local.parts).as_posix() if not local.is_absolute()
                               else local.as_posix()}
        if self.thumbnail is not None:
            out["thumb"] = self.thumbnail.to_dict()
        if self.duration is not None:
            out["duration"] = self.duration
        return out


def default_output_dir(shell: Any = "auto", env: Mapping[str, str] | None = None) -> Path | None:
    """Where results are saved when nobody said: `RUNCOMFY_NB_AUTOSAVE` (a folder, or off/0/false/no), else
    `runcomfy_outputs/` beside the notebook inside IPython, else None (a plain script saves nothing uninvited).

    The notebook's folder is VS Code's `__vsc_ipynb_file__`, Jupyter Server's `JPY_SESSION_NAME` when it is an
    absolute path to a file, else the kernel's working directory (which Jupyter and VS Code set to it).
    """
    env = os.environ if env is None else env
    configured = env.get("RUNCOMFY_NB_AUTOSAVE", "").strip()
    if configured:
        return None if configured.lower() in _OFF else Path(configured).expanduser()
    if shell == "auto":
        shell = _hooks.current_shell()  # IPython's shell, attached from above (the core does not import IPython)
    if shell is None:
        return None
    user_ns = getattr(shell, "user_ns", {}) or {}
    for candidate in (user_ns.get("__vsc_ipynb_file__"), env.get("JPY_SESSION_NAME")):
        if isinstance(candidate, str) and os.path.isabs(candidate) and os.path.isfile(candidate):
            return Path(candidate).parent / OUTPUT_DIR_NAME
    return Path.cwd() / OUTPUT_DIR_NAME


def autosave_folder(configured: str | os.PathLike[str] | None) -> Path | None:
    """Where a completed job's outputs go: the configured folder (`rc.settings.autosave_dir`); "off" (or 0,
    false, no, none) saves nothing; unset: `default_output_dir()` (beside the notebook; nothing in a script)."""
    if configured is None or str(configured).strip() == "":
        return default_output_dir()
    return None if str(configured).strip().lower() in _OFF else Path(configured)


def kind_of(ext: str, mime: str | None = None) -> str:
    """"image", "video" or "file", from the extension, else the media type."""
    ext = ext.lower().lstrip(".")
    if ext in _IMAGE_EXT or (mime or "").startswith("image/"):
        return "image"
    if ext in _VIDEO_EXT or (mime or "").startswith("video/"):
        return "video"
    return "file"


def save_output(data: bytes | Path, folder: str | os.PathLike[str], *, model_id: str, inputs: dict[str, Any],
                request_id: str, index: int, ext: str, mime: str | None = None,
                preview: bool = True) -> SavedOutput:
    """Write one result into `folder` (made if needed) and return where it went and its preview.

    `data` is the bytes, or a file already downloaded (moved into place, so a large video is never read whole;
    a picture is read to add its inputs and make its thumbnail).
    PNGs carry their inputs inside (the pixels untouched); other files get `<name>.json`. A preview that cannot be
    made (not decodable, PyAV missing for a poster) never fails the save: `thumbnail` is None and
    `preview_error` says why. CPU-bound: call it from a worker thread.
    """
    target_dir = Path(folder)
    target_dir.mkdir(parents=True, exist_ok=True)
    name = naming.name_for(model_id, inputs, request_id, index, ext)
    path = target_dir / name
    kind = kind_of(ext, mime)
    record = params.params_record(model_id, inputs, request_id=request_id)
    params_path = path
    source = data if isinstance(data, Path) else None
    if source is not None and kind != "image":  # a video or other file: moved, never read whole
        os.replace(source, path)
        params_path = params.write_sidecar(path, record)
        data = b""
    else:
        data = source.read_bytes() if source is not None else data
        assert isinstance(data, bytes)
        try:
            params.write_atomic(path, params.png_with_params(data, record))
        except params.ParamsError:  # not a PNG (or a broken one): keep the bytes as they came, inputs beside them
            params.write_atomic(path, data)
            params_path = params.write_sidecar(path, record)
        if source is not None:
            source.unlink(missing_ok=True)
    thumb, duration, error = None, None, ""
    if preview and kind == "image":
        try:
            thumb = thumbnails.image_thumbnail(data)
        except thumbnails.ThumbnailError as exc:
            error = str(exc)
    elif preview and kind == "video":
        try:
            poster = thumbnails.video_poster(path)
            thumb, duration = poster.thumbnail, poster.duration
            if thumb is None and not thumbnails.video_support():
                error = "no poster frame: PyAV is not installed (pip install 'runcomfy_nb[video]')"
        except thumbnails.ThumbnailError as exc:
            duration = thumbnails.mp4_duration(path)
            error = str(exc)
    return SavedOutput(path=path, params_path=params_path, kind=kind, thumbnail=thumb, duration=duration,
                       preview_error=error)
