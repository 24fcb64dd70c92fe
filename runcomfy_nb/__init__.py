"""runcomfy_nb — the notebook-native client for the RunComfy Model API.

    import runcomfy_nb as rc
    job = rc.Client().submit("wan-ai/wan-2-5/text-to-image", prompt="a red fox at dawn")
    job            # the live JobView in a notebook
    job.wait()     # or: await job

Everything is imported lazily so that `%load_ext runcomfy_nb` stays cheap. This module is the top of the
layers (docs/architecture.md): it names every public object in one table and attaches the presentation
layer (widgets) to the core's display hook.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from . import _hooks
from ._version import __version__

# public name -> the module that defines it (the only table of the package's face)
_EXPORTS = {
    "Client": "_client", "default_client": "_client", "RetryPolicy": "_http",
    "submit": "_shortcuts", "models": "_shortcuts", "schema": "_shortcuts", "jobs": "_shortcuts",
    "attach": "_shortcuts", "info": "model_info",
    "Job": "_job", "Output": "_outputs", "settings": "config",
    "JobView": "widgets", "ModelForm": "modelform", "form": "modelform",
    "RunComfyError": "errors", "InputValidationError": "errors", "MediaInputError": "errors",
    "APIError": "errors", "AuthError": "errors", "NotFoundError": "errors", "RateLimitedError": "errors",
    "ServerError": "errors", "ServerValidationError": "errors", "SubmitUncertainError": "errors",
    "JobFailedError": "errors", "JobCancelledError": "errors", "JobTimeoutError": "errors",
    "OutputExpiredError": "errors", "ConfigError": "errors", "InsufficientBalanceError": "errors",
    "sweep": "sweeps", "vary": "sweeps", "Sweep": "sweeps", "spend": "costs", "BudgetExceededError": "costs",
    "seed_control": "seeds", "compare": "sweepview", "SweepView": "sweepview",
    "load_params": "params", "ParamsError": "params", "history": "historyview", "HistoryView": "historyview",
}
__all__ = [*_EXPORTS, "sim", "load_ipython_extension", "unload_ipython_extension", "__version__"]

if TYPE_CHECKING:
    from . import sim  # noqa: F401
    from ._client import Client, default_client  # noqa: F401
    from ._http import RetryPolicy  # noqa: F401
    from ._job import Job  # noqa: F401
    from ._outputs import Output  # noqa: F401
    from ._shortcuts import attach, jobs, models, schema, submit  # noqa: F401
    from .config import settings  # noqa: F401
    from .costs import BudgetExceededError, spend  # noqa: F401
    from .errors import *  # noqa: F403
    from .historyview import HistoryView, history  # noqa: F401
    from .model_info import info  # noqa: F401
    from .modelform import ModelForm, form  # noqa: F401
    from .params import ParamsError, load_params  # noqa: F401
    from .seeds import seed_control  # noqa: F401
    from .sweeps import Sweep, sweep, vary  # noqa: F401
    from .sweepview import SweepView, compare  # noqa: F401
    from .widgets import JobView  # noqa: F401


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


def _presenter() -> Any:
    from . import widgets  # imported on first display: anywidget stays out of plain scripts

    return widgets


def _sweep_presenter() -> Any:
    from . import sweepview

    return sweepview


def _text_view() -> Any:
    from . import textview

    return textview


def _shell() -> Any:
    ipython = sys.modules.get("IPython")  # not imported: no IPython shell runs this process
    return ipython.get_ipython() if ipython is not None else None


_hooks.presenter = _presenter
_hooks.shell = _shell
_hooks.sweep_presenter = _sweep_presenter
_hooks.text_view = _text_view


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext runcomfy_nb`: registers the %runcomfy magics and their tab completion."""
    from .completion import register
    from .magics import RunComfyMagics

    ipython.register_magics(RunComfyMagics)
    register(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """`%unload_ext runcomfy_nb`: nothing to undo (the magics stay until the kernel restarts)."""
