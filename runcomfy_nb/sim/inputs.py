"""Media inputs as the real server gets them: http(s) URLs it fetches, data: URIs, or hosted example names."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .media import EXAMPLE_NAME, MediaError, MediaInput

if TYPE_CHECKING:
    import httpx

#: Largest media the simulator fetches (the seeds' guidance: images ≤ 50 MB, videos ≤ 100 MB).
SIZE_LIMITS = {"image": 50 * 1024 * 1024, "video": 100 * 1024 * 1024, "audio": 50 * 1024 * 1024}
FETCH_TIMEOUT = 30.0


def readable_url(url: str, limit: int = 120) -> str:
    """The URL without query or fragment (they may hold presigned secrets), clipped for messages."""
    try:
        parts = urlsplit(url)
        shown = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}"
        if parts.query:
            shown += "?…"
    except ValueError:
        shown = url
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Fetcher:
    """Two httpx clients: one honouring proxy settings for the world, one direct for loopback URLs."""

    def __init__(self) -> None:
        self._clients: dict[bool, httpx.AsyncClient] = {}

    def _client(self, loopback: bool) -> httpx.AsyncClient:
        import httpx

        client = self._clients.get(loopback)
        if client is None:
            client = httpx.AsyncClient(follow_redirects=True, timeout=FETCH_TIMEOUT, trust_env=not loopback,
                                       headers={"User-Agent": "runcomfy-nb-simulator"})
            self._clients[loopback] = client
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def fetch(self, field: str, kind: str, url: str) -> MediaInput:
        import httpx

        shown = readable_url(url)
        limit = SIZE_LIMITS.get(kind, SIZE_LIMITS["image"])
        try:
            async with self._client(_is_loopback(url)).stream("GET", url) as response:
                if response.status_code != 200:
                    raise MediaError(f"{field}: could not fetch {shown}: HTTP {response.status_code}", field=field)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise MediaError(f"{field}: {shown} is larger than {limit // (1024 * 1024)} MB", field=field)
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise MediaError(f"{field}: could not fetch {shown} ({type(exc).__name__}: {exc or 'no detail'})",
                             field=field) from exc
        return MediaInput(field, kind, shown, data=b"".join(chunks))


def decode_data_uri(field: str, kind: str, uri: str) -> MediaInput:
    header, sep, payload = uri.partition(",")
    if not sep:
        raise MediaError(f"{field}: malformed data: URI (no comma)", field=field)
    params = header[5:].split(";")
    mime = params[0] or "text/plain"
    try:
        if "base64" in params[1:]:
            data = base64.b64decode("".join(payload.split()), validate=True)
        else:
            data = unquote(payload).encode("latin-1", errors="replace")
    except (binascii.Error, ValueError) as exc:
        raise MediaError(f"{field}: the data: URI is not valid base64 ({exc})", field=field) from exc
    limit = SIZE_LIMITS.get(kind, SIZE_LIMITS["image"])
    if len(data) > limit:
        raise MediaError(f"{field}: the data: URI holds more than {limit // (1024 * 1024)} MB", field=field)
    return MediaInput(field, kind, f"a data: URI ({mime}, {len(data)} bytes)", data=data)


async def resolve_media(fetcher: Fetcher, field: str, kind: str, value: Any) -> MediaInput:
    """One media input, ready for rendering; MediaError (a readable reason) when it cannot be used."""
    if isinstance(value, list):  # *_uris inputs: the first one drives the picture
        if not value:
            raise MediaError(f"{field}: the list is empty", field=field)
        value = value[0]
    if isinstance(value, str) and not value.strip() and kind == "image":
        # The seeds' own curl examples send "" here; the simulator stands in a labelled placeholder picture
        # so that they run end to end (the real service would most likely fail such a job).
        return MediaInput(field, kind, "an empty value (placeholder picture)", example=f"placeholder for {field}")
    if not isinstance(value, str) or not value.strip():
        raise MediaError(f"{field}: empty — give a public http(s) URL or a data: URI", field=field)
    text = value.strip()
    low = text[:8].lower()
    if low.startswith("data:"):
        return decode_data_uri(field, kind, text)
    if low.startswith(("http://", "https://")):
        return await fetcher.fetch(field, kind, text)
    if kind == "image" and EXAMPLE_NAME.match(text):
        return MediaInput(field, kind, f"example {text!r}", example=text)
    shown = text if len(text) <= 60 else text[:59] + "…"
    raise MediaError(f"{field}: {shown!r} is not a URL the server can fetch — use a public http(s) URL "
                     f"or a data: URI", field=field)
