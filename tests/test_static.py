"""The static checks run wherever the tests run: ruff over the checkout and mypy over the package (its config is in
pyproject.toml). Each runs as a subprocess of the interpreter running the tests, so it checks against exactly the
installed (locked) dependencies, and a finding fails the test with the checker's own report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def check(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(args)} found problems:\n{done.stdout}{done.stderr}"


def test_ruff_finds_nothing() -> None:
    check("ruff", "check", "--no-cache", ".")


def test_mypy_finds_nothing_in_the_package() -> None:
    check("mypy", "runcomfy_nb")


def test_the_package_declares_its_types() -> None:
    assert (ROOT / "runcomfy_nb" / "py.typed").is_file()  # PEP 561: without it users' type checkers see Any
