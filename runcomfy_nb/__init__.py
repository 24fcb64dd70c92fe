"""runcomfy_nb — the notebook-native client for the RunComfy Model API.

    import runcomfy_nb as rc
    job = rc.Client().submit("wan-ai/wan-2-5/text-to-image", prompt="a red fox at dawn")
    job            # the live JobView in a notebook
    job.wait()     # or: await job

Everything is imported lazily so that `%load_ext runcomfy_nb` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Client": "api", "attach": "api", "jobs": "api", "models": "api", "schema": "api", "submit": "api",
    "default_client": "api", "info": "model_info", "settings": "config", "Job": "job", "Output": "outputs",
    "JobView": "widgets", "ModelForm": "widgets", "form": "widgets",
    "RunComfyError": "errors", "InputValidationError": "errors", "MediaInputError": "errors",
    "APIError": "errors", "AuthError": "errors", "NotFoundError": "errors", "RateLimitedError": "errors",
    "ServerError": "errors", "ServerValidationError": "errors", "SubmitUncertainError": "errors",
    "JobFailedError": "errors", "JobCancelledError": "errors", "JobTimeoutError": "errors",
    "OutputExpiredError": "errors", "ConfigError": "errors", "InsufficientBalanceError": "errors",
    "sweep": "sweeps", "vary": "sweeps", "Sweep": "sweeps", "spend": "costs", "BudgetExceededError": "costs",
    "seed_control": "seeds", "compare": "sweepview", "SweepView": "sweepview",
}
__all__ = [*_EXPORTS, "sim", "load_ipython_extension", "unload_ipython_extension", "__version__"]

if TYPE_CHECKING:
    from . import sim  # noqa: F401
    from .api import Client, attach, default_client, jobs, models, schema, submit  # noqa: F401
    from .config import settings  # noqa: F401
    from .errors import *  # noqa: F403
    from .job import Job  # noqa: F401
    from .model_info import info  # noqa: F401
    from .outputs import Output  # noqa: F401
    from .widgets import JobView, ModelForm, form  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:  # a submodule: rc.sim, rc.config, …
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError:
            raise AttributeError(f"module 'runcomfy_nb' has no attribute {name!r}") from None
    from .deferred_imports import deferred

    with deferred():  # rc.Client and friends: without httpx's CLI and jsonschema's unused grammar
        value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def load_ipython_extension(ipython: Any) -> None:
    from .completion import register
    from .magics import RunComfyMagics

    ipython.register_magics(RunComfyMagics)
    register(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    pass
