"""The part of a static copy that shows a result without its URL: embedded thumbnail, link to the local copy.

`output_html(output)` takes an output's dict (`Output.to_dict()` merged with `SavedOutput.to_dict()`: url, kind,
name, and when known local, thumb, duration) and returns HTML that shows the result in a saved notebook, in
`nbconvert --to html` opened from disk, and after the URL expired:
- image: the thumbnail (else the URL) as `<img>`, linked to the local copy (else the URL);
- video: the poster frame with a "▶ 5.1 s" caption, linked to the local copy (else the URL); no poster (no
  PyAV) → a labelled box with the same link;
- anything else: a link.
Every string is escaped; only http(s) URLs, data: URIs of images, and relative paths inside the notebook's
folder are used as src/href (a path with a scheme, `..`, or an absolute path is shown as text).
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote, urlsplit

_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/=]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BOX = "display:inline-block;margin:2px;vertical-align:top;text-align:center;font:12px sans-serif;color:#57606a"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def web_url(url: Any) -> str | None:
    """`url` if it is an absolute http(s) URL without control characters, else None."""
    if not isinstance(url, str) or _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def image_src(src: Any) -> str | None:
    """A base64 `data:` URI of a PNG/JPEG/WebP/GIF picture (what thumbnails are), else None."""
    return src if isinstance(src, str) and _DATA_IMAGE.match(src) else None


def local_href(path: Any) -> str | None:
    """A relative POSIX path inside the notebook's folder, percent-encoded for href; None for anything else."""
    if not isinstance(path, str) or not path or _CONTROL.search(path) or "\\" in path:
        return None
    if path.startswith("/") or ":" in path.split("/", 1)[0] or ".." in path.split("/"):
        return None
    return quote(path, safe="/")


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def _video_label(output: dict[str, Any]) -> str:
    duration = _duration(output.get("duration"))
    return f"▶ video · {duration}" if duration else "▶ video"


def output_html(output: dict[str, Any], *, max_height: int = 256) -> str:
    """HTML for one result that does not depend on its (expiring) URL; see the module docstring."""
    kind = output.get("kind", "file")
    name = str(output.get("name") or output.get("local") or "result")
    url = web_url(output.get("url"))
    local = local_href(output.get("local"))
    href = local or url
    thumb = output.get("thumb") or output.get("poster") or {}
    src = image_src(thumb.get("src")) if isinstance(thumb, dict) else None
    if kind == "image" and not src:
        src = url
    size = ""
    if src and isinstance(thumb, dict) and isinstance(thumb.get("width"), int) and isinstance(thumb.get("height"), int):
        size = f' width="{thumb["width"]}" height="{thumb["height"]}"'
    title = f"{name} (local copy)" if local else name
    if kind in ("image", "video") and src:
        img = (f'<img src="{_esc(src)}"{size} alt="{_esc(name)}" title="{_esc(title)}" loading="lazy" '
               f'style="max-height:{max_height}px;max-width:100%;height:auto;width:auto;border-radius:4px">')
        body = f'<a href="{_esc(href)}" target="_blank" rel="noopener">{img}</a>' if href else img
        caption = f"<div>{_esc(_video_label(output))}</div>" if kind == "video" else ""
        return f'<div class="rcnb-lasting" data-kind="{_esc(kind)}" style="{_BOX}">{body}{caption}</div>'
    if kind == "video":
        inner = _esc(_video_label(output)) + (f'<br><a href="{_esc(href)}" target="_blank" rel="noopener">{_esc(name)}</a>'
                               if href else f"<br><code>{_esc(name)}</code>")
        return (f'<div class="rcnb-lasting" data-kind="video" style="{_BOX};border:1px dashed #8c959f;'
                f'padding:24px 12px;min-width:160px">{inner}</div>')
    link = f'<a href="{_esc(href)}" target="_blank" rel="noopener">{_esc(name)}</a>' if href else \
        f"<code>{_esc(name)}</code>"
    return f'<div class="rcnb-lasting" data-kind="{_esc(kind)}" style="{_BOX}">{link}</div>'
