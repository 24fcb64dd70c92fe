"""The HTTP protocol of the RunComfy Model API (PROTOCOL.md): submit, status, result, cancel, catalog.

Async, used only from the background loop thread. Tolerant where the facts are unsettled; strict about
never sending a submit twice: the POST is retried only when it provably never reached a server (no connection,
or refused by our own HTTP layer) or when the server explicitly refused it with 429. Only the API's own JSON
error proves a submit was refused; anything else after the request went out is SubmitUncertainError.
API calls never follow redirects; every answer is size-capped, deadline-bound and scrubbed of the token
(_answers.py) before anything reads it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import httpx

from ._answers import (
    MALFORMED,
    BadBody,
    BearerAuth,
    api_error,
    decoded_body,
    error_text,
    parse_scrubbed,
    scrub,
    utc,
)
from ._retry import RETRY_STATUSES, Counters, Retry, RetryPolicy, parse_retry_after, with_retries
from ._slots import Slots
from ._version import __version__
from .config import Endpoint, Secret, settings
from .errors import APIError, ServerError, SubmitUncertainError, brief

__all__ = ["RetryPolicy", "Transport", "error_text", "normalise_status", "parse_retry_after", "plain_transport"]

log = logging.getLogger("runcomfy_nb")

USER_AGENT = f"runcomfy_nb/{__version__} (+python httpx/{httpx.__version__})"
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


class InDoubt:
    """For a submit: whether the request may have reached a server (headers started going out on the wire)
    and no answer since proved it refused. httpcore's trace events say when the request starts being written."""

    def __init__(self) -> None:
        self.value = False
        self.started = time.time()

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: note when the request headers start going out."""
        if event.endswith("send_request_headers.started"):
            self.value = True


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
        self._slots: Slots | None = None
        self._auth = BearerAuth(endpoint.token)

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
                # Only encodings decoded_body() can bound; br/zstd would be decoded by httpx without a cap.
                headers={"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip, deflate"},
                # The documented API never redirects: a 3xx is an error, a POST is never re-sent, and the token
                # never follows a Location anywhere (docs/decisions.md). Downloads opt in per request.
                follow_redirects=False,
            )
        return self._http

    @property
    def slots(self) -> Slots:
        """At most MAX_CONNECTIONS requests in flight, so that none ever queues inside httpcore's pool.

        httpcore (1.0.9) leaks a pool slot for good when a request leaves its pool queue just as a new
        connection was made for it (a pool timeout racing the hand-over, or a cancellation; encode/httpcore
        #1093): under load every slot leaked and each later request failed with PoolTimeout for ever. Waiting
        here instead, with no pool timeout at all, cannot leak; each request in flight is still bounded by
        its connect/read/write timeouts."""
        if self._slots is None:
            self._slots = Slots(MAX_CONNECTIONS)  # status polls wait behind cancels, submits, results
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
        doubt = InDoubt()
        try:
            body = await asyncio.wait_for(self._request("POST", path, json_body=inputs, idempotent=False,
                                                        doubt=doubt), settings.submit_deadline)
        except asyncio.TimeoutError:
            if doubt.value:
                raise self._uncertain(f"no answer came within submit_deadline ({settings.submit_deadline:g} s)",
                                      doubt) from None
            raise ServerError(f"Could not submit to {self.endpoint.base_url} within submit_deadline "
                              f"({settings.submit_deadline:g} s): no attempt reached the API or each was refused "
                              "(429); no job exists.") from None
        request_id = body.get("request_id") if isinstance(body, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise self._uncertain(f"its answer has no request_id: {brief(body, 300)}", doubt)
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
                async with self.slots.take():
                    request = self.http.build_request("GET", url, timeout=httpx.Timeout(120.0, connect=10.0,
                                                                                        pool=None))
                    response = await self.http.send(request, auth=auth, stream=True, follow_redirects=True)
                    try:
                        if response.status_code in RETRY_STATUSES:
                            raise Retry(str(response.status_code),
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
            except BadBody as error:
                raise ServerError(f"Downloading {url} stopped: {error} (settings.max_download_bytes / "
                                  "max_read_bytes bound it)") from None
            except httpx.TransportError as error:
                failure = ServerError(f"Downloading {url} failed: {type(error).__name__}")
                if written:
                    raise failure from None
                raise Retry(type(error).__name__, error=failure) from None

        try:
            return await asyncio.wait_for(with_retries(self.retry, self.counters, once), settings.download_deadline)
        except asyncio.TimeoutError:
            raise ServerError(f"Downloading {url} took longer than download_deadline "
                              f"({settings.download_deadline:g} s); stopped") from None

    # --- one request, with the retry policy ------------------------------------------------------------

    async def _request(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
                       request_id: str | None = None, idempotent: bool = True, doubt: InDoubt | None = None) -> Any:
        doubt = doubt or InDoubt()
        return await with_retries(self.retry, self.counters,
                                  lambda: self._once(method, path, json_body, params, request_id, idempotent, doubt))

    def _uncertain(self, what: str, doubt: InDoubt) -> SubmitUncertainError:
        """The submit reached a server and nothing proves it was refused: the job may exist (and be billed)."""
        now = time.time()
        return SubmitUncertainError(
            f"The submit was sent to {self.endpoint.base_url} but {what}. It was NOT sent again (a second submit "
            f"could be billed twice): the job may exist. Sent between {utc(doubt.started)} and {utc(now)} UTC "
            "— look for a request from that time in your RunComfy dashboard before submitting again; rc.jobs() "
            "keeps this attempt as 'uncertain'.", window=(doubt.started, now))

    async def _once(self, method: str, path: str, json_body: Any, params: dict[str, Any] | None,
                    request_id: str | None, idempotent: bool, doubt: InDoubt) -> Any:
        token = self.endpoint.token.reveal

        async def exchange() -> tuple[httpx.Response, Any, str]:
            request = self.http.build_request(method, path, json=json_body, params=params,
                                              extensions={"trace": doubt.trace} if not idempotent else None)
            response = await self.http.send(request, auth=self._auth, stream=True)
            try:
                # Every server-provided string is scrubbed of the token here, where it enters, before anything
                # clips it (and no unscrubbed copy stays in a local for a verbose traceback to print).
                body, text = parse_scrubbed(b"".join([data async for data in decoded_body(
                    response, settings.max_response_bytes)]), token())
            finally:
                await response.aclose()
            return response, body, text

        try:
            async with self.slots.take(routine=path.endswith("/status")):  # the deadline starts once a slot is ours
                response, body, text = await asyncio.wait_for(exchange(), settings.request_deadline)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.LocalProtocolError, httpx.UnsupportedProtocol) \
                as error:
            # Never connected, or refused by our own HTTP layer before writing: nothing reached a server, so even
            # a submit may be sent again (a local refusal would only fail again: no retry).
            failure: APIError = ServerError(f"Cannot reach {self.endpoint.base_url}: {type(error).__name__}",
                                            request_id=request_id)
            if isinstance(error, httpx.LocalProtocolError | httpx.UnsupportedProtocol):
                raise failure from None
            raise Retry(type(error).__name__, error=failure) from None
        except httpx.PoolTimeout:
            # Every pooled connection was busy: the request never left this process (a submit may go again).
            raise Retry("PoolTimeout", error=ServerError(
                f"{method} {path}: no free connection to {self.endpoint.base_url} in time (PoolTimeout)",
                request_id=request_id)) from None
        except (httpx.TransportError, asyncio.TimeoutError, BadBody) as error:
            what = (f"took longer than request_deadline ({settings.request_deadline:g} s)"
                    if isinstance(error, asyncio.TimeoutError) else
                    f"the answer was refused: {error} (settings.max_response_bytes)" if isinstance(error, BadBody)
                    else f"the connection failed before an answer ({type(error).__name__})")
            if not idempotent:
                if doubt.value:
                    raise self._uncertain(what, doubt) from None
                raise ServerError(f"Could not send the submit to {self.endpoint.base_url}: {what}; nothing was "
                                  "sent, no job exists.") from None
            failure = ServerError(f"{method} {path}: {what}", request_id=request_id)
            if isinstance(error, BadBody):
                raise failure from None  # the same server would send it again
            raise Retry(type(error).__name__, error=failure) from None

        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        status = response.status_code
        if 300 <= status < 400:
            where = scrub(response.headers.get("Location", "") or "(no Location)", token())[:200]
            if not idempotent:
                raise self._uncertain(f"it was answered with a redirect (HTTP {status} to {where}); redirects "
                                      "are not followed", doubt)
            raise ServerError(f"{method} {path}: the API answered with a redirect (HTTP {status} to {where}); "
                              "the API does not redirect, so it is not followed (the token stays with "
                              f"{self.endpoint.base_url})", request_id=request_id, status_code=status)
        malformed = body is MALFORMED
        if malformed:
            body = None
            if response.is_success:
                if not idempotent:
                    raise self._uncertain(f"its answer (HTTP {status}) is not JSON", doubt) from None
                raise Retry("malformed", error=ServerError(f"{method} {path}: the API answered {status} with "
                                                           "malformed JSON", request_id=request_id, status_code=status))

        error_code = body.get("error_code") if isinstance(body, dict) else None
        if response.is_success and not error_code:
            return body
        failure = api_error(method, path, status, body if not malformed else text[:300], request_id)
        if not idempotent:
            if status == 429:  # an explicit refusal: no job; may be sent again
                doubt.value = False
                raise Retry("429", retry_after=retry_after, error=failure)
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
            raise Retry(str(status if not response.is_success else "error200"), retry_after=retry_after,
                        error=failure)
        raise failure


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
