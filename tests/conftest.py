"""Shared fixtures: a real simulator over loopback, a throw-away journal, a client pointed at the simulator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

TEST_TOKEN = "rc-test-token-7f3a9c"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own journal and never sees a real token."""
    home = tmp_path / "rcnb-home"
    monkeypatch.setenv("RUNCOMFY_NB_HOME", str(home))
    for name in ("RUNCOMFY_API_TOKEN", "RUNCOMFY_API_KEY", "RUNCOMFY_TOKEN", "RUNCOMFY_API_BASE",
                 "RUNCOMFY_MODEL_API_BASE", "RUNCOMFY_NB_AUTOSAVE"):
        monkeypatch.delenv(name, raising=False)
    return home


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


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quieter kernels in kernel tests
