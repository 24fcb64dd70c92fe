"""Media inputs: what may be sent, and local files / bytes / PIL images turned into data: URIs.

Allowed as-is: https URLs, http URLs on loopback (the simulator), data: URIs of the field's media type within
the caps RunComfy's own ComfyUI nodes use, and the schema's own default (a hosted example asset).
Anything else (file:, javascript:, a missing path, an oversized file) is refused before anything is sent.
"""

from __future__ import annotations

import base64
import binascii
import io
import mimetypes
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from ._urls import CONTROL_CHARS, is_loopback_host
from .errors import MediaInputError, brief

MiB = 1024 * 1024
CAPS = {"image": 6 * MiB, "video": 32 * MiB, "audio": 16 * MiB}
REQUEST_CAP = 64 * MiB
_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"),
    (b"\x1aE\xdf\xa3", "video/webm"), (b"ID3", "audio/mpeg"), (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
]


_HTML_START = re.compile(rb"^\s*<(?:!doctype\s+html|html|head|body|script|iframe|svg|\?xml)\b", re.I)


def sniff_mime(data: bytes) -> str | None:
    """The media type the bytes' magic number says, or None."""
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data[:4] == b"RIFF":
        return {b"WAVE": "audio/wav", b"WEBP": "image/webp", b"AVI ": "video/x-msvideo"}.get(data[8:12])
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    return None


def _fail(key: str, rule: str, value: Any, why: str) -> MediaInputError:
    text = brief(value, 120)
    shown = value[:60] if isinstance(value, str | bytes) else value  # the error keeps no megabytes
    return MediaInputError(f"{key}: {rule} — {why}; got {text}", field=key, rule=rule, value=shown)


def _data_uri(key: str, kind: str, data: bytes, mime: str | None) -> str:
    mime = mime or sniff_mime(data) or "application/octet-stream"
    if _HTML_START.match(data[:4096]) and mime != "image/svg+xml":  # e.g. a web page saved as cat.png
        mime = "text/html"
    if not mime.startswith(kind + "/"):
        raise _fail(key, "media_type", f"<{len(data)} bytes of {mime}>", f"must be {kind} data")
    if len(data) > CAPS[kind]:
        raise _fail(key, "max_size", f"<{len(data)} bytes>",
                    f"is {len(data) / MiB:.1f} MiB; inline {kind} is capped at {CAPS[kind] // MiB} MiB — "
                    "host it and pass an https URL instead")
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")



