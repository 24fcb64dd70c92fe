"""Where the token and base URL come from, and the process-wide simulator default.

The token is held in a `Secret` whose repr/str never show it; only the HTTP layer reads `.reveal()`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from .errors import ConfigError

DEFAULT_BASE_URL = "https://model-api.runcomfy.net"
TOKEN_ENV_VARS = ("RUNCOMFY_API_TOKEN", "RUNCOMFY_API_KEY", "RUNCOMFY_TOKEN")
BASE_ENV_VARS = ("RUNCOMFY_API_BASE", "RUNCOMFY_MODEL_API_BASE")
SIM_TOKEN = "sim-local-token"


class Secret:
    """A string that refuses to be printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: only the transport calls this, to build its Authorization header."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self):  # never pickle the value into a file by accident
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class Endpoint:
    """Where requests go: a base URL, its token, and whether it is the simulator."""

    base_url: str
    token: Secret
    simulator: bool = False

    def __repr__(self) -> str:
        return f"Endpoint(base_url={self.base_url!r}, simulator={self.simulator})"


_lock = threading.Lock()
_simulator: Endpoint | None = None


def set_simulator(base_url: str, token: str = SIM_TOKEN) -> None:
    """Make a running simulator the default endpoint for clients made without arguments."""
    global _simulator
    with _lock:
        _simulator = Endpoint(base_url.rstrip("/"), Secret(token), simulator=True)


def clear_simulator() -> None:
    """Stop using the simulator as the default endpoint."""
    global _simulator
    with _lock:
        _simulator = None


def simulator_endpoint() -> Endpoint | None:
    """The running simulator's endpoint when it is the default, else None."""
    return _simulator


def token_from_env() -> str | None:
    """The first token found in RUNCOMFY_API_TOKEN / RUNCOMFY_API_KEY / RUNCOMFY_TOKEN."""
    for name in TOKEN_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def base_from_env() -> str | None:
    """The API base URL from RUNCOMFY_API_BASE / RUNCOMFY_MODEL_API_BASE, if set."""
    for name in BASE_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value.rstrip("/")
    return None


def resolve(token: str | Secret | None = None, base_url: str | None = None) -> Endpoint:
    """Arguments first, then a running simulator (when nothing was given), then the environment.

    Never falls back to the simulator silently: it is used only once someone started it.
    """
    if token is None and base_url is None and _simulator is not None:
        return _simulator
    if isinstance(token, Secret):
        secret = token
    else:
        raw = token or token_from_env()
        if not raw:
            raise ConfigError(
                "No RunComfy API token. Set RUNCOMFY_API_TOKEN (or RUNCOMFY_API_KEY / RUNCOMFY_TOKEN), "
                "pass rc.Client(token=...), or try everything offline with the simulator: "
                "rc.sim.start() or %runcomfy sim on (needs: pip install 'runcomfy_nb[sim]')."
            )
        secret = Secret(raw)
    base = (base_url or base_from_env() or DEFAULT_BASE_URL).rstrip("/")
    sim = _simulator is not None and base == _simulator.base_url
    return Endpoint(base, secret, simulator=sim)


SETTINGS_HELP = {
    "autosave_dir": "Download every output here as soon as its job completes (results expire).",
    "save_dir": "Where the widget's Save button and Output.save() write by default.",
    "validate": "Validate inputs against the model's schema before sending.",
    "debug": "Show full tracebacks for user errors instead of one short message.",
    "max_in_flight": "Per sweep: how many jobs may be submitted and unfinished at once; the rest wait locally.",
    "max_in_flight_total": "Across all sweeps of one client: jobs submitted and unfinished at once.",
    "progress": "A progress line while job.wait() blocks: auto (on a terminal only), always, never.",
    "budget_usd": "Refuse a submit or sweep whose estimated cost would pass this kernel's budget (USD; None: no budget).",
}


@dataclass
class Settings:
    """User settings, in one place (`%config RunComfyMagics.*` in a notebook forwards here; see SETTINGS_HELP)."""

    autosave_dir: str | None = None
    save_dir: str = "runcomfy_outputs"
    validate: bool = True
    debug: bool = False
    max_in_flight: int = 4  # per sweep: submitted-and-unfinished jobs at once; the rest wait locally
    max_in_flight_total: int = 16  # across all sweeps of one client (protects the account's rate limit)
    budget_usd: float | None = None  # refuse a submit/sweep whose estimated cost would pass this kernel's budget
    progress: str = "auto"  # job.wait()'s progress line: "auto" (a terminal only) | "always" | "never"


settings = Settings(autosave_dir=os.environ.get("RUNCOMFY_NB_AUTOSAVE") or None,
                    progress=os.environ.get("RUNCOMFY_NB_PROGRESS", "").strip().lower() or "auto")
