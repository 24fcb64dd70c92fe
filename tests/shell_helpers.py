"""Running cells in IPython's global test shell as a kernel would (the `shell` and `ip` fixtures: conftest.py)."""

from __future__ import annotations

from typing import Any

from IPython.utils.capture import CapturedIO, capture_output


def run_cell(ip: Any, code: str) -> tuple[Any, CapturedIO]:
    """Run a cell; its exception (if any) is raised here; returns (result, captured displays)."""
    with capture_output() as captured:
        result = ip.run_cell(code, store_history=True)  # as a kernel does: each cell has its own count
    result.raise_error()
    return result.result, captured
