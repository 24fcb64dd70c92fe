"""The HTTP protocol of the RunComfy Model API (PROTOCOL.md): submit, status, result, cancel, catalog.

Async, used only from the background loop thread. Tolerant where the facts are unsettled; strict about
never sending a submit twice: the POST is retried only when it provably never reached the server
(connection not established) or when the server explicitly refused it with 429.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from . import __version__
from .config import Endpoint, Secret, settings
from .errors import (
    APIError,
    AuthError,
    InsufficientBalanceError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ServerValidationError,
    SubmitUncertainError,
)

log = logging.getLogger("runcomfy_nb")

T = TypeVar("T")
USER_AGENT = f"runcomfy_nb/{__version__} (+python httpx/{httpx.__version__})"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_CONNECTIONS = 64
# /status vocabulary, /result vocabulary and the spellings seen elsewhere, mapped to one set of job states.
_STATES = {
    "in_queue": "in_queue", "queued": "in_queue", "pending": "in_queue",
    "in_progress": "in_progress", "running": "in_progress", "processing": "in_progress",
    "completed": "completed", "succeeded": "completed", "success": "completed",
    "failed": "failed", "error": "failed",
    "cancelled": "cancelled", "canceled": "cancelled",
}
NOT_READY_CODE = 400005


def normalise_status(raw: Any) -> str:
    """One job state for any spelling; unknown values come back lower-cased as they are."""
    text = str(raw or "").strip().lower()
    return _STATES.get(text, text)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring Retry-After (capped)."""

    attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


@dataclass
class Counters:
    """What this client did on the wire (for the fault suite's figures)."""

    requests: int = 0
    retries: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    def retried(self, reason: str) -> None:
        self.retries += 1
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1


class _BearerAuth(httpx.Auth):
    """Adds the token to a request: the token stays inside its Secret and httpx's Headers (whose repr hides
    Authorization), never in a plain dict or local that a verbose traceback would print."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "_BearerAuth('***')"

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = "Bearer " + self._token.reveal()
        yield request


class _InDoubt:
    """For a submit: whether the request may have reached a server (headers started going out on the wire)
    and no answer since proved it refused. httpcore's trace events say when the request starts being written."""

    def __init__(self) -> None:
        self.value = False
        self.started = time.time()

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_headers.started"):
            self.value = True


_INFLATE_STEP = 1024 * 1024  # at most this much inflated per step, whatever one compressed chunk holds


class _BadBody(Exception):
    """An answer body that is too large (decoded), corrupt or in an encoding we did not ask for."""


async def decoded_body(response: httpx.Response, limit: int) -> AsyncIterator[bytes]:
    """The body of a streamed response, decoded (gzip/deflate), in chunks; _BadBody past `limit` bytes.

    Decoding is ours, with zlib's max_length, so a gzip bomb never inflates more than `limit` + 1 bytes
    (httpx's own decoder inflates a whole network chunk at once: 64 KiB can become 64 MiB)."""
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        decoder = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
    else:
        raise _BadBody(f"an unsupported Content-Encoding {encoding[:40]!r}")
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
                    raise _BadBody("a corrupt compressed body") from None
                pending = decoder.unconsumed_tail
            total += len(data)
            if total > limit:
                raise _BadBody(f"a body larger than {limit} bytes (decoded)")
            if data:
                yield data
    if decoder is not None:
        rest = decoder.flush()
        if total + len(rest) > limit:
            raise _BadBody(f"a body larger than {limit} bytes (decoded)")
        if rest:
            yield rest


def scrub_tree(value: Any, token: str) -> Any:
    """Every string in parsed JSON (keys too) with the token replaced by ***; in place, iterative (deep JSON)."""
    if isinstance(value, str):
        return _scrub(value, token)
    if len(token) < MIN_SCRUBBED:
        return value
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in list(item):
                child = item[key]
                if isinstance(child, str):
                    item[key] = _scrub(child, token)
                elif isinstance(child, dict | list):
                    stack.append(child)
                if isinstance(key, str) and token in key:
                    item[_scrub(key, token)] = item.pop(key)
        elif isinstance(item, list):
            for index, child in enumerate(item):
                if isinstance(child, str):
                    item[index] = _scrub(child, token)
                elif isinstance(child, dict | list):
                    stack.append(child)
    return value


_MALFORMED = object()


def _parse_scrubbed(raw: bytes, token: str) -> tuple[Any, str]:
    """(parsed JSON or _MALFORMED, text), both with the token scrubbed: the unscrubbed body lives only here."""
    text = raw.decode("utf-8", errors="replace")
    try:
        body = scrub_tree(json.loads(text), token) if text.strip() else {}
    except (json.JSONDecodeError, RecursionError):
        body = _MALFORMED
    return body, _scrub(text, token)


