"""When to try a request again: the backoff policy, Retry-After, and the counters the fault suite reads."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


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


class Retry(Exception):
    """Raised by one attempt that may be tried again: why, the server's Retry-After, the error if none is left."""

    def __init__(self, reason: str, retry_after: float | None = None, error: Exception | None = None) -> None:
        self.reason = reason
        self.retry_after = retry_after
        self.error = error


async def with_retries(policy: RetryPolicy, counters: Counters, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run `attempt` until it returns; each Retry it raises waits per the policy; the last one's error."""
    last: Retry | None = None
    for number in range(policy.attempts):
        if last is not None:
            counters.retried(last.reason)
            await asyncio.sleep(policy.delay(number - 1, last.retry_after))
        counters.requests += 1
        try:
            return await attempt()
        except Retry as again:
            last = again
    assert last is not None and last.error is not None
    raise last.error
