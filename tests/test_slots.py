"""Request slots (runcomfy_nb/_slots.py): a cancel never waits behind routine status polls. Orders and counts on a
real asyncio loop, then through a real Transport against the simulator."""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import TEST_TOKEN

import runcomfy_nb as rc
from runcomfy_nb import _loop
from runcomfy_nb._slots import Slots

MODEL = "wan-ai/wan-2-5/text-to-image"
INPUTS = {"prompt": "a red fox", "aspect_ratio": "1024:1024 (1:1)"}


def test_an_urgent_request_gets_the_next_slot_before_waiting_polls() -> None:
    async def main() -> list[str]:
        slots, order = Slots(1), []
        gate = asyncio.Event()

        async def use(name: str, routine: bool) -> None:
            async with slots.take(routine=routine):
                order.append(name)
                await gate.wait() if name == "holder" else None

        holder = asyncio.ensure_future(use("holder", True))
        await asyncio.sleep(0)
        polls = [asyncio.ensure_future(use(f"poll{i}", True)) for i in range(5)]
        await asyncio.sleep(0)
        cancel = asyncio.ensure_future(use("cancel", False))
        await asyncio.sleep(0)
        assert slots.waiting == (1, 5)
        gate.set()
        await asyncio.gather(holder, cancel, *polls)
        assert slots.waiting == (0, 0) and slots._free == 1
        return order

    assert asyncio.run(main()) == ["holder", "cancel", "poll0", "poll1", "poll2", "poll3", "poll4"]


def test_a_cancelled_waiter_leaks_no_slot() -> None:
    async def main() -> int:
        slots = Slots(2)
        gate = asyncio.Event()

        async def hold() -> None:
            async with slots.take(routine=True):
                await gate.wait()

        holders = [asyncio.ensure_future(hold()) for _ in range(2)]
        await asyncio.sleep(0)
        waiters = [asyncio.ensure_future(hold()) for _ in range(4)]
        await asyncio.sleep(0)
        for waiter in waiters[:3]:
            waiter.cancel()
        gate.set()
        await asyncio.gather(*holders, *waiters, return_exceptions=True)
        return slots._free

    assert asyncio.run(main()) == 2


class RecordingSlots(Slots):
    """Slots that note which kind of waiter each freed slot was handed to."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.handed: list[str] = []

    def _release(self) -> None:
        kind = "urgent" if any(not w.done() for w in self._urgent) else \
            "routine" if any(not w.done() for w in self._routine) else None
        if kind:
            self.handed.append(kind)
        super()._release()


def test_cancelling_queued_jobs_goes_ahead_of_their_polls(sim: Any) -> None:
    sim.configure(paused=True)  # everything stays queued
    client = rc.Client(token=TEST_TOKEN, base_url=sim.base_url)
    slots = client.transport._slots = RecordingSlots(8)
    try:
        jobs = [client.submit(MODEL, INPUTS, fresh=True) for _ in range(6)]

        async def cancel_all_while_polls_wait() -> tuple[list[bool], tuple[int, int]]:
            polls = [asyncio.ensure_future(client.transport.status(job.request_id)) for job in jobs * 5]
            await asyncio.sleep(0)  # 8 polls hold every slot, the rest wait
            cancels = [asyncio.ensure_future(job.cancel_async()) for job in jobs]
            await asyncio.sleep(0)
            waiting = slots.waiting
            outcomes = await asyncio.gather(*cancels)
            await asyncio.gather(*polls)
            return outcomes, waiting

        outcomes, waiting = _loop.run_sync(cancel_all_while_polls_wait(), timeout=60)
    finally:
        client.close()
    assert waiting[0] == 6 and waiting[1] >= 22, waiting  # (the jobs' own polls may wait too)
    assert slots.handed[:6] == ["urgent"] * 6, slots.handed  # every cancel before any waiting poll
    assert outcomes == [True] * 6
    assert all(job.status == "cancelled" for job in jobs)
