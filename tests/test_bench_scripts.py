"""The benchmark scripts run end to end (`--quick`: small counts, figures not checked: they are measured later,
on a quiet machine). Real simulators in subprocesses, loopback only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args], capture_output=True, text=True,
                          timeout=600, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_bench_polling_quick() -> None:
    out = run("bench_polling.py", "--quick")
    for needle in ("load average before", "fixed 3 s", "uniform 2-40 s", "busy queue", "runcomfy_nb",
                   "every 0.1 s", "every 0.5 s", "every 1.0 s", "every 2.0 s", "load average after"):
        assert needle in out, (needle, out)
    assert "nan" not in out, out


@pytest.mark.slow
def test_bench_scale_quick() -> None:
    out = run("bench_scale.py", "--quick")
    assert "submit 50: runcomfy_nb" in out and "plain httpx" in out, out
    assert "cancelled: 50 of 50" in out, out


@pytest.mark.slow
def test_bench_views_quick() -> None:
    out = run("bench_views.py", "--quick")
    assert "form, 20 runs: one run changes" in out and "sweep, 20 cells: one cell changes" in out, out
    assert "load average after" in out, out


@pytest.mark.slow  # a subprocess evaluating every scenario in virtual time (tests/test_polling.py checks the policy)
def test_eval_polling_prints_every_contender() -> None:
    out = run("eval_polling.py")
    assert out.count("runcomfy_nb") == 6 and out.count("every 1 s") == 6, out
