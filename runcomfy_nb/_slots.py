"""Request slots: at most N requests in flight on one transport, with routine ones (status polls) served last.

With 1000 jobs polled, the slots are always wanted by polls; a cancel (or a submit, a result) that queued behind
them in a plain FIFO semaphore waited for hundreds of routine requests. Here a waiting urgent request always gets
the next free slot before any waiting routine one; among each kind the order is first come, first served.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


class Slots:
    """At most `size` holders at once; `take(routine=False)` jumps ahead of every waiting `take(routine=True)`.
    Use from one event loop."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._routine: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> tuple[int, int]:
        """(urgent, routine) requests waiting for a slot."""
        return len(self._urgent), len(self._routine)

    @contextlib.asynccontextmanager
    async def take(self, routine: bool = False) -> AsyncIterator[None]:
        """Hold one slot for the block (waiting for one if none is free)."""
        await self._acquire(routine)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, routine: bool) -> None:
        if self._free > 0 and not self._urgent and not (routine and self._routine):
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._routine if routine else self._urgent).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a slot just as it was cancelled: pass it on
                self._release()
            else:
                with contextlib.suppress(ValueError):
                    (self._routine if routine else self._urgent).remove(waiter)
            raise

    def _release(self) -> None:
        for queue in (self._urgent, self._routine):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the slot goes straight to it
                    return
        self._free += 1
