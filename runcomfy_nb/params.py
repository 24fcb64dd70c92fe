"""The inputs that made a result, carried by the result file itself.

A PNG gets an `iTXt` chunk with keyword `runcomfy_nb` holding JSON (as AUTOMATIC1111 writes its parameters into
a PNG text chunk, and ComfyUI its workflow); any other file gets a sidecar `<file name>.json` with the same JSON.
`load_params(path)` reads either back. The JSON is:

    {"format": "runcomfy_nb.params/1", "model_id": "...", "request_id": "...", "inputs": {...},
     "inline_media": {"image_url": {"mime": "image/png", "bytes": 123456, "sha256": "..."}}, "saved_by": "..."}

Inline media (`data:` URIs, up to megabytes each) is never copied into the metadata: the field is left out of
`inputs` and described in `inline_media` (a `data:` URI inside a list or dict is replaced by a short
`<inline image/png, 120 KiB, sha256 …>` text and described under its path, e.g. `images[1]`).
The chunk is inserted into the PNG's bytes without re-encoding the picture: the pixels stay byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from .errors import RunComfyError, brief
from .naming import sidecar_name

FORMAT = "runcomfy_nb.params/1"
PNG_KEYWORD = "runcomfy_nb"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_METADATA = 4 * 1024 * 1024  # inputs JSON, compressed or not: real inputs are a few KB
_COMPRESS_FROM = 1024
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


class ParamsError(RunComfyError, ValueError):
    """A file's saved inputs could not be read (none there, not ours, malformed) or written."""


@dataclass
class SavedParams:
    """What `load_params` returns: the model and inputs that made a result file.

    `inputs` can be passed straight to `submit` or a form; fields whose value was inline media are not in it
    but listed in `inline_media` (their media type, size and digest), to be chosen again.
    """

    model_id: str
    inputs: dict[str, Any]
    request_id: str | None = None
    inline_media: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = ""  # the file it was read from
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


# --- building the record ----------------------------------------------------------------------------------


def describe_inline(uri: str) -> dict[str, Any]:
    """{"mime", "bytes", "sha256"} of a `data:` URI: enough to recognise the media, nothing of its content."""
    head, _, payload = uri.partition(",")
    mime = head[5:].split(";")[0] or "text/plain"
    if ";base64" in head.lower():
        payload = "".join(payload.split())  # browsers accept line-wrapped base64
    try:
        data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True) if ";base64" in head.lower() \
            else unquote_to_bytes(payload)
    except (binascii.Error, ValueError):  # e.g. the journal's digest of a big input: the bytes are not there
        return {"mime": mime, "bytes": None, "sha256": None}
    return {"mime": mime, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _short(description: dict[str, Any]) -> str:
    if description["bytes"] is None:
        return f"<inline {description['mime']}>"
    return f"<inline {description['mime']}, {max(1, round(description['bytes'] / 1024))} KiB, " \
           f"sha256 {description['sha256'][:12]}>"


def _scrub(value: Any, path: str, found: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, str) and value[:5].lower() == "data:":
        found[path] = describe_inline(value)
        return _short(found[path])
    if isinstance(value, dict):
        return {k: _scrub(v, f"{path}.{k}", found) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)[:300]  # not JSON (a PIL image passed by mistake): a readable trace, never bytes


def params_record(model_id: str, inputs: dict[str, Any], *, request_id: str | None = None) -> dict[str, Any]:
    """The JSON saved with a result: model id, request id and the inputs minus inline media (see the module doc)."""
    from ._version import __version__

    found: dict[str, dict[str, Any]] = {}
    kept: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, str) and value[:5].lower() == "data:":
            found[str(key)] = describe_inline(value)  # left out: a form asks for it again
        else:
            kept[str(key)] = _scrub(value, str(key), found)
    record: dict[str, Any] = {"format": FORMAT, "model_id": model_id, "request_id": request_id, "inputs": kept}
    if found:
        record["inline_media"] = found
    record["saved_by"] = f"runcomfy_nb {__version__}"
    return record


