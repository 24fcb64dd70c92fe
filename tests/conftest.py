"""Shared fixtures: a real simulator over loopback, a throw-away journal, a client pointed at the simulator."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TEST_TOKEN = "rc-test-token-7f3a9c"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def pytest_configure(config: pytest.Config) -> None:
    """Once per run, before any test: test-artifacts/browser/ is emptied for this run's screenshots and logs. Under
    pytest-xdist only the controller does it (a worker has `workerinput`), so no worker deletes another's files."""
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quieter kernels in kernel tests
    if not hasattr(config, "workerinput"):
        shutil.rmtree(ARTIFACTS / "browser", ignore_errors=True)


def until(predicate: Any, deadline: float = 60.0) -> None:
    """Hang-catcher: wait for a state, fail after a generous deadline."""
    end = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("state not reached")
        time.sleep(0.02)


def send(view: Any, message: dict[str, Any]) -> None:
    """A message from a widget's front end, as the kernel hands it to the view."""
    view._on_front_end_message(view, message, [])

@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own journal and working directory (where a notebook's outputs are saved) and never
    sees a real token."""
    home = tmp_path / "rcnb-home"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUNCOMFY_NB_HOME", str(home))
    for name in ("RUNCOMFY_API_TOKEN", "RUNCOMFY_API_KEY", "RUNCOMFY_TOKEN", "RUNCOMFY_API_BASE",
                 "RUNCOMFY_MODEL_API_BASE", "RUNCOMFY_NB_AUTOSAVE"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(autouse=True)
def plain_process_unless_a_shell(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """IPython's global test shell lives on once a test made it; a later test must not look like a notebook because
    of it (saving beside the notebook would turn on). Tests that use a `shell` fixture keep the real answer."""
    if "shell" not in request.fixturenames:
        from runcomfy_nb import _hooks

        monkeypatch.setattr(_hooks, "current_shell", lambda: None)


def polling_left_behind() -> list[str]:
    """Close the default clients (rc.*, magics, forms), give ending tasks a moment, then cancel and name every
    job task still alive: a client some test forgot to close."""
    import sys

    if "runcomfy_nb._loop" not in sys.modules:
        return []
    from runcomfy_nb import _client, _loop

    _client.close_default_clients()
    deadline = time.monotonic() + 10  # a hang-catching deadline, not a timing assertion
    while _loop.live_tasks() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [task.get_name() for task in _loop.live_tasks()]
    _loop.cancel_owned(None, timeout=60)  # a hang-catching deadline, generous for a busy machine
    return left


@pytest.fixture(autouse=True)
def no_polling_left_behind() -> Iterator[None]:
    """A client's polling ends with the test that made it; a job task that outlives its test fails that test."""
    yield
    left = polling_left_behind()
    if left:
        pytest.fail(f"{len(left)} polling task(s) outlived the test (close its client): {left[:3]}")


@pytest.fixture(scope="module")
def shell() -> Any:
    """IPython's global test shell (one per process) with rich output, as in Jupyter, and the extension loaded."""
    from IPython.testing import globalipapp

    ip = globalipapp.start_ipython() or globalipapp.get_ipython()
    ip.display_formatter.active_types = list(ip.display_formatter.format_types)
    ip.run_line_magic("load_ext", "runcomfy_nb")
    return ip


@pytest.fixture
def ip(shell: Any, sim: Any) -> Iterator[Any]:
    """The shell with the simulator turned on (`%runcomfy sim on`), and off again after the test."""
    from runcomfy_nb import config

    config.set_simulator(sim.base_url)
    yield shell
    config.clear_simulator()


@pytest.fixture(scope="session")
def simulator() -> Iterator[object]:
    """One simulator for the session (fast: time_scale 0.1), reset before each test that uses it."""
    from runcomfy_nb import sim

    server = sim.start(port=0, time_scale=0.1, workers=2, make_default=False)
    yield server
    server.stop()


@pytest.fixture
def sim(simulator: object) -> object:
    simulator.reset()
    simulator.configure(time_scale=0.1, workers=2, paused=False, faults=None, fail_next={},
                        result_unfinished="state", output_ttl=None)
    return simulator


@pytest.fixture
def client(sim: object) -> Iterator[object]:
    import runcomfy_nb as rc

    c = rc.Client(token=TEST_TOKEN, base_url=sim.base_url)
    yield c
    c.close()


