"""Media inputs: what may be sent, and local files / bytes / PIL images turned into data: URIs.

Allowed as-is: https URLs, http URLs on loopback (the simulator), data: URIs of the field's media type within
the caps RunComfy's own ComfyUI nodes use, and the schema's own default (a hosted example asset).
Anything else (file:, javascript:, a missing path, an oversized file) is refused before anything is sent.
"""

from __future__ import annotations

import base64
import binascii
import io
import ipaddress
import mimetypes
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import MediaInputError

MiB = 1024 * 1024
CAPS = {"image": 6 * MiB, "video": 32 * MiB, "audio": 16 * MiB}
REQUEST_CAP = 64 * MiB
_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"),
    (b"RIFF", "image/webp"), (b"\x1aE\xdf\xa3", "video/webm"), (b"ID3", "audio/mpeg"), (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
]


def sniff_mime(data: bytes) -> str | None:
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    return None


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _fail(key: str, rule: str, value: Any, why: str) -> MediaInputError:
    shown = value if not isinstance(value, str | bytes) else (value[:60] + (b"..." if isinstance(value, bytes) else "…")
                                                             if len(value) > 60 else value)
    return MediaInputError(f"{key}: {rule} — {why}; got {shown!r}", field=key, rule=rule, value=shown)


def _data_uri(key: str, kind: str, data: bytes, mime: str | None) -> str:
    mime = mime or sniff_mime(data) or "application/octet-stream"
    if not mime.startswith(kind + "/"):
        raise _fail(key, "media_type", f"<{len(data)} bytes of {mime}>", f"must be {kind} data")
    if len(data) > CAPS[kind]:
        raise _fail(key, "max_size", f"<{len(data)} bytes>",
                    f"is {len(data) / MiB:.1f} MiB; inline {kind} is capped at {CAPS[kind] // MiB} MiB — "
                    "host it and pass an https URL instead")
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _check_data_uri(key: str, kind: str, value: str) -> str:
    head, _, payload = value.partition(",")
    mime = head[5:].split(";")[0].lower()
    if not mime.startswith(kind + "/"):
        raise _fail(key, "media_type", value, f"must be a data: URI of {kind}/* type")
    size = len(payload) * 3 // 4 if ";base64" in head else len(payload)
    if ";base64" in head:
        try:
            base64.b64decode(payload[:4096] + "=" * (-len(payload[:4096]) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise _fail(key, "media_type", value, "is not valid base64") from None
    if size > CAPS[kind]:
        raise _fail(key, "max_size", value, f"is {size / MiB:.1f} MiB; inline {kind} is capped at {CAPS[kind] // MiB} MiB")
    return value


def to_media_value(key: str, kind: str, value: Any, default: Any = None) -> Any:
    """The value to send for one media input, or MediaInputError."""
    if kind not in CAPS:
        kind = "image"
    if hasattr(value, "save") and hasattr(value, "mode") and hasattr(value, "size"):  # a PIL image
        buffer = io.BytesIO()
        value.save(buffer, format="PNG")
        return _data_uri(key, kind, buffer.getvalue(), "image/png")
    if isinstance(value, bytes | bytearray | memoryview):
        return _data_uri(key, kind, bytes(value), None)
    if isinstance(value, os.PathLike):
        return _from_path(key, kind, Path(value))
    if not isinstance(value, str):
        raise _fail(key, "media_type", value, "must be an https URL, a data: URI, a local path, bytes or a PIL image")
    if default is not None and value == default:
        return value  # the schema's own example asset, hosted by RunComfy
    scheme = urlsplit(value).scheme.lower()
    if scheme == "https":
        return value
    if scheme == "http":
        if is_loopback_host(urlsplit(value).hostname):
            return value
        raise _fail(key, "https_only", value, "must be an https URL (plain http is allowed only on loopback)")
    if scheme == "data":
        return _check_data_uri(key, kind, value)
    if scheme and len(scheme) > 1:  # file:, javascript:, ftp: … (a one-letter scheme is a Windows drive)
        raise _fail(key, "url_scheme", value, f"the {scheme}: scheme is not allowed; use https, data: or a local path")
    if not value.strip():
        raise _fail(key, "required_media", value, "is empty; give an https URL, a data: URI or a local file path")
    path = Path(value).expanduser()
    if path.is_file():
        return _from_path(key, kind, path)
    raise _fail(key, "not_found", value, "is neither a URL nor an existing file")


def _from_path(key: str, kind: str, path: Path) -> str:
    if not path.is_file():
        raise _fail(key, "not_found", str(path), "no such file")
    size = path.stat().st_size
    if size > CAPS[kind]:
        raise _fail(key, "max_size", str(path), f"is {size / MiB:.1f} MiB; inline {kind} is capped at "
                    f"{CAPS[kind] // MiB} MiB — host it and pass an https URL instead")
    data = path.read_bytes()
    mime = sniff_mime(data) or mimetypes.guess_type(path.name)[0]
    return _data_uri(key, kind, data, mime)


def prepare_media(fields: dict[str, str], inputs: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """A copy of inputs with every media field turned into something sendable; raises MediaInputError."""
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