# --- PNG chunks ---------------------------------------------------------------------------------------------


def _chunks(png: bytes) -> list[tuple[bytes, bytes, int, int]]:
    """[(type, data, start, end)] of every chunk up to IEND; ParamsError when the PNG structure is broken."""
    if not png.startswith(PNG_SIGNATURE):
        raise ParamsError("not a PNG file (wrong signature)")
    out = []
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        end = pos + 12 + length
        if end > len(png):
            raise ParamsError(f"truncated PNG: chunk {kind!r} at byte {pos} runs past the end")
        out.append((kind, png[pos + 8:pos + 8 + length], pos, end))
        pos = end
        if kind == b"IEND":
            return out
    raise ParamsError("truncated PNG: no IEND chunk")


def _itxt(keyword: str, text: str) -> bytes:
    raw = text.encode("utf-8")
    compressed = len(raw) >= _COMPRESS_FROM
    body = keyword.encode("latin-1") + b"\x00" + (b"\x01\x00" if compressed else b"\x00\x00") + b"\x00\x00" + \
        (zlib.compress(raw, 9) if compressed else raw)
    return struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))


def _keyword(data: bytes) -> bytes:
    return data.split(b"\x00", 1)[0]


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_METADATA + 1)
    if len(out) > MAX_METADATA or inflater.unconsumed_tail:
        raise ParamsError(f"the {PNG_KEYWORD} text chunk inflates to more than {MAX_METADATA} bytes")
    return out


def _itxt_text(data: bytes) -> str:
    keyword, _, rest = data.partition(b"\x00")
    if len(rest) < 2:
        raise ParamsError(f"malformed iTXt chunk {keyword!r}")
    flag, method, rest = rest[0], rest[1], rest[2:]
    _language, _, rest = rest.partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    if flag:
        if method != 0:
            raise ParamsError(f"iTXt chunk {keyword!r} uses unknown compression method {method}")
        try:
            text = _inflate(text)
        except zlib.error as exc:
            raise ParamsError(f"iTXt chunk {keyword!r} is not valid zlib data ({exc})") from None
    return text.decode("utf-8", "replace")


def png_with_params(png: bytes, record: dict[str, Any]) -> bytes:
    """The PNG with its `runcomfy_nb` text chunk set to `record` (any older one replaced), pixels untouched.

    The chunk goes before the first IDAT, where Pillow's `Image.open(...).info` and other tools look first.
    """
    chunks = _chunks(png)
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    new = _itxt(PNG_KEYWORD, text)
    out = [PNG_SIGNATURE]
    inserted = False
    for kind, data, start, end in chunks:
        if kind in _TEXT_CHUNKS and _keyword(data) == PNG_KEYWORD.encode():
            continue
        if kind in (b"IDAT", b"IEND") and not inserted:
            out.append(new)
            inserted = True
        out.append(png[start:end])
    return b"".join(out)


def params_from_png(png: bytes) -> dict[str, Any] | None:
    """The record in a PNG's `runcomfy_nb` chunk, or None when it has none."""
    for kind, data, _start, _end in _chunks(png):
        if kind == b"iTXt" and _keyword(data) == PNG_KEYWORD.encode():
            return _parse(_itxt_text(data), "the PNG's runcomfy_nb chunk")
    return None


