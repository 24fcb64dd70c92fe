"""Shared timers for many jobs on one event loop: batched wake-ups instead of one sleep per job.

1000 polled jobs each sleeping with their own `asyncio.sleep` keep 1000 timer handles in the loop's heap and wake
the loop up to 1000 times a second. A `TimerWheel` rounds every deadline up to its `tick` (default 20 ms) and keeps
one bucket per tick: the loop holds a single timer handle (for the earliest bucket), and all jobs due in the same
tick wake together in one loop iteration. A sleeper can be woken early (`wake`) — a cancel click, a state change.

`shared_heartbeat(loop)` is the other half: code awaiting jobs on the kernel's loop needs a periodic wake-up so an
interrupt is noticed, but one per loop is enough however many jobs are awaited (`await_all` uses it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import heapq
import math
import weakref
from collections.abc import AsyncIterator, Iterable
from typing import Any


class TimerWheel:
    """Deadlines rounded up to `tick` seconds, one loop timer for all of them. Use from the loop's thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, tick: float = 0.02) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self.tick = tick
        self._buckets: dict[int, list[asyncio.Future[None]]] = {}
        self._due: list[int] = []           # heap of bucket numbers
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: int | None = None
        self.wakeups = 0                    # loop wake-ups that fired at least one sleeper (for tests/benches)

    def __len__(self) -> int:
        return sum(1 for bucket in self._buckets.values() for f in bucket if not f.done())

    def sleep_until(self, when: float) -> asyncio.Future[None]:
        """A future resolved at the first tick at or after loop time `when` (or by `wake`). Await it."""
        future: asyncio.Future[None] = self.loop.create_future()
        slot = math.ceil(when / self.tick - 1e-9)
        bucket = self._buckets.get(slot)
        if bucket is None:
            bucket = self._buckets[slot] = []
            heapq.heappush(self._due, slot)
        bucket.append(future)
        self._arm()
        return future

    def sleep(self, delay: float) -> asyncio.Future[None]:
        """`sleep_until(now + delay)`."""
        return self.sleep_until(self.loop.time() + max(delay, 0.0))

    @staticmethod
    def wake(sleeper: asyncio.Future[None]) -> None:
        """End a sleep now (it stays in its bucket, already done, and is skipped when the tick fires)."""
        if not sleeper.done():
            sleeper.set_result(None)

    def _arm(self) -> None:
        while self._due and not self._buckets.get(self._due[0]):
            self._buckets.pop(heapq.heappop(self._due), None)
        if not self._due:
            return
        first = self._due[0]
        if self._armed_for == first:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._armed_for = first
        self._handle = self.loop.call_at(first * self.tick, self._fire)

    def _fire(self) -> None:
        self._handle = self._armed_for = None
        now_slot = math.floor(self.loop.time() / self.tick + 1e-9)
        fired = False
        while self._due and self._due[0] <= now_slot:
            for future in self._buckets.pop(heapq.heappop(self._due), ()):
                if not future.done():
                    future.set_result(None)
                    fired = True
        self.wakeups += fired
        self._arm()

    def close(self) -> None:
        """Cancel every pending sleep."""
        if self._handle is not None:
            self._handle.cancel()
        for bucket in self._buckets.values():
            for future in bucket:
                future.cancel()
        self._buckets.clear()
        self._due.clear()
        self._handle = self._armed_for = None


_wheels: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TimerWheel] = weakref.WeakKeyDictionary()


def wheel_for(loop: asyncio.AbstractEventLoop | None = None) -> TimerWheel:
    """The loop's shared wheel (made on first use)."""
    loop = loop or asyncio.get_running_loop()
    wheel = _wheels.get(loop)
    if wheel is None:
        wheel = _wheels[loop] = TimerWheel(loop)
    return wheel


class _Heartbeat:
    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        self.loop, self.interval, self.users, self.beats = loop, interval, 0, 0
        self._handle: asyncio.TimerHandle | None = None

    def _beat(self) -> None:
        self.beats += 1
        self._handle = self.loop.call_later(self.interval, self._beat) if self.users else None

    def acquire(self) -> None:
        self.users += 1
        if self._handle is None:
            self._handle = self.loop.call_later(self.interval, self._beat)

    def release(self) -> None:
        self.users -= 1
        if not self.users and self._handle is not None:
            self._handle.cancel()
            self._handle = None


_heartbeats: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Heartbeat] = weakref.WeakKeyDictionary()


@contextlib.asynccontextmanager
async def shared_heartbeat(interval: float = 0.1) -> AsyncIterator[_Heartbeat]:
    """Keep the running loop waking every `interval` s while inside (so an interrupt is noticed promptly);
    nested and concurrent users share one timer."""
    loop = asyncio.get_running_loop()
    beat = _heartbeats.get(loop)
    if beat is None or beat.interval != interval:
        beat = _heartbeats[loop] = _Heartbeat(loop, interval)
    beat.acquire()
    try:
        yield beat
    finally:
        beat.release()


async def await_all(futures: Iterable[concurrent.futures.Future[Any]], timeout: float | None = None,
                    interval: float = 0.1) -> None:
    """Wait on the running loop until every (thread-safe) future is done, or `timeout` passes.

    One shared heartbeat for the loop and one wake-up per completion, however many futures: awaiting 1000 jobs
    costs what awaiting one does. Raises TimeoutError on timeout; results and exceptions stay in the futures."""
    loop = asyncio.get_running_loop()
    pending = [f for f in futures if not f.done()]
    if not pending:
        return
    left = [len(pending)]
    all_done: asyncio.Future[None] = loop.create_future()

    def one_done(_: object) -> None:
        def count() -> None:
            left[0] -= 1
            if left[0] <= 0 and not all_done.done():
                all_done.set_result(None)
        with contextlib.suppress(RuntimeError):  # the loop may be closed by now
            loop.call_soon_threadsafe(count)

    for future in pending:
        future.add_done_callback(one_done)
    async with shared_heartbeat(interval):
        await asyncio.wait_for(asyncio.shield(all_done), timeout)


async def until_done(futures: Iterable[concurrent.futures.Future[Any]], timeout: float | None = None) -> bool:
    """`await_all`, answering False on timeout instead of raising."""
    try:
        await await_all(futures, timeout)
    except asyncio.TimeoutError:
        return False
    return True
