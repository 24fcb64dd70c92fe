"""The one background event loop thread that does all HTTP work and polling (see DESIGN.md, Concurrency).

The kernel's own loop stays free: widgets keep updating while a person runs blocking cells. Every task started
here is kept (asyncio itself holds only weak references to tasks) with the object that owns it, so that
closing a client stops its tasks and a test can check that none outlived it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_kept: dict[asyncio.Task[Any], object] = {}  # live task -> its owner; changed on the loop thread only
_kept_lock = threading.Lock()  # read from other threads (live_tasks)


def get_loop() -> asyncio.AbstractEventLoop:
    """The background loop, started on first use (a daemon thread: it never keeps a process alive)."""
    global _loop, _thread
    with _lock:
        if _loop is None or not _thread or not _thread.is_alive():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            _thread = threading.Thread(target=run, name="runcomfy-nb-loop", daemon=True)
            _thread.start()
            ready.wait()
            _loop = loop
        return _loop


def in_loop_thread() -> bool:
    """True on the background loop's own thread (where blocking on it would deadlock)."""
    return _thread is not None and threading.current_thread() is _thread


def run_coro(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Schedule a coroutine on the background loop; returns a thread-safe future (the caller keeps it)."""
    return asyncio.run_coroutine_threadsafe(coro, get_loop())


def run_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run a coroutine on the background loop and block for its result (never from the loop thread)."""
    if in_loop_thread():
        coro.close()
        raise RuntimeError("run_sync called from the runcomfy_nb loop thread")
    return run_coro(coro).result(timeout)


def spawn(coro: Coroutine[Any, Any, T], owner: object, name: str | None = None) -> concurrent.futures.Future[T]:
    """Run a coroutine as a task that is kept until it ends, on behalf of `owner` (see `cancel_owned`)."""
    async def kept() -> T:
        task = asyncio.current_task()
        assert task is not None
        task.set_name(name or getattr(coro, "__qualname__", "runcomfy task"))
        with _kept_lock:
            _kept[task] = owner
        try:
            return await coro
        finally:
            with _kept_lock:
                _kept.pop(task, None)

    return run_coro(kept())


def live_tasks(owner: object | None = None) -> list[asyncio.Task[Any]]:
    """The kept tasks still running (of one owner, or all)."""
    with _kept_lock:
        return [task for task, who in _kept.items() if owner is None or who is owner]


async def _cancel_owned(owner: object | None) -> int:
    await asyncio.sleep(0)  # tasks scheduled before this call register themselves first
    tasks = [task for task in live_tasks(owner) if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return len(tasks)


def cancel_owned(owner: object | None, timeout: float = 10) -> int:
    """Cancel the kept tasks of `owner` (None: all) and wait for them to end; returns how many there were."""
    if _loop is None or _thread is None or not _thread.is_alive():
        return 0
    if in_loop_thread():
        tasks = live_tasks(owner)
        for task in tasks:
            task.cancel()
        return len(tasks)
    return run_coro(_cancel_owned(owner)).result(timeout)


def settle(future: asyncio.Future[None]) -> None:
    """Resolve a wake-up future unless it is already done (it may have been cancelled)."""
    if not future.done():
        future.set_result(None)


def check_timeout(timeout: float | None) -> None:
    """A timeout is None (no limit) or a finite number of seconds: NaN would never expire, inf never either."""
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout):
        raise ValueError(f"timeout: must be a finite number of seconds or None; got {timeout!r}")