# --- files ----------------------------------------------------------------------------------------------------


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParamsError(f"{where} is not JSON ({exc})") from None
    fmt = record.get("format") if isinstance(record, dict) else f"<a JSON {type(record).__name__}>"
    if not isinstance(fmt, str) or not fmt.startswith("runcomfy_nb.params/"):
        raise ParamsError(f"{where} is not runcomfy_nb parameters (format: {brief(fmt)})")
    if not isinstance(record.get("model_id"), str) or not isinstance(record.get("inputs"), dict):
        raise ParamsError(f"{where}: model_id must be text and inputs an object; got "
                          f"{brief(record.get('model_id'))}, {brief(type(record.get('inputs')).__name__)}")
    return record


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file (a crash leaves the old file), and not at all when the
    same bytes are already there (saving a job twice is a no-op)."""
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_params(path: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """Attach `record` to the saved file at `path`: inside it for a PNG, else in `<name>.json` beside it.

    Returns the file that now carries the record. The PNG is replaced atomically (a crash leaves the old file).
    """
    target = Path(path)
    with open(target, "rb") as handle:
        is_png = handle.read(8) == PNG_SIGNATURE
    if is_png:
        write_atomic(target, png_with_params(target.read_bytes(), record))
        return target
    return write_sidecar(target, record)


def write_sidecar(path: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """Write `record` to `<name>.json` beside `path` (for any file, a PNG too) and return the sidecar's path."""
    target = Path(path)
    sidecar = target.with_name(sidecar_name(target.name))
    write_atomic(sidecar, json.dumps(record, ensure_ascii=False, indent=1, allow_nan=False).encode("utf-8"))
    return sidecar


def params_from_bytes(data: bytes, name: str = "the file") -> dict[str, Any]:
    """The record in a PNG's bytes or in a sidecar JSON's bytes (a file dropped on a form arrives like this)."""
    if data.startswith(PNG_SIGNATURE):
        record = params_from_png(data)
        if record is None:
            raise ParamsError(f"{name} is a PNG without runcomfy_nb parameters (no {PNG_KEYWORD} text chunk)")
        return record
    if len(data) > MAX_METADATA:
        raise ParamsError(f"{name} is neither a PNG nor a parameters JSON file ({len(data)} bytes)")
    return _parse(data.decode("utf-8", "replace"), name)


def _saved(record: dict[str, Any], source: Path) -> SavedParams:
    inline = record.get("inline_media")
    request_id = record.get("request_id")
    return SavedParams(model_id=record["model_id"], inputs=dict(record["inputs"]),
                       request_id=request_id if isinstance(request_id, str) else None,
                       inline_media=dict(inline) if isinstance(inline, dict) else {}, source=str(source), raw=record)


def load_params(path: str | os.PathLike[str]) -> SavedParams:
    """The model id and inputs that made a saved result: from a PNG's text chunk, or from its sidecar JSON.

    `path` may be the result file (PNG, MP4, …) or the sidecar itself. Raises ParamsError saying what was
    looked for when neither holds parameters.
    """
    target = Path(path)
    if not target.is_file():
        raise ParamsError(f"load_params: no such file: {brief(str(target), 200)}")
    with open(target, "rb") as handle:
        head = handle.read(8)
    png_problem: ParamsError | None = None
    if head == PNG_SIGNATURE:
        try:
            record = params_from_png(target.read_bytes())
        except ParamsError as exc:  # a broken PNG may still have a sidecar (saved as it came)
            record, png_problem = None, exc
        if record is not None:
            return _saved(record, target)
    elif target.suffix.lower() == ".json":
        if target.stat().st_size > MAX_METADATA:
            raise ParamsError(f"{target.name} is too large for a parameters file ({target.stat().st_size} bytes)")
        return _saved(_parse(target.read_text("utf-8", "replace"), target.name), target)
    sidecar = target.with_name(sidecar_name(target.name))
    if sidecar.is_file():
        if sidecar.stat().st_size > MAX_METADATA:
            raise ParamsError(f"{sidecar.name} is too large for a parameters file ({sidecar.stat().st_size} bytes)")
        return _saved(_parse(sidecar.read_text("utf-8", "replace"), sidecar.name), sidecar)
    if png_problem is not None:
        raise ParamsError(f"load_params: {target.name}: {png_problem} (and no {sidecar.name})") from None
    where = f"a {PNG_KEYWORD} text chunk or " if head == PNG_SIGNATURE else ""
    raise ParamsError(f"load_params: {target.name} has no saved parameters (looked for {where}{sidecar.name})")
