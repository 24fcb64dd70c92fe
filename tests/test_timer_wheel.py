"""The shared timer (runcomfy_nb/timer_wheel.py) on a real asyncio loop: counts and orders, no timing asserts."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest

from runcomfy_nb.timer_wheel import TimerWheel, await_all, shared_heartbeat, wheel_for

HANG = 20.0  # generous: only catches a hang


def test_a_thousand_sleepers_share_a_few_wakeups() -> None:
    async def main() -> tuple[int, list[int], int]:
        loop = asyncio.get_running_loop()
        wheel = TimerWheel(loop, tick=0.05)
        start = loop.time()
        order: list[int] = []

        async def sleeper(i: int) -> None:
            await wheel.sleep_until(start + (i % 5) * 0.05)
            order.append(i % 5)

        scheduled_before = len(loop._scheduled)  # type: ignore[attr-defined]
        tasks = [asyncio.ensure_future(sleeper(i)) for i in range(1000)]
        await asyncio.sleep(0)  # every sleeper registered
        handles = len(loop._scheduled) - scheduled_before  # type: ignore[attr-defined]
        await asyncio.wait_for(asyncio.gather(*tasks), HANG)
        return handles, order, wheel.wakeups

    handles, order, wakeups = asyncio.run(main())
    assert handles == 1  # one loop timer for all thousand sleepers
    assert len(order) == 1000 and order == sorted(order)  # earlier deadlines never wake after later ones
    assert wakeups <= 6  # at most one per distinct tick (5), plus rounding at the edge


def test_wake_ends_a_long_sleep_early_and_close_cancels_the_rest() -> None:
    async def main() -> tuple[bool, bool]:
        wheel = wheel_for()
        assert wheel_for() is wheel
        long = wheel.sleep(3600)
        other = wheel.sleep(3600)
        asyncio.get_running_loop().call_soon(wheel.wake, long)
        await asyncio.wait_for(long, HANG)
        wheel.close()
        return long.done() and not long.cancelled(), other.cancelled()

    assert asyncio.run(main()) == (True, True)


def test_await_all_waits_for_many_thread_futures_with_one_heartbeat() -> None:
    futures: list[concurrent.futures.Future[int]] = [concurrent.futures.Future() for _ in range(500)]

    def finish() -> None:
        for i, future in enumerate(futures):
            future.set_result(i)

    async def main() -> tuple[int, int]:
        async with shared_heartbeat() as first, shared_heartbeat() as second:
            assert first is second and first.users == 2
        threading.Timer(0.05, finish).start()
        await await_all(futures, timeout=HANG)
        async with shared_heartbeat() as beat:
            return beat.users, sum(f.result() for f in futures)

    users, total = asyncio.run(main())
    assert users == 1  # the await_all's share was released
    assert total == sum(range(500))


def test_await_all_times_out_without_touching_the_futures() -> None:
    pending: concurrent.futures.Future[int] = concurrent.futures.Future()

    async def main() -> None:
        await await_all([pending], timeout=0.05)

    with pytest.raises(TimeoutError):
        asyncio.run(main())
    assert not pending.done()


def test_until_done_answers_instead_of_raising() -> None:
    from runcomfy_nb.timer_wheel import until_done

    async def main() -> tuple[bool, bool]:
        pending: concurrent.futures.Future[None] = concurrent.futures.Future()
        timed_out = await until_done([pending], timeout=0.01)
        threading.Timer(0.01, pending.set_result, (None,)).start()
        finished = await until_done([pending], timeout=HANG)
        return timed_out, finished

    assert asyncio.run(main()) == (False, True)
