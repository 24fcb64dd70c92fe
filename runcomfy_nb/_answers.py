"""What a server says, made safe before anything reads it: bodies decoded within a size cap (a gzip bomb stops
at the cap), the token scrubbed from every string where the answer enters, and the answer's error made readable.

The token itself reaches a request only through `BearerAuth` (never a plain dict or local that a verbose
traceback would print); docs/threat-model.md lists what each of these guards against.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import AsyncIterator, Generator
from typing import Any

import httpx

from .config import Secret
from .errors import (
    APIError,
    AuthError,
    InsufficientBalanceError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ServerValidationError,
    brief,
)

MIN_SCRUBBED = 8  # a shorter "token" (tests use "t") would mangle every answer; no real token is that short
_INFLATE_STEP = 1024 * 1024  # at most this much inflated per step, whatever one compressed chunk holds


class BearerAuth(httpx.Auth):
    """Adds the token to a request: the token stays inside its Secret and httpx's Headers (whose repr hides
    Authorization), never in a plain dict or local that a verbose traceback would print."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "BearerAuth('***')"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Set the Authorization header (httpx calls this for each request sent with this auth)."""
        request.headers["Authorization"] = "Bearer " + self._token.reveal()
        yield request


class BadBody(Exception):
    """An answer body that is too large (decoded), corrupt or in an encoding we did not ask for."""


async def decoded_body(response: httpx.Response, limit: int) -> AsyncIterator[bytes]:
    """The body of a streamed response, decoded (gzip/deflate), in chunks; BadBody past `limit` bytes.

    Decoding is ours, with zlib's max_length, so a gzip bomb never inflates more than `limit` + 1 bytes
    (httpx's own decoder inflates a whole network chunk at once: 64 KiB can become 64 MiB)."""
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        decoder = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
    else:
        raise BadBody(f"an unsupported Content-Encoding {encoding[:40]!r}")
    total = 0
    async for chunk in response.aiter_raw():
        pending = chunk
        while pending:
            if decoder is None:
                data, pending = pending, b""
            else:
                try:
                    data = decoder.decompress(pending, min(limit + 1 - total, _INFLATE_STEP))
                except zlib.error:
                    raise BadBody("a corrupt compressed body") from None
                pending = decoder.unconsumed_tail
            total += len(data)
            if total > limit:
                raise BadBody(f"a body larger than {limit} bytes (decoded)")
            if data:
                yield data
    if decoder is not None:
        rest = decoder.flush()
        if total + len(rest) > limit:
            raise BadBody(f"a body larger than {limit} bytes (decoded)")
        if rest:
            yield rest


def scrub(text: str, token: str) -> str:
    """`text` with the token replaced by ***: the API must not echo it into a message."""
    return text.replace(token, "***") if len(token) >= MIN_SCRUBBED else text


def scrub_tree(value: Any, token: str) -> Any:
    """Every string in parsed JSON (keys too) with the token replaced by ***; in place, iterative (deep JSON)."""
    if isinstance(value, str):
        return scrub(value, token)
    if len(token) < MIN_SCRUBBED:
        return value
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in list(item):
                child = item[key]
                if isinstance(child, str):
                    item[key] = scrub(child, token)
                elif isinstance(child, dict | list):
                    stack.append(child)
                if isinstance(key, str) and token in key:
                    item[scrub(key, token)] = item.pop(key)
        elif isinstance(item, list):
            for index, child in enumerate(item):
                if isinstance(child, str):
                    item[index] = scrub(child, token)
                elif isinstance(child, dict | list):
                    stack.append(child)
    return value


MALFORMED = object()  # parse_scrubbed's answer for a body that is not JSON


def parse_scrubbed(raw: bytes, token: str) -> tuple[Any, str]:
    """(parsed JSON or MALFORMED, text), both with the token scrubbed: the unscrubbed body lives only here."""
    text = raw.decode("utf-8", errors="replace")
    try:
        body = scrub_tree(json.loads(text), token) if text.strip() else {}
    except (json.JSONDecodeError, RecursionError):
        body = MALFORMED
    return body, scrub(text, token)


def utc(moment: float) -> str:
    """An epoch time as HH:MM:SS UTC (the window of an uncertain submit)."""
    return time.strftime("%H:%M:%S", time.gmtime(moment))


def error_text(value: Any, *, with_code: bool = True) -> str:
    """An API error made readable; "" when there is none.

    Takes an error body (`error_message`/`message`/`error` and a `detail` string or list of {loc, msg}), a job's
    `error` field (a string, an object, or a list of {errorCode, error, debugInfo}), or anything else (clipped).
    `with_code=False` leaves out the error code (an HTTP error names it already).
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(error_text(item, with_code=with_code) for item in value)
    if not isinstance(value, dict):
        return brief(value, 300)
    text = str(value.get("error_message") or value.get("message") or value.get("error") or "")
    detail = value.get("detail")
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                raw_loc = item.get("loc")
                loc = ".".join(str(x) for x in raw_loc if x != "body") if isinstance(raw_loc, list) else ""
                parts.append(f"{loc}: {item.get('msg', item)}" if loc else str(item.get("msg", item)))
            else:
                parts.append(str(item))
        text = (text + "; " if text else "") + "; ".join(parts)
    elif detail:
        text = (text + "; " if text else "") + str(detail)
    code = (value.get("errorCode") or value.get("error_code") or value.get("code")) if with_code else None
    line = f"[{code}] {text}" if code else text
    debug = value.get("debugInfo")
    if debug:
        line += f"\n    {debug}"
    return line or brief(value, 300)


def api_error(method: str, path: str, status: int, body: Any, request_id: str | None) -> APIError:
    """The typed error for an API answer that is an error (`body` parsed and scrubbed already, or its text)."""
    code = body.get("error_code") if isinstance(body, dict) else None
    text = error_text(body, with_code=False)
    where = f"{method} {path} → HTTP {status}" + (f", error_code {code}" if code else "")
    kwargs = {"status_code": status, "error_code": code if isinstance(code, int) else None,
              "request_id": request_id, "body": body}
    if code == 400004 or status == 401:
        return AuthError(f"Authentication failed ({where}): {text}. Check RUNCOMFY_API_TOKEN.", **kwargs)
    if code == 403001 or status == 403:
        return AuthError(f"Forbidden ({where}): {text}", **kwargs)
    if code == 400002 or status == 402:
        return InsufficientBalanceError(f"Insufficient balance ({where}): {text}", **kwargs)
    if code in (400001, 404001) or status == 404:
        return NotFoundError(f"Not found ({where}): {text}", **kwargs)
    if code == 422001 or status == 422:
        return ServerValidationError(f"The API refused the inputs ({where}): {text}", **kwargs)
    if status == 429:
        return RateLimitedError(f"Rate limited ({where}): {text}", **kwargs)
    if status >= 500 or (isinstance(code, int) and code >= 500000):
        return ServerError(f"Server error ({where}): {text}", **kwargs)
    return APIError(f"API error ({where}): {text}", **kwargs)
