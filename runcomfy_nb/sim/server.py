"""Running the simulator: uvicorn in a daemon thread with its own event loop (`Simulator`), or in the
foreground for `python -m runcomfy_nb.sim` (`serve`)."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .knobs import Knobs

T = TypeVar("T")
INSTALL_HINT = "The simulator needs extra packages: pip install 'runcomfy_nb[sim]'"


def require_dependencies() -> None:
    """ImportError naming the install command when starlette / uvicorn / Pillow / PyAV are missing."""
    missing = []
    for module in ("starlette", "uvicorn", "PIL", "av", "httpx"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ImportError(f"{INSTALL_HINT} (missing: {', '.join(missing)})")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on such sockets (else ~40 ms per request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _uvicorn_server(app: Any, *, foreground: bool) -> Any:
    import uvicorn

    kwargs: dict[str, Any] = {"log_level": "warning", "access_log": False, "lifespan": "on",
                              "timeout_graceful_shutdown": 1, "server_header": False}
    if not foreground:
        kwargs["log_config"] = None  # leave the host process's logging (a notebook's) alone
    return uvicorn.Server(uvicorn.Config(app, **kwargs))


class Simulator:
    """One running simulator. Make it with `runcomfy_nb.sim.start()` (or `Simulator(...).start()`)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **knobs: Any) -> None:
        self.host = host
        self.port = port
        self.base_url = _url(host, port)
        self.knobs = Knobs()
        self.knobs.apply(self.knobs.parse(knobs))
        self._engine: Any = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: BaseException | None = None
        self.owns_default = False

    # --- lifecycle --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._server is not None \
            and not self._server.should_exit

    def start(self, timeout: float = 30.0) -> Simulator:
        """Listen and serve from a daemon thread; returns once the server accepts connections."""
        if self.running:
            return self
        require_dependencies()
        from .app import create_app
        from .engine import Engine

        self._engine = Engine(self.knobs)
        self._server = _uvicorn_server(create_app(self._engine), foreground=False)
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self.base_url = _url(self.host, self.port)
        self._failure = None
        self._thread = threading.Thread(target=self._serve, args=(sock,), name=f"runcomfy-sim:{self.port}",
                                        daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._server.should_exit = True
                sock.close()
                raise RuntimeError(f"the simulator did not start on {self.base_url}: {self._failure!r}")
            time.sleep(0.005)
        return self

    def _serve(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by start() / stop()
            self._failure = exc
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            sock.close()
            self._loop = None

    def _at_exit(self) -> None:
        """Interpreter exit without stop(): end quickly and leave no files behind."""
        with contextlib.suppress(Exception):
            self.stop(timeout=2.0)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, forget the jobs, delete the output files; undo `make_default` if it was done."""
        from . import _forget

        atexit.unregister(self._at_exit)
        if self._server is not None:
            self._server.should_exit = True
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                thread.join(5)
        if self._engine is not None:
            self._engine.remove_files()
        if self.owns_default:
            from .. import config

            endpoint = config.simulator_endpoint()
            if endpoint is not None and endpoint.base_url == self.base_url.rstrip("/"):
                config.clear_simulator()
            self.owns_default = False
        _forget(self)

    def make_default(self) -> None:
        """Make this simulator the endpoint of every `rc.Client()` made without arguments."""
        from .. import config

        config.set_simulator(self.base_url, self.knobs.token or config.SIM_TOKEN)
        self.owns_default = True

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<runcomfy_nb.sim.Simulator {self.base_url} {state}>"

    # --- knobs and views (thread-safe: run on the server's loop) -------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        loop = self._loop
        if loop is None or not loop.is_running() or threading.current_thread() is self._thread:
            return fn()

        async def on_loop() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(on_loop(), loop).result(timeout=30)

    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Change knobs live (see docs/simulator.md); returns the knobs now in force (token hidden)."""
        parsed = self.knobs.parse(knobs)
        if self._engine is None:
            self.knobs.apply(parsed)
        else:
            self._call(lambda: self._engine.configure(parsed))
        if "token" in parsed and self.owns_default:
            self.make_default()
        return self.knobs.public()

    def knobs_differ(self, knobs: dict[str, Any]) -> bool:
        return self.knobs.differs(knobs)

    def counters(self) -> dict[str, Any]:
        if self._engine is None:
            from .engine import Counters

            return Counters().snapshot({})
        return self._call(self._engine.counters_snapshot)

    def jobs(self) -> list[dict[str, Any]]:
        return [] if self._engine is None else self._call(self._engine.jobs_list)

    def reset(self) -> None:
        """Zero the counters and forget every job and output (knobs are kept)."""
        if self._engine is not None:
            self._call(self._engine.reset)

    def expire_outputs(self) -> int:
        """Every existing output now answers 404 "expired"; returns how many were expired."""
        return 0 if self._engine is None else self._call(self._engine.expire_all)


def serve(host: str = "127.0.0.1", port: int = 8765, knobs: dict[str, Any] | None = None,
          announce: Callable[[str], None] | None = None) -> int:
    """Serve in the foreground until SIGINT/SIGTERM; `announce(base_url)` once listening."""
    require_dependencies()
    from .app import create_app, install_log_filter
    from .engine import Engine

    settings = Knobs()
    settings.apply(settings.parse(knobs or {}))
    engine = Engine(settings)
    server = _uvicorn_server(create_app(engine), foreground=True)
    install_log_filter()  # again: uvicorn's logging setup ran after create_app()
    sock = _bind(host, port)
    url = _url(host, sock.getsockname()[1])

    def say(base_url: str) -> None:
        print(base_url, flush=True)

    async def run() -> None:
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.005)
        if server.started:
            (announce or say)(url)
        await task

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate) if threading.current_thread() is threading.main_thread() else None
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        engine.remove_files()
        sock.close()
    return 0 if server.started else 1
