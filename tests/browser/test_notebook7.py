"""Notebook 7 (`jupyter notebook`, its own server): the quickstart-style run works there too, and so does the
static copy's <style> (Notebook 7 uses Lab's output area, so the same selectors apply)."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import QUICKSTART_CELL, quickstart_run

pytestmark = pytest.mark.browser


def test_quickstart_run_in_notebook7(notebook_server: Any, open_notebook: Any, bsim: Any) -> None:
    nb = open_notebook(notebook_server, "quickstart_nb7.ipynb", [QUICKSTART_CELL], ui="notebook")
    assert "/notebooks/" in nb.page.url and nb.page.locator("#jp-main-statusbar").count() == 0  # not Lab
    assert nb.page.locator(".jp-KernelName").inner_text() == "Python 3 (ipykernel)"
    quickstart_run(nb, bsim, "8_notebook7_quickstart")
