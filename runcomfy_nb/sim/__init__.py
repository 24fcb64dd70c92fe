"""The offline simulator of the RunComfy Model API: a real HTTP server on 127.0.0.1 (Starlette on uvicorn).

    import runcomfy_nb as rc
    sim = rc.sim.start(time_scale=0.1)   # every rc.Client() made without arguments now talks to it
    sim.base_url, sim.counters(), sim.jobs()
    sim.configure(paused=True, faults={"rate": 0.2})
    rc.sim.stop()

or, in another process: `python -m runcomfy_nb.sim --port 8765` (prints its base URL).
See docs/simulator.md. Importing this module is cheap: starlette, uvicorn, Pillow and PyAV load on start().
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from .util import body_sha256

if TYPE_CHECKING:
    from .server import Simulator

__all__ = ["Simulator", "start", "stop", "current", "body_sha256"]

_lock = threading.RLock()
_current: Simulator | None = None


def start(port: int = 0, host: str = "127.0.0.1", *, time_scale: float = 1.0, workers: int = 2,
          token: str | None = None, make_default: bool = True, **knobs: Any) -> Simulator:
    """Start the simulator in a daemon thread (or return the running one, reconfigured if knobs differ).

    With `make_default`, every `rc.Client()` made without arguments, the magics and the forms use it until
    `stop()`. `token=None` accepts any non-empty bearer token; clients are given `config.SIM_TOKEN`.
    Raises ImportError ("pip install 'runcomfy_nb[sim]'") when the simulator's packages are missing.
    """
    global _current
    settings = {"time_scale": time_scale, "workers": workers, "token": token, **knobs}
    with _lock:
        sim = _current
        if sim is not None and sim.running:
            if sim.knobs_differ(settings):
                sim.configure(**settings)
        else:
            from .server import Simulator

            sim = Simulator(host=host, port=port, **settings).start()
            _current = sim
        if make_default:
            sim.make_default()
        return sim


def stop() -> None:
    """Stop the simulator started with `start()` (if any) and stop using it as the default endpoint."""
    with _lock:
        sim = _current
    if sim is not None:
        sim.stop()


def current() -> Simulator | None:
    """The simulator started with `start()`, while it runs."""
    sim = _current
    return sim if sim is not None and sim.running else None


def _forget(sim: Simulator) -> None:
    global _current
    with _lock:
        if _current is sim:
            _current = None


def __getattr__(name: str) -> Any:
    if name == "Simulator":
        from .server import Simulator

        return Simulator
    raise AttributeError(f"module 'runcomfy_nb.sim' has no attribute {name!r}")
