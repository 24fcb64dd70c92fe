"""Where the token and base URL come from, and the process-wide simulator default.

The token is held in a `Secret` whose repr/str never show it; only the HTTP layer reads `.reveal()`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from ._urls import is_loopback_host
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

    def problem(self) -> str | None:
        """Why this value cannot be sent as a bearer token (without showing it), or None."""
        if not self._value:
            return "it is empty"
        for index, char in enumerate(self._value):
            if not (0x21 <= ord(char) <= 0x7E):
                kind = "a non-ASCII character" if ord(char) > 0x7F else "a space or control character"
                return f"it contains {kind} (U+{ord(char):04X}) at position {index}"
        return None

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


def token_from_env() -> Secret | None:
    """The first token in RUNCOMFY_API_TOKEN / RUNCOMFY_API_KEY / RUNCOMFY_TOKEN, surrounding whitespace
    stripped (a pasted newline is common)."""
    for name in TOKEN_ENV_VARS:
        if os.environ.get(name, "").strip():
            return Secret(os.environ[name].strip())
    return None


def configured_base() -> str:
    """The API base a token from the environment may be sent to: RUNCOMFY_API_BASE, else the public API."""
    return (base_from_env() or DEFAULT_BASE_URL).rstrip("/")


def is_loopback(base_url: str) -> bool:
    """True for a URL whose host is localhost or a loopback address (127.0.0.0/8, ::1)."""
    return is_loopback_host((urlsplit(base_url).hostname or "").lower())


def check_base(base_url: str) -> None:
    """A token is only ever sent over https, or plain http to this machine (a simulator, a local proxy)."""
    parts = urlsplit(base_url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback(base_url):
        return
    raise ConfigError(f"API base {base_url!r}: refused — the token is only sent over https (plain http only to "
                      "localhost/127.0.0.1/::1).")


def _checked(secret: Secret) -> Secret:
    """The same Secret, or a ConfigError that says what is wrong with it without ever showing it."""
    problem = secret.problem()
    if problem:
        raise ConfigError(f"The RunComfy API token is not usable: {problem}. Copy it again from your RunComfy "
                          "account (the token itself is not shown here).")
    return secret


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
    base = (base_url or configured_base()).rstrip("/")
    if token is None and _simulator is not None and base == _simulator.base_url:
        return _simulator  # the simulator's own (public) token
    check_base(base)
    if token is not None:  # given explicitly for this base
        # Wrapped at once and never held in a plain local that a verbose traceback would print.
        secret = token if isinstance(token, Secret) else Secret(token.strip())
        token = None  # noqa: PLW2901 — the plain string must not stay in this frame's locals
    else:
        if base != configured_base():
            # The environment's token belongs to the configured API only (RUNCOMFY_API_BASE or the public API).
            raise ConfigError(f"No credentials for {base}: the token from the environment is only sent to "
                              f"{configured_base()}. Pass rc.Client(token=..., base_url={base!r}) to use that base.")
        found = token_from_env()
        if found is None:
            raise ConfigError(
                "No RunComfy API token. Set RUNCOMFY_API_TOKEN (or RUNCOMFY_API_KEY / RUNCOMFY_TOKEN), "
                "pass rc.Client(token=...), or try everything offline with the simulator: "
                "rc.sim.start() or %runcomfy sim on (needs: pip install 'runcomfy_nb[sim]')."
            )
        secret = found
    sim = _simulator is not None and base == _simulator.base_url
    return Endpoint(base, _checked(secret), simulator=sim)


SETTINGS_HELP = {
    "autosave_dir": ("Keep a copy of every output here once its job completes (results expire). Unset: "
                     "runcomfy_outputs/ beside the notebook (nothing in a plain script); \"off\": no copies."),
    "save_dir": "Where the widget's Save button and Output.save() write by default.",
    "validate": "Validate inputs against the model's schema before sending.",
    "debug": "Show full tracebacks for user errors instead of one short message.",
    "max_in_flight": "Per sweep: how many jobs may be submitted and unfinished at once; the rest wait locally.",
    "max_in_flight_total": "Across all sweeps of one client: jobs submitted and unfinished at once.",
    "progress": "A progress line while job.wait() blocks: auto (on a terminal only), always, never.",
    "budget_usd": "Refuse a submit or sweep whose estimated cost would pass this kernel's budget (USD; None: no budget).",
    "max_response_bytes": "Largest API answer accepted, decoded (bytes; a gzip bomb stops here).",
    "max_download_bytes": "Largest output file streamed to disk by save/auto-save (bytes).",
    "max_read_bytes": "Largest output Output.read()/to_pil() holds in memory (bytes).",
    "request_deadline": "Seconds one API request may take, body included.",
    "submit_deadline": "Seconds submit() may take as a whole, retries included.",
    "download_deadline": "Seconds one output download may take.",
    "autosave_deadline": "Seconds auto-saving one job's outputs may take after it completed.",
}


@dataclass
class Settings:
    """User settings, in one place (`%config RunComfyMagics.*` in a notebook forwards here; see SETTINGS_HELP)."""

    autosave_dir: str | None = None
    save_dir: str = "runcomfy_outputs"
    # Bounds against a hostile or broken server (README "What is guaranteed"; docs/threat-model.md).
    max_response_bytes: int = 8 * 1024 * 1024  # one API answer, decoded (a gzip bomb stops here)
    max_download_bytes: int = 2 * 1024 ** 3  # one output file streamed to disk (save, auto-save)
    max_read_bytes: int = 256 * 1024 * 1024  # one output read into memory by Output.read()/to_pil()
    request_deadline: float = 120.0  # seconds for one API request, body included (a slow drip ends here)
    submit_deadline: float = 180.0  # seconds for submit() as a whole, retries included
    download_deadline: float = 900.0  # seconds for one output download
    autosave_deadline: float = 900.0  # seconds for auto-saving one job's outputs after it completed
    validate: bool = True
    debug: bool = False
    max_in_flight: int = 4  # per sweep: submitted-and-unfinished jobs at once; the rest wait locally
    max_in_flight_total: int = 16  # across all sweeps of one client (protects the account's rate limit)
    budget_usd: float | None = None  # refuse a submit/sweep whose estimated cost would pass this kernel's budget
    progress: str = "auto"  # job.wait()'s progress line: "auto" (a terminal only) | "always" | "never"


settings = Settings(autosave_dir=os.environ.get("RUNCOMFY_NB_AUTOSAVE") or None,
                    progress=os.environ.get("RUNCOMFY_NB_PROGRESS", "").strip().lower() or "auto")
