"""Defer the heavy parts that libraries import up front but we never use, so the first `%runcomfy` is fast.

`import httpx` loads its command-line client (click, rich, pygments: ~60 ms) for `httpx.main`; `import jsonschema`
loads optional format-checker helpers, one of which (rfc3987_syntax, installed with JupyterLab) builds a Lark
grammar at import: seconds. While such an import runs, each of these modules is replaced by a stand-in whose
functions load the real module on their first call; the stand-ins leave `sys.modules` right after, so any later
`import` gets the real module. Behaviour is unchanged; only the cost moves to the first real use (if any).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from collections.abc import Iterator
from importlib.util import find_spec
from typing import Any

# module -> the names its importers take from it (each is only ever called, never used as a class or value)
DEFERRED = {
    "httpx._main": ("main",),
    "rfc3987_syntax": ("is_valid_syntax",),
    "rfc3986_validator": ("validate_rfc3986",),
}


def _exists(name: str) -> bool:
    parent = name.rpartition(".")[0]
    if parent and parent not in sys.modules:
        return True  # checking would import the parent package now; a missing module fails on first call
    try:
        return find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _stand_in(name: str, attributes: tuple[str, ...]) -> types.ModuleType:
    module = types.ModuleType(name, f"stand-in for {name}, loaded on first use (runcomfy_nb.deferred_imports)")

    def proxy(attribute: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if sys.modules.get(name) is module:
                del sys.modules[name]
            return getattr(importlib.import_module(name), attribute)(*args, **kwargs)

        call.__name__ = call.__qualname__ = attribute
        return call

    for attribute in attributes:
        setattr(module, attribute, proxy(attribute))
    return module


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within the block, the modules in DEFERRED that are not loaded yet are stand-ins."""
    installed = {}
    for name, attributes in DEFERRED.items():
        if name not in sys.modules and _exists(name):
            installed[name] = sys.modules[name] = _stand_in(name, attributes)
    try:
        yield
    finally:
        for name, module in installed.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
