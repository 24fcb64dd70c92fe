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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from ._version import __version__
from .config import Endpoint, Secret
from .errors import (
    APIError,
    AuthError,
    InsufficientBalanceError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ServerValidationError,
    SubmitUncertainError,
    brief,
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
        """Seconds to wait before retry number `attempt` (0-based); a Retry-After wins, capped."""
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
        """Count one retry and its reason (a status code or an exception name)."""
        self.retries += 1
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, error: Exception | None = None) -> None:
        self.reason = reason
        self.retry_after = retry_after
        self.error = error


class Transport:
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

    def __repr__(self) -> str:
        return f"Transport({self.endpoint.base_url!r})"

    @property
    def http(self) -> httpx.AsyncClient:
        """The httpx client (one pool), made on first use on the loop."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.endpoint.base_url,
                timeout=self._timeout,
                transport=self._transport,
                limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=32),
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                follow_redirects=True,
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
        """Close the connection pool (it reopens on next use)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- the API ---------------------------------------------------------------------------------------

    async def submit(self, model_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """POST the inputs; returns the answer with request_id and the three URLs (built if missing)."""
        path = "/v1/models/" + _model_path(model_id)
        body = await self._request("POST", path, json_body=inputs, idempotent=False)
        request_id = body.get("request_id") if isinstance(body, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise SubmitUncertainError(
                "The API accepted the submit but its answer has no request_id; the job may exist. "
                f"Answer: {_scrub(brief(body, 300), self.endpoint.token.reveal())}")
        base = f"{self.endpoint.base_url}/v1/requests/{quote(request_id, safe='')}"
        for name in ("status", "result", "cancel"):
            body.setdefault(f"{name}_url", f"{base}/{name}")
        return body

    async def status(self, request_id: str) -> dict[str, Any]:
        """The job's /status answer (status, queue_position); {} when it is not an object."""
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
        """The catalog page (`models` and paging) for the given query parameters."""
        query = {k: v for k, v in params.items() if v is not None}
        body = await self._request("GET", "/v1/models", params=query)
        return body if isinstance(body, dict) else {"models": []}

    async def get_model(self, model_id: str) -> dict[str, Any]:
        """One model's catalog entry (with its input_schema when the API has one)."""
        body = await self._request("GET", "/v1/models/" + _model_path(model_id))
        return body if isinstance(body, dict) else {}

    async def download(self, url: str) -> httpx.Response:
        """GET an output URL (absolute; no auth header is sent to other hosts)."""
        headers = None
        if url.startswith(self.endpoint.base_url + "/"):
            headers = {"Authorization": f"Bearer {self.endpoint.token.reveal()}"}

        async def once() -> httpx.Response:
            try:
                async with self.slots:
                    response = await self.http.get(url, headers=headers,
                                                   timeout=httpx.Timeout(120.0, connect=10.0, pool=None))
            except httpx.TransportError as error:
                raise _Retry(type(error).__name__, error=ServerError(
                    f"Downloading {url} failed: {type(error).__name__}")) from None
            if response.status_code in RETRY_STATUSES:
                raise _Retry(str(response.status_code), retry_after=parse_retry_after(response.headers.get("Retry-After")),
                             error=ServerError(f"Downloading {url} failed: HTTP {response.status_code}"))
            return response

        return await self._with_retries(once)

    # --- one request, with the retry policy ------------------------------------------------------------

    async def _request(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
                       request_id: str | None = None, idempotent: bool = True) -> Any:
        headers = {"Authorization": f"Bearer {self.endpoint.token.reveal()}"}
        return await self._with_retries(
            lambda: self._once(method, path, headers, json_body, params, request_id, idempotent))

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

    async def _once(self, method: str, path: str, headers: dict[str, str], json_body: Any,
                    params: dict[str, Any] | None, request_id: str | None, idempotent: bool) -> Any:
        try:
            async with self.slots:
                response = await self.http.request(method, path, json=json_body, params=params, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            # Never connected: nothing reached the server, so even a submit may be sent again.
            raise _Retry(type(error).__name__, error=ServerError(
                f"Cannot reach {self.endpoint.base_url}: {type(error).__name__}", request_id=request_id)) from None
        except httpx.PoolTimeout:
            # Every pooled connection was busy: the request never left this process (a submit may go again).
            raise _Retry("PoolTimeout", error=ServerError(
                f"{method} {path}: no free connection to {self.endpoint.base_url} in time (PoolTimeout)",
                request_id=request_id)) from None
        except httpx.TransportError as error:
            if not idempotent:
                raise SubmitUncertainError(
                    f"The submit was sent but the connection failed before an answer ({type(error).__name__}). "
                    "It was NOT retried, to avoid paying twice; the job may exist — check your RunComfy "
                    "dashboard before submitting again.") from None
            raise _Retry(type(error).__name__, error=ServerError(
                f"{method} {path} failed: {type(error).__name__}", request_id=request_id)) from None

        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        try:
            body = response.json() if response.content else {}
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            body = None
            if response.is_success:
                malformed = ServerError(f"{method} {path}: the API answered {response.status_code} with malformed JSON",
                                        request_id=request_id, status_code=response.status_code)
                if not idempotent:
                    raise SubmitUncertainError(
                        "The submit was answered with malformed JSON; it was NOT retried (the job may exist). "
                        "Check your RunComfy dashboard before submitting again.") from None
                raise _Retry("malformed", error=malformed) from None

        error_code = body.get("error_code") if isinstance(body, dict) else None
        if response.is_success and not error_code:
            return body
        failure = self._error(method, path, response.status_code, body, request_id)
        retryable = response.status_code in RETRY_STATUSES or (
            response.is_success and isinstance(error_code, int) and error_code >= 500000)
        if retryable and (idempotent or response.status_code == 429):
            raise _Retry(str(response.status_code if not response.is_success else "error200"),
                         retry_after=retry_after, error=failure)
        raise failure

    def _error(self, method: str, path: str, status: int, body: Any, request_id: str | None) -> APIError:
        code = body.get("error_code") if isinstance(body, dict) else None
        text = _scrub(error_text(body, with_code=False), self.endpoint.token.reveal())
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


_plain: Transport | None = None


def plain_transport() -> Transport:
    """A shared transport with no token, for downloading an absolute URL that no client owns."""
    global _plain
    if _plain is None:
        _plain = Transport(Endpoint("", Secret("")))
    return _plain


def _without_pool_timeout(timeout: httpx.Timeout | float) -> httpx.Timeout:
    value = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
    return httpx.Timeout(connect=value.connect, read=value.read, write=value.write, pool=None)


def _model_path(model_id: str) -> str:
    # Slashes are plain path segments (PROTOCOL.md); everything else in a segment is escaped.
    return "/".join(quote(part, safe="") for part in model_id.strip("/").split("/"))


def _request_path(request_id: str, action: str) -> str:
    return f"/v1/requests/{quote(request_id, safe='')}/{action}"


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


def _scrub(text: str, token: str) -> str:
    """The API must not echo the token back into an exception message; make sure."""
    return text.replace(token, "***") if token else text
