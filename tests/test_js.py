"""The JavaScript side: runs the JS test suite (node:test + jsdom) and checks that the committed bundles in
runcomfy_nb/static/ are exactly what `npm run build` makes from js/ today (a stale bundle fails)."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "runcomfy_nb" / "static"
BUILT = ("jobview.js", "form.js", "widgets.css", "sweepview.js", "compare.js", "history.js")


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """npm ci when the dev dependencies (esbuild, jsdom, pinned by package-lock.json) are not installed yet."""
    for tool in ("node", "npm"):
        assert shutil.which(tool), f"{tool} is needed for the JS tests (Node >= 20)"
    modules = ROOT / "node_modules"
    if not ((modules / "esbuild" / "package.json").exists() and (modules / "jsdom" / "package.json").exists()):
        done = _run(["npm", "ci", "--no-audit", "--no-fund"], timeout=600)
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return modules


def failures(tap: str) -> str:
    """The failing subtests of node's TAP output, each "not ok" line with its more indented details (else all)."""
    picked: list[str] = []
    depth: int | None = None
    for line in tap.splitlines():
        indent = len(line) - len(line.lstrip())
        if line.lstrip().startswith("not ok"):
            depth = indent
        elif depth is not None and (indent <= depth and line.strip()):
            depth = None
        if depth is not None:
            picked.append(line)
    return "\n".join(picked) or tap


def test_js_suite(node_modules: Path) -> None:
    done = _run(["npm", "test", "--silent"], timeout=600)
    assert done.returncode == 0, f"npm test failed (exit {done.returncode}):\n{failures(done.stdout)}\n{done.stderr}"


def test_committed_bundles_are_fresh(node_modules: Path, tmp_path: Path) -> None:
    done = _run(["node", "js/build.mjs", str(tmp_path)], timeout=300)
    assert done.returncode == 0, f"build failed:\n{done.stdout}\n{done.stderr}"
    fresh = sorted(p.name for p in tmp_path.iterdir())
    assert fresh == sorted(BUILT)
    stale = [name for name in BUILT if not (STATIC / name).exists() or not filecmp.cmp(tmp_path / name, STATIC / name, shallow=False)]
    assert not stale, f"runcomfy_nb/static/{', '.join(stale)} out of date with js/: run `npm run build` and commit the result"
