"""Run the quickstart notebook: headless by default (prints what happened, writes HTML), or `--lab` to open it.

With no RUNCOMFY_API_TOKEN the notebook starts the offline simulator itself; with a token it uses the real API
(and spends credits), so a real run asks first unless --yes is given.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"
OUT = ROOT / "build"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lab", action="store_true", help="open the notebook in JupyterLab instead")
    parser.add_argument("--yes", action="store_true", help="with a token set: run against the real API without asking")
    args = parser.parse_args()
    from runcomfy_nb.config import token_from_env

    if args.lab:
        return subprocess.call([sys.executable, "-m", "jupyter", "lab", str(NOTEBOOK),
                                *(["--allow-root"] if os.geteuid() == 0 else [])])
    if token_from_env() and not args.yes:
        answer = input("RUNCOMFY_API_TOKEN is set: run the quickstart against the real API (spends credits)? [y/N] ")
        if answer.strip().lower() != "y":
            return 1
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    print(f"Executing {NOTEBOOK.relative_to(ROOT)} against "
          f"{'the RunComfy API' if token_from_env() else 'the offline simulator (no token set)'} …", flush=True)
    OUT.mkdir(exist_ok=True)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(OUT)}}).execute()
    nbformat.write(notebook, OUT / "quickstart.executed.ipynb")
    body, _ = HTMLExporter().from_notebook_node(notebook)
    (OUT / "quickstart.html").write_text(body, encoding="utf-8")
    last = "".join(o.get("text", "") for o in notebook.cells[-1].get("outputs", []) if o.get("output_type") == "stream")
    print(last.strip())
    print(f"Done. Executed notebook: {OUT / 'quickstart.executed.ipynb'}\nHTML with the results: {OUT / 'quickstart.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
