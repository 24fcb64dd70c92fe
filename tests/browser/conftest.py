"""Real-browser fixtures: one JupyterLab 4 server for the package (Notebook 7 on demand), Debian's Chromium driven by
Playwright's Python package (sync API), and helpers to run notebook cells from the page.

Everything runs offline on loopback. The simulator runs in the test process (the session `simulator` fixture of
tests/conftest.py), so tests read its counters and turn its knobs; notebook cells point at it with
`config.set_simulator(URL)` (what `%runcomfy sim on` does). Servers get throw-away config, runtime, settings,
workspace and signature dirs, but the installed kernelspec and lab extensions are found as usual. Whatever a fixture
starts (server, kernels, browser) is stopped even when a test fails. A missing Chromium fails the suite loudly:
`./dev test` installs it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    SETUP_CELL,
    STATUS_LOG_SCRIPT,
    VIEWPORT,
    JupyterServer,
    NotebookPage,
)


@pytest.fixture(scope="package", autouse=True)
def artifacts() -> Path:
    """test-artifacts/browser/ holds this run's screenshots and server logs only (emptied once per run by
    tests/conftest.py's pytest_configure, so parallel workers keep each other's files)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
def chromium() -> str:
    """The Chromium binary. Missing is a failure, not a skip: CI installs it through `./dev test`."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium "
                    "(`apt-get update && apt-get install -y chromium`, which `./dev test` does), "
                    "or RCNB_CHROMIUM=/path/to/chromium.", pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="package")
def browser(chromium: str) -> Iterator[Any]:
    # Package scope, like the servers: Playwright's sync API keeps an asyncio loop running on this thread while it
    # is started, so it must be stopped before the rest of the suite (where asyncio.run() would refuse to run).
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="package")
def lab_server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = JupyterServer("lab", tmp_path_factory.mktemp("lab"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="package")
def notebook_server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = JupyterServer("notebook", tmp_path_factory.mktemp("notebook7"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def open_notebook(browser: Any, simulator: Any, request: pytest.FixtureRequest
                  ) -> Iterator[Callable[..., NotebookPage]]:
    """open_notebook(server, name, cells, ui="lab"): writes the notebook (a setup cell pointing at the simulator,
    then `cells`), opens it in a fresh browser context and waits for the kernel. Everything is closed after the
    test, and every kernel the server runs is shut down."""
    contexts: list[Any] = []
    servers: list[JupyterServer] = []

    def _open(server: JupyterServer, name: str, cells: list[str], ui: str = "lab") -> NotebookPage:
        server.write_notebook(name, [SETUP_CELL.format(url=simulator.base_url), *cells])
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        servers.append(server)
        context.add_init_script(STATUS_LOG_SCRIPT)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return NotebookPage(page, server, name, ui).open()

    yield _open
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for index, context in enumerate(contexts):
        if failed:
            for p in context.pages:
                with contextlib.suppress(Exception):
                    p.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}-{index}.png"))
        context.close()
    for server in servers:
        server.shutdown_kernels()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def bsim(sim: Any) -> Any:
    """The session simulator, reset, with the knobs each browser test starts from."""
    sim.configure(time_scale=0.5, workers=2, paused=False, faults=None, fail_next={}, fail_next_kind="503")
    return sim
