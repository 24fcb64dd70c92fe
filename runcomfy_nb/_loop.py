"""The one background event loop thread that does all HTTP work and polling (see DESIGN.md, Concurrency).

The kernel's own loop stays free: widgets keep updating while a person runs blocking cells.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


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
    return _thread is not None and threading.current_thread() is _thread


def run_coro(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Schedule a coroutine on the background loop; returns a thread-safe future."""
    return asyncio.run_coroutine_threadsafe(coro, get_loop())


def run_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run a coroutine on the background loop and block for its result (never from the loop thread)."""
    if in_loop_thread():
        coro.close()
        raise RuntimeError("run_sync called from the runcomfy_nb loop thread")
    return run_coro(coro).result(timeout)


def call_soon(fn: Callable[..., Any], *args: Any) -> None:
    """Hand a callable to the loop thread (used for messages that arrive from the front end)."""
    get_loop().call_soon_threadsafe(fn, *args)
