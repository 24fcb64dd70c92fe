"""The layers are enforced: `lint-imports` (import-linter, contracts in .importlinter) must keep every contract.

Entry points → presentation → core → transport → base, imports only downward; the core's building blocks
independent of each other; nothing in the core or the simulator imports widgets, IPython or anywidget.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports(source: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the package found under `source` (the checkout, or a copy)."""
    exe = str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        exe = shutil.which("lint-imports") or exe
    env = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run([exe, "--no-cache", "--config", str(ROOT / ".importlinter")], cwd=source, env=env,
                          capture_output=True, text=True, timeout=300)


def test_every_import_contract_is_kept() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout and "broken" not in result.stdout.replace("0 broken", "")


def test_no_module_of_the_package_is_over_about_400_lines() -> None:
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines())
             for path in (ROOT / "runcomfy_nb").glob("*.py")}
    assert sizes and all(lines <= 420 for lines in sizes.values()), sizes


def test_an_upward_import_breaks_a_contract(tmp_path: Path) -> None:
    """The contracts bite: the core importing the widgets (as Job once did, to display itself) is refused."""
    copy = tmp_path / "runcomfy_nb"
    shutil.copytree(ROOT / "runcomfy_nb", copy, ignore=shutil.ignore_patterns("static", "schemas", "__pycache__"))
    shutil.copy(ROOT / "runcomfy_nb" / "schemas.py", copy / "schemas.py")
    job = copy / "_job.py"
    job.write_text(job.read_text(encoding="utf-8") + "\n\ndef _show(job):\n    from .widgets import show\n\n"
                   "    return show(job)\n", encoding="utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout[-4000:]
    assert "BROKEN" in result.stdout and "runcomfy_nb._job -> runcomfy_nb.widgets" in result.stdout