def _utc(moment: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(moment))


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, error: Exception | None = None) -> None:
        self.reason = reason
        self.retry_after = retry_after
        self.error = error


class ApiClient:
    """One connection pool to one endpoint. Create and use it on one event loop."""

    def __init__(self, endpoint: Endpoint, *, timeout: httpx.Timeout | float | None = None,
                 retry: RetryPolicy | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.endpoint = endpoint
        self.retry = retry or RetryPolicy()
        self.counters = Counters()
        self._timeout = _without_pool_timeout(timeout if timeout is not None else httpx.Timeout(30.0, connect=10.0))
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._auth = _BearerAuth(endpoint.token)

    def __repr__(self) -> str:
        return f"ApiClient({self.endpoint.base_url!r})"

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.endpoint.base_url,
                timeout=self._timeout,
                transport=self._transport,
                limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=32),
                # Only encodings decoded_body() can bound; br/zstd would be decoded by httpx without a cap.
                headers={"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip, deflate"},
                # The documented API never redirects: a 3xx is an error, a POST is never re-sent, and the token
                # never follows a Location anywhere (docs/decisions.md). Downloads opt in per request.
                follow_redirects=False,
            )
        return self._http

    @property
    def slots(self) -> asyncio.Semaphore:
        """At most MAX_CONNECTIONS requests in flight, so that none ever queues inside httpcore's pool.

        httpcore (1.0.9) leaks a pool slot for good when a request leaves its pool queue just as a new
        connection was made for it (a pool timeout racing the hand-over, or a cancellation; encode/httpcore
        #1093): under load every slot leaked and each later request failed with PoolTimeout for ever. Waiting
        here instead, with no pool timeout at all, cannot leak; each request in flight is still bounded by
        its connect/read/write timeouts."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(MAX_CONNECTIONS)
        return self._slots

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- the API ---------------------------------------------------------------------------------------

    async def submit(self, model_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """POST the inputs; returns the answer with request_id and the three URLs (built if missing)."""
        path = "/v1/models/" + _model_path(model_id)
        doubt = _InDoubt()
        try:
            async with asyncio.timeout(settings.submit_deadline):
                body = await self._request("POST", path, json_body=inputs, idempotent=False, doubt=doubt)
        except TimeoutError:
            if doubt.value:
                raise self._uncertain(f"no answer came within submit_deadline ({settings.submit_deadline:g} s)",
                                      doubt) from None
            raise ServerError(f"Could not submit to {self.endpoint.base_url} within submit_deadline "
                              f"({settings.submit_deadline:g} s): no attempt reached the API or each was refused "
                              "(429); no job exists.") from None
        request_id = body.get("request_id") if isinstance(body, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise self._uncertain(f"its answer has no request_id: {_clip(body)}", doubt)
        base = f"{self.endpoint.base_url}/v1/requests/{quote(request_id, safe='')}"
        for name in ("status", "result", "cancel"):
            body.setdefault(f"{name}_url", f"{base}/{name}")
        return body

    async def status(self, request_id: str) -> dict[str, Any]:
        body = await self._request("GET", _request_path(request_id, "status"), request_id=request_id)
        return body if isinstance(body, dict) else {}

    async def result(self, request_id: str, *, include_cost: bool = False) -> dict[str, Any]:
        """The result; an unfinished job answers its current state (or 400005, turned into that here)."""
        params = {"include_cost": "true"} if include_cost else None
        try:
            body = await self._request("GET", _request_path(request_id, "result"), params=params,
                                       request_id=request_id)
        except APIError as error:
            if error.error_code == NOT_READY_CODE:
                return {"request_id": request_id, "status": "in_progress", "not_ready": True}
            raise
        return body if isinstance(body, dict) else {}

    async def cancel(self, request_id: str) -> str:
        """'cancelled' or 'not_cancellable' (anything else the API says, lower-cased)."""
        body = await self._request("POST", _request_path(request_id, "cancel"), request_id=request_id)
        outcome = str((body or {}).get("outcome") or (body or {}).get("status") or "").lower()
        return "cancelled" if outcome == "canceled" else outcome

    async def list_models(self, **params: Any) -> dict[str, Any]:
        query = {k: v for k, v in params.items() if v is not None}
        body = await self._request("GET", "/v1/models", params=query)
        return body if isinstance(body, dict) else {"models": []}

    async def get_model(self, model_id: str) -> dict[str, Any]:
        body = await self._request("GET", "/v1/models/" + _model_path(model_id))
        return body if isinstance(body, dict) else {}

    async def download(self, url: str) -> httpx.Response:
        """GET an output URL into memory (at most settings.max_read_bytes): a Response with its status and body."""
        buffer = bytearray()

        async def collect(data: bytes) -> None:
            buffer.extend(data)

        status = await self.stream_output(url, collect, limit=settings.max_read_bytes)
        return httpx.Response(status, content=bytes(buffer))

    async def stream_output(self, url: str, write: Callable[[bytes], Awaitable[None]], *, limit: int) -> int:
        """Stream an output URL (absolute) into `write`, decoded, at most `limit` bytes; returns the HTTP status
        (the body of a non-2xx answer is not read). The token goes only to the API's own origin; redirects
        are followed and httpx drops the Authorization header when one leaves that origin. Bounded by
        settings.download_deadline; retried only while nothing was written."""
        auth = self._auth if url.startswith(self.endpoint.base_url + "/") else None

        async def once() -> int:
            written = False
            try:
                async with self.slots:
                    request = self.http.build_request("GET", url, timeout=httpx.Timeout(120.0, connect=10.0,
                                                                                        pool=None))
                    response = await self.http.send(request, auth=auth, stream=True, follow_redirects=True)
                    try:
                        if response.status_code in RETRY_STATUSES:
                            raise _Retry(str(response.status_code),
                                         retry_after=parse_retry_after(response.headers.get("Retry-After")),
                                         error=ServerError(f"Downloading {url} failed: HTTP {response.status_code}"))
                        if not response.is_success:
                            return response.status_code
                        async for data in decoded_body(response, limit):
                            written = True
                            await write(data)
                        return response.status_code
                    finally:
                        await response.aclose()
            except _BadBody as error:
                raise ServerError(f"Downloading {url} stopped: {error} (settings.max_download_bytes / "
                                  "max_read_bytes bound it)") from None
            except httpx.TransportError as error:
                failure = ServerError(f"Downloading {url} failed: {type(error).__name__}")
                if written:
                    raise failure from None
                raise _Retry(type(error).__name__, error=failure) from None

        try:
            async with asyncio.timeout(settings.download_deadline):
                return await self._with_retries(once)
        except TimeoutError:
            raise ServerError(f"Downloading {url} took longer than download_deadline "
                              f"({settings.download_deadline:g} s); stopped") from None

    # --- one request, with the retry policy ------------------------------------------------------------

    async def _request(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
                       request_id: str | None = None, idempotent: bool = True, doubt: _InDoubt | None = None) -> Any:
        doubt = doubt or _InDoubt()
        return await self._with_retries(
            lambda: self._once(method, path, json_body, params, request_id, idempotent, doubt))

    def _uncertain(self, what: str, doubt: _InDoubt) -> SubmitUncertainError:
        """The submit reached a server and nothing proves it was refused: the job may exist (and be billed)."""
        now = time.time()
        return SubmitUncertainError(
            f"The submit was sent to {self.endpoint.base_url} but {what}. It was NOT sent again (a second submit "
            f"could be billed twice): the job may exist. Sent between {_utc(doubt.started)} and {_utc(now)} UTC "
            "— look for a request from that time in your RunComfy dashboard before submitting again; rc.jobs() "
            "keeps this attempt as 'uncertain'.", window=(doubt.started, now))

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run `attempt` until it returns; each _Retry it raises waits per the policy; the last one's error."""
        last: _Retry | None = None
        for number in range(self.retry.attempts):
            if last is not None:
                self.counters.retried(last.reason)
                await asyncio.sleep(self.retry.delay(number - 1, last.retry_after))
            self.counters.requests += 1
            try:
                return await attempt()
            except _Retry as again:
                last = again
        assert last is not None and last.error is not None
        raise last.error

    async def _once(self, method: str, path: str, json_body: Any, params: dict[str, Any] | None,
                    request_id: str | None, idempotent: bool, doubt: _InDoubt) -> Any:
        token = self.endpoint.token.reveal
        try:
            async with self.slots, asyncio.timeout(settings.request_deadline):
                request = self.http.build_request(method, path, json=json_body, params=params,
                                                  extensions={"trace": doubt.trace} if not idempotent else None)
                response = await self.http.send(request, auth=self._auth, stream=True)
                try:
                    # Every server-provided string is scrubbed of the token here, where it enters, before anything
                    # clips it (and no unscrubbed copy stays in a local for a verbose traceback to print).
                    body, text = _parse_scrubbed(b"".join([data async for data in decoded_body(
                        response, settings.max_response_bytes)]), token())
                finally:
                    await response.aclose()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.LocalProtocolError, httpx.UnsupportedProtocol) \
                as error:
            # Never connected, or refused by our own HTTP layer before writing: nothing reached a server, so even
            # a submit may be sent again (a local refusal would only fail again: no retry).
            failure = ServerError(f"Cannot reach {self.endpoint.base_url}: {type(error).__name__}",
                                  request_id=request_id)
            if isinstance(error, httpx.LocalProtocolError | httpx.UnsupportedProtocol):
                raise failure from None
            raise _Retry(type(error).__name__, error=failure) from None
        except httpx.PoolTimeout:
            # Every pooled connection was busy: the request never left this process (a submit may go again).
            raise _Retry("PoolTimeout", error=ServerError(
                f"{method} {path}: no free connection to {self.endpoint.base_url} in time (PoolTimeout)",
                request_id=request_id)) from None
        except (httpx.TransportError, TimeoutError, _BadBody) as error:
            what = (f"took longer than request_deadline ({settings.request_deadline:g} s)"
                    if isinstance(error, TimeoutError) else
                    f"the answer was refused: {error} (settings.max_response_bytes)" if isinstance(error, _BadBody)
                    else f"the connection failed before an answer ({type(error).__name__})")
            if not idempotent:
                if doubt.value:
                    raise self._uncertain(what, doubt) from None
                raise ServerError(f"Could not send the submit to {self.endpoint.base_url}: {what}; nothing was "
                                  "sent, no job exists.") from None
            failure = ServerError(f"{method} {path}: {what}", request_id=request_id)
            if isinstance(error, _BadBody):
                raise failure from None  # the same server would send it again
            raise _Retry(type(error).__name__, error=failure) from None

        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        status = response.status_code
        if 300 <= status < 400:
            where = _scrub(response.headers.get("Location", "") or "(no Location)", token())[:200]
            if not idempotent:
                raise self._uncertain(f"it was answered with a redirect (HTTP {status} to {where}); redirects "
                                      "are not followed", doubt)
            raise ServerError(f"{method} {path}: the API answered with a redirect (HTTP {status} to {where}); "
                              "the API does not redirect, so it is not followed (the token stays with "
                              f"{self.endpoint.base_url})", request_id=request_id, status_code=status)
        malformed = body is _MALFORMED
        if malformed:
            body = None
            if response.is_success:
                failure = ServerError(f"{method} {path}: the API answered {status} with malformed JSON",
                                      request_id=request_id, status_code=status)
                if not idempotent:
                    raise self._uncertain(f"its answer (HTTP {status}) is not JSON", doubt) from None
                raise _Retry("malformed", error=failure)

        error_code = body.get("error_code") if isinstance(body, dict) else None
        if response.is_success and not error_code:
            return body
        failure = self._error(method, path, status, body if not malformed else text, request_id)
        if not idempotent:
            if status == 429:  # an explicit refusal: no job; may be sent again
                doubt.value = False
                raise _Retry("429", retry_after=retry_after, error=failure)
            # Proof of rejection: the API's own JSON error object with a 4xx (or a 2xx error_code below 500000).
            # Anything else — a gateway's 502/504 page, a 5xx, a 4xx that is not the API's JSON — leaves the
            # job possibly created.
            own_error = isinstance(body, dict) and not malformed and (
                400 <= status < 500 or (response.is_success and isinstance(error_code, int) and error_code < 500000))
            if own_error:
                raise failure
            raise self._uncertain(f"the answer does not prove it was refused ({failure})", doubt)
        retryable = status in RETRY_STATUSES or (
            response.is_success and isinstance(error_code, int) and error_code >= 500000)
        if retryable:
            raise _Retry(str(status if not response.is_success else "error200"), retry_after=retry_after,
                         error=failure)
        raise failure

    def _error(self, method: str, path: str, status: int, body: Any, request_id: str | None) -> APIError:
        code = body.get("error_code") if isinstance(body, dict) else None
        text = _message(body)  # already scrubbed of the token where it was parsed
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


def _without_pool_timeout(timeout: httpx.Timeout | float) -> httpx.Timeout:
    value = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
    return httpx.Timeout(connect=value.connect, read=value.read, write=value.write, pool=None)


def _model_path(model_id: str) -> str:
    # Slashes are plain path segments (PROTOCOL.md); everything else in a segment is escaped.
    return "/".join(quote(part, safe="") for part in model_id.strip("/").split("/"))


def _request_path(request_id: str, action: str) -> str:
    return f"/v1/requests/{quote(request_id, safe='')}/{action}"


def _message(body: Any) -> str:
    if isinstance(body, dict):
        text = str(body.get("error_message") or body.get("message") or body.get("error") or "")
        detail = body.get("detail")
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
        return text or _clip(body)
    return _clip(body)


def _clip(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)[:limit]
    return text[:limit]


MIN_SCRUBBED = 8  # a shorter "token" (tests use "t") would mangle every answer; no real token is that short


def _scrub(text: str, token: str) -> str:
    """The API must not echo the token back into an exception message; make sure."""
    return text.replace(token, "***") if len(token) >= MIN_SCRUBBED else text