def _check_data_uri(key: str, kind: str, value: str) -> str:
    head, comma, payload = value.partition(",")
    if not comma:
        raise _fail(key, "media_type", value, "is not a data: URI (no comma before the data)")
    mime = head[5:].split(";")[0].strip().lower()
    if not mime.startswith(kind + "/"):
        raise _fail(key, "media_type", value, f"must be a data: URI of {kind}/* type")
    is_base64 = ";base64" in head.lower()
    if not payload:
        raise _fail(key, "required_media", value, "is a data: URI without data")
    size = len(payload) * 3 // 4 if is_base64 else len(payload)
    if size > CAPS[kind]:
        raise _fail(key, "max_size", value, f"is {size / MiB:.1f} MiB; inline {kind} is capped at {CAPS[kind] // MiB} MiB")
    if is_base64:
        try:
            start = base64.b64decode(payload[:4096] + "=" * (-len(payload[:4096]) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise _fail(key, "media_type", value, "is not valid base64") from None
    else:
        start = unquote_to_bytes(payload[:4096])
    # The label must not lie: bytes that are recognisably another kind (or an HTML page) are refused.
    sniffed = sniff_mime(start) or ("text/html" if _HTML_START.match(start) and mime != "image/svg+xml" else None)
    shared = kind == "audio" and sniffed in ("video/mp4", "video/webm")  # m4a and webm audio share containers
    if sniffed and not sniffed.startswith(kind + "/") and not shared:
        raise _fail(key, "media_type", value, f"says {mime} but holds {sniffed} data")
    return value


def _url_problem(value: str) -> tuple[str, str] | None:
    """(rule, why) if a string that looks like an http(s) URL cannot be sent as one."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 — raises ValueError on a malformed port
    except ValueError as error:
        return "url_syntax", f"is not a well-formed URL ({error})"
    if not parts.hostname:
        return "url_syntax", "has no host name"
    if any(ch.isspace() for ch in value) or "\\" in value:
        return "url_syntax", "contains spaces or backslashes (percent-encode them)"
    return None


def to_media_value(key: str, kind: str, value: Any, default: Any = None) -> Any:
    """The value to send for one media input, or MediaInputError."""
    if kind not in CAPS:
        kind = "image"
    if hasattr(value, "save") and hasattr(value, "mode") and hasattr(value, "size"):  # a PIL image
        buffer = io.BytesIO()
        try:
            value.save(buffer, format="PNG")
        except Exception as error:
            raise _fail(key, "media_type", f"<{type(value).__name__}>", f"could not be encoded as PNG ({error})") from None
        return _data_uri(key, kind, buffer.getvalue(), "image/png")
    if isinstance(value, bytes | bytearray | memoryview):
        return _data_uri(key, kind, bytes(value), None)
    if isinstance(value, os.PathLike):
        try:
            path = Path(value)
        except TypeError:
            raise _fail(key, "not_found", repr(value), "is not a usable path") from None
        return _from_path(key, kind, path)
    if not isinstance(value, str):
        raise _fail(key, "media_type", value, "must be an https URL, a data: URI, a local path, bytes or a PIL image")
    if default is not None and value == default:
        return value  # the schema's own example asset, hosted by RunComfy
    if CONTROL_CHARS.search(value):
        raise _fail(key, "url_syntax", value, "contains control characters")
    scheme = _scheme(value)
    if scheme in ("https", "http"):
        problem = _url_problem(value)
        if problem:
            raise _fail(key, problem[0], value, problem[1])
        parts = urlsplit(value)
        if scheme == "https":
            return value
        # Plain http only to this machine (the simulator); no user@ or other tricks that parsers read differently.
        if is_loopback_host(parts.hostname) and "@" not in parts.netloc:
            return value
        raise _fail(key, "https_only", value, "must be an https URL (plain http is allowed only on loopback)")
    if scheme == "data":
        return _check_data_uri(key, kind, value)
    if scheme and len(scheme) > 1:  # file:, javascript:, ftp: … (a one-letter scheme is a Windows drive)
        raise _fail(key, "url_scheme", value, f"the {scheme}: scheme is not allowed; use https, data: or a local path")
    if not value.strip():
        raise _fail(key, "required_media", value, "is empty; give an https URL, a data: URI or a local file path")
    try:
        path = Path(value).expanduser()
        found = path.is_file()
    except (OSError, ValueError, RuntimeError):  # name too long, ~unknownuser, …
        found = False
    if found:
        return _from_path(key, kind, path)
    raise _fail(key, "not_found", value, "is neither a URL nor an existing file")


def _scheme(value: str) -> str:
    """The URL scheme as a browser or server would read it (leading spaces/controls and tabs/newlines ignored)."""
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", value.strip().replace("\t", "").replace("\n", "").replace("\r", ""))
    return match.group(1).lower() if match else ""


def _from_path(key: str, kind: str, path: Path) -> str:
    try:
        found = path.is_file()
        size = path.stat().st_size if found else 0
    except (OSError, ValueError):
        found, size = False, 0
    if not found:
        raise _fail(key, "not_found", str(path), "no such file")
    if size > CAPS[kind]:
        raise _fail(key, "max_size", str(path), f"is {size / MiB:.1f} MiB; inline {kind} is capped at "
                    f"{CAPS[kind] // MiB} MiB — host it and pass an https URL instead")
    try:
        with path.open("rb") as handle:  # never more than the cap, even if the file grew meanwhile
            data = handle.read(CAPS[kind] + 1)
    except OSError as error:
        raise _fail(key, "not_found", str(path), f"cannot be read ({type(error).__name__})") from None
    mime = sniff_mime(data) or mimetypes.guess_type(path.name)[0]
    return _data_uri(key, kind, data, mime)


def prepare_media(fields: dict[str, str], inputs: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """A copy of inputs with every media field turned into something sendable; raises MediaInputError."""
    if not isinstance(inputs, dict):
        raise MediaInputError(f"inputs: type — must be a JSON object; got a {type(inputs).__name__}",
                              field=None, rule="type", value=inputs)
    out = dict(inputs)
    total = 0
    for key, kind in fields.items():
        if key not in out or out[key] is None:
            continue
        value = out[key]
        if isinstance(value, list | tuple):
            out[key] = [to_media_value(key, kind, v) for v in value]
            total += sum(len(v) for v in out[key])
        else:
            out[key] = to_media_value(key, kind, value, defaults.get(key))
            total += len(out[key]) if isinstance(out[key], str) else 0
    if total > REQUEST_CAP:
        raise MediaInputError(f"inputs: max_request_size — inline media add up to {total / MiB:.1f} MiB; a request "
                              f"is capped at {REQUEST_CAP // MiB} MiB", field=None, rule="max_request_size", value=total)
    return out
